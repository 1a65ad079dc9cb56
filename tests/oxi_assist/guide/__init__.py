"""Tests of the guidance engine and the guidance files it reads (oxi_assist/guide/)."""
