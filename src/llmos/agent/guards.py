"""Staying on course: step and time limits, loop and no-progress detection.

A loop is the same action (hash of what it does, not the model's stated
reason) taken on the same page state (hash of url, elements, values, text)
again and again. At `loop_repeats` occurrences within the recent window the
guard nudges: the action is not done and the model is told so. If it repeats
once more after `max_nudges` nudges, the session fails.

No progress is a run of steps that reach no page state seen before; it too
nudges first, then fails.
"""
from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass, field
from enum import Enum

from llmos.config import require_at_least


class Verdict(str, Enum):
    OK = "ok"
    NUDGE = "nudge"
    FAIL = "fail"


@dataclass
class GuardConfig:
    loop_window: int = 20        # recent steps the loop detector remembers
    loop_repeats: int = 3        # the same (action, state) this often is a loop
    max_nudges: int = 1          # nudges before a repeat fails the session
    no_progress_steps: int = 10  # steps without a new page state before a nudge
    no_progress_grace: int = 3   # further steps after that nudge before failing

    def __post_init__(self) -> None:
        require_at_least(self, 1, "loop_window", "no_progress_steps")
        require_at_least(self, 2, "loop_repeats")
        require_at_least(self, 0, "max_nudges", "no_progress_grace")


@dataclass
class CourseGuard:
    config: GuardConfig = field(default_factory=GuardConfig)
    max_steps: int = 30
    max_seconds: float = 600.0
    started: float = field(default_factory=time.monotonic)
    _recent: deque = field(default_factory=deque)
    _states: set = field(default_factory=set)
    _since_new_state: int = 0
    loop_nudges: int = 0
    progress_nudged: bool = False

    def limit_reached(self, steps_taken: int) -> str | None:
        """A reason to stop before the next step, or None."""
        if steps_taken >= self.max_steps:
            return f"step limit reached ({self.max_steps} steps) without finishing the task"
        elapsed = time.monotonic() - self.started
        if elapsed > self.max_seconds:
            return f"time limit reached ({elapsed:.0f}s > {self.max_seconds:.0f}s)"
        return None

    def see_state(self, state: str) -> tuple[Verdict, str]:
        """Record an observed page state; judge progress."""
        if state not in self._states:
            self._states.add(state)
            self._since_new_state = 0
            return Verdict.OK, ""
        self._since_new_state += 1
        n = self._since_new_state
        cfg = self.config
        if self.progress_nudged and n >= cfg.no_progress_steps + cfg.no_progress_grace:
            return Verdict.FAIL, f"no progress: {n} steps without reaching a new page state"
        if not self.progress_nudged and n >= cfg.no_progress_steps:
            self.progress_nudged = True
            return Verdict.NUDGE, (f"The last {n} steps reached no new page state. Change approach, "
                                   "or finish with done (success false) or ask_user.")
        return Verdict.OK, ""

    def see_action(self, action_key: str, state: str) -> tuple[Verdict, str]:
        """Record an action about to be taken on `state`; judge whether it is a loop."""
        pair = (action_key, state)
        self._recent.append(pair)
        while len(self._recent) > self.config.loop_window:
            self._recent.popleft()
        count = Counter(self._recent)[pair]
        if count < self.config.loop_repeats:
            return Verdict.OK, ""
        if self.loop_nudges < self.config.max_nudges:
            self.loop_nudges += 1
            return Verdict.NUDGE, (f"You chose the same action on the same page {count} times; "
                                   "it is not working, so it was not done again. Try something "
                                   "different, or finish with done (success false) or ask_user.")
        return Verdict.FAIL, f"loop: the same action on the same page state {count} times"
