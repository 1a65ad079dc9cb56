"""How the live app ends: `q` asks first (answered with E, never `q` again), then the debrief;
SIGTERM and SIGHUP end the session with its recording closed and saying why; a failure or a
plain close ends it with the reason."""

from __future__ import annotations

import asyncio
import contextlib
import signal

from oxi_assist.actions import Action
from oxi_assist.ui.confirm import ConfirmScreen
from oxi_assist.ui.live_app_base import LiveAppBase

#: Signals that end the app cleanly, and the reason the recording's end record gives.
ENDING_SIGNALS: tuple[tuple[signal.Signals, str], ...] = tuple(
    (getattr(signal, name), why) for name, why in (("SIGTERM", "terminated"),
                                                   ("SIGHUP", "hang-up"))
    if hasattr(signal, name))

#: The key that ends a response from the confirmation (a capital: never the `q` pressed twice).
END_KEY = "E"


class Ending(LiveAppBase):
    """Ending the session, asked or not (see the module docstring)."""

    def action_end(self) -> None:
        """q: asks whether to end (never ends on one press), then the debrief."""
        s = self.session
        if s is None or s.closed:
            self._after_end()
            return
        if isinstance(self.screen, ConfirmScreen):
            return
        if s.response_active:
            question = "End this response?"
            detail = ("The response is still under way. Ending it stops the guidance and the "
                      "timers and opens the debrief.")
            yes = "End response"
        else:
            question = "End this session?"
            detail = "The guidance and the timers stop and the debrief opens."
            yes = "End session"
        self.push_screen(ConfirmScreen(question, detail, yes=yes, yes_key=END_KEY),
                         self._end_answer)

    async def action_quit(self) -> None:
        """ctrl+q and the palette's "Quit" ask first too while a session runs."""
        s = self.session
        if s is not None and not s.closed:
            self.action_end()
            return
        self.exit(0)

    def _end_answer(self, yes: bool | None) -> None:
        if not yes:
            return
        s = self.session
        if s is not None and not s.closed:
            s.on_action(Action.END)
            s.stop()
            s.close("responder ended the session")
            self.end_reason = "ended"
        self._after_end()

    def _after_end(self) -> None:
        if not self.debrief_on_end:
            self.exit(0)
            return
        from oxi_assist.ui.debrief_screen import DebriefScreen

        self.push_screen(DebriefScreen.for_session(self.session, ask_to_leave=True),
                         lambda _: self.exit(0))

    # -- signals and failures ---------------------------------------------------------------

    def _catch_ending_signals(self) -> None:
        """SIGTERM (a shutdown, `kill`) and SIGHUP (the terminal closed) end the session with
        its recording closed and saying why, instead of leaving it "interrupted"."""
        loop = asyncio.get_running_loop()
        for sig, why in ENDING_SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self.end_by_signal, int(sig), why)

    def end_by_signal(self, signum: int, why: str) -> None:
        s = self.session
        if s is not None and not s.closed:
            s.stop()
            s.close(why)
        self.end_reason = why
        self.exit(return_code=128 + signum)

    def _close_reason(self) -> str:
        """Why the app is closing with the session still open: a failure of ours (Textual keeps
        the exception that ended the app and sets a non-zero return code) or a plain close."""
        err = self._exception
        if err is not None:
            return f"failed: {type(err).__name__}: {err}"
        if self.return_code:
            return f"failed (exit code {self.return_code})"
        return "app closed"

    async def on_unmount(self) -> None:
        s = self.session
        if s is not None and not s.closed:
            s.stop()
            s.close(self._close_reason())
