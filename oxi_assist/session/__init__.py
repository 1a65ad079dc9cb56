"""One live response: a source → Monitor → Guide → recorder, and what the screen needs.

`Session` (session.py) is the one object the screen and the headless commands drive; the
modules beside it each hold one of its jobs (see session.py's docstring for the API).
"""

from oxi_assist.session.log import LogLine
from oxi_assist.session.session import ActionRecord, Session
from oxi_assist.session.simulator import TRAINER_CUES
from oxi_assist.session.traces import PlethHistory, TrendHistory

__all__ = ["TRAINER_CUES", "ActionRecord", "LogLine", "PlethHistory", "Session",
           "TrendHistory"]
