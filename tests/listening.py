"""Waiting for what PostgreSQL's notifications make a process do (irt/listening.py): within a deadline, never forever."""

import time

from irt.listening import ALIVE_FOR, PING_CHANNEL, listener, notify


def until(condition, what: str, seconds: float = ALIVE_FOR + 2) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(0.01)


def settled() -> None:
    """Wait until the listener has heard every notification committed so far (PostgreSQL delivers them in commit order)."""
    heard_before = listener._alive_until
    notify(PING_CHANNEL, "ping")
    until(lambda: listener._alive_until > heard_before, "the listener hears a ping sent after every change")
