"""The guide: walks a responder through a guidance file (guidance/*.toml).

The engine (`engine.Guide`) and what it is built from: the file's data model and its checker,
the conditions and words a file may use, the safety rules every file is held to, the timers
and the breath counter. Import from the module that holds a name; this package re-exports
nothing.
"""
