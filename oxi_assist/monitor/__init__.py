"""The live Monitor: readings in, vitals, alarms and desaturation events out (see monitor.py)."""
