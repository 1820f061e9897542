"""The progress ledger (after Magentic-One): the manager takes stock every round.

Each round answers four questions: is the request satisfied? is the team in a
loop? is progress being made? what is the next instruction? A round with no
progress is a stalled round; after `stall_limit` stalled rounds in a row the
manager replans. A worker's own loop detector (its guard's nudges) counts as
a loop signal here, and so does the same verification failure coming back.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class LedgerEntry:
    round: int
    satisfied: bool
    in_loop: bool
    progress: bool
    next_instruction: str
    stalled_rounds: int
    replan: bool
    states: dict[str, str]

    def record(self) -> dict:
        return {"kind": "ledger", **asdict(self)}


@dataclass
class ProgressLedger:
    stall_limit: int = 2
    entries: list[LedgerEntry] = field(default_factory=list)
    _seen_failures: dict[str, list[str]] = field(default_factory=dict)
    _last_states: dict[str, str] = field(default_factory=dict)
    _stalled: int = 0

    def update(self, states: dict[str, str], failures: dict[str, list[str]],
               loop_signals: dict[str, int], next_instruction: str) -> LedgerEntry:
        """One round: `states` per subtask, this round's verification `failures`, workers' loop nudges."""
        satisfied = bool(states) and all(s == "verified" for s in states.values())
        repeated = any(f and f == self._seen_failures.get(sid) for sid, f in failures.items())
        in_loop = repeated or any(n > 0 for n in loop_signals.values())
        progress = any(s in ("verified", "failed") and self._last_states.get(sid) != s
                       for sid, s in states.items()) or (bool(failures) and not repeated)
        self._stalled = 0 if progress or satisfied else self._stalled + 1
        replan = self._stalled >= self.stall_limit
        if replan:
            self._stalled = 0
        for sid, f in failures.items():
            if f:
                self._seen_failures[sid] = f
        self._last_states = dict(states)
        entry = LedgerEntry(len(self.entries) + 1, satisfied, in_loop, progress,
                            "the request is satisfied" if satisfied else next_instruction,
                            self._stalled if not replan else self.stall_limit, replan, dict(states))
        self.entries.append(entry)
        return entry
