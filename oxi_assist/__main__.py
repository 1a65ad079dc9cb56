import sys

from oxi_assist.cli import main

sys.exit(main())
