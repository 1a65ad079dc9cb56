"""The Textual terminal UI: live monitor, guidance, trainer controls and debrief.

`app.OxiApp` holds the App; each widget group lives in its own module and draws from a
`model.ScreenModel` snapshot, so widgets never reach into the session directly and the screen
can be tested from small fixtures.
"""
