"""When a station publishes its status and its saved state.

The status goes out about once a second (`STATUS_EVERY`). The saved state (retained: what a
restarted station is rebuilt from) goes out at once after a trainee's action or an applied
command (`urgent`), otherwise at most every `STATE_MIN_S` while something changed (breath taps,
alarms, steps: `dirty`) and every `STATE_EVERY` s while the patient runs. So a station that
crashes loses at most its last second of breath taps.
"""

from __future__ import annotations

from drivers.clock import Clock
from oxi_assist.classroom.link import Publisher
from oxi_assist.classroom.messages import MessageError, StationState, StationStatus, encode

STATUS_EVERY = 1.0
STATE_EVERY = 5.0
STATE_MIN_S = 1.0


class ReportSchedule:
    """Publishes the status and the saved state when they are due (see the module
    docstring)."""

    def __init__(self, status_topic: str, state_topic: str, clock: Clock,
                 publisher: Publisher) -> None:
        self.status_topic = status_topic
        self.state_topic = state_topic
        self.clock = clock
        self.pub = publisher
        self.status_at = -1e18
        self.state_at = -1e18
        self.dirty = False  # something changed since the saved state went out
        self.urgent = False  # the saved state goes out at the next tick
        self.sent = 0.0  # `sent` of the last saved state published

    def status_due(self) -> bool:
        return self.clock.now() - self.status_at >= STATUS_EVERY

    def state_due(self, *, running: bool) -> bool:
        since = self.clock.now() - self.state_at
        return self.urgent or (self.dirty and since >= STATE_MIN_S) or (
            running and since >= STATE_EVERY)

    def publish_status(self, status: StationStatus) -> None:
        self.status_at = self.clock.now()
        self.pub.publish(self.status_topic, encode(status), qos=0)

    def publish_state(self, st: StationState) -> None:
        self.state_at = self.clock.now()
        self.dirty = self.urgent = False
        self.sent = round(st.sent, 4)
        try:
            data = encode(st)
        except MessageError:  # over the limit: the oldest actions give way
            data = encode(StationState(**{**st.__dict__, "actions": st.actions[-50:],
                                          "outbox": st.outbox[-16:]}))
        self.pub.publish(self.state_topic, data, qos=1, retain=True)

    def is_older(self, st: StationState) -> bool:
        """Whether a saved state heard back is older than the last one published (the
        trainer republishing what it had after a broker restart): ours must go out again."""
        return st.sent < self.sent - 1e-3
