"""Who may use the bot, and how fast."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable


class Access:
    """An allowlist of user and chat ids (empty: everyone), and the admins who may /reload."""

    def __init__(self, allowed: Iterable[int], admins: Iterable[int]) -> None:
        self.allowed = frozenset(allowed)
        self.admins = frozenset(admins)

    def admits(self, user_id: int | None, chat_id: int | None) -> bool:
        if not self.allowed:
            return True
        return user_id in self.allowed or chat_id in self.allowed or user_id in self.admins

    def is_admin(self, user_id: int | None) -> bool:
        return user_id in self.admins


class FloodGuard:
    """At most ``limit`` questions per user within ``window`` seconds (a sliding window)."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._seen: dict[int, deque[float]] = {}
        self._warned: set[int] = set()

    def check(self, user_id: int) -> tuple[bool, bool, float]:
        """``(allowed, warn_now, seconds_to_wait)``; a throttled user is warned once per flood."""
        now = self._clock()
        times = self._seen.setdefault(user_id, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        if len(times) < self.limit:
            times.append(now)
            self._warned.discard(user_id)
            return True, False, 0.0
        wait = self.window - (now - times[0])
        warn = user_id not in self._warned
        self._warned.add(user_id)
        return False, warn, max(wait, 0.0)
