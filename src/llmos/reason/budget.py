"""What a reasoning run may spend: model calls, generated tokens, wall time.

    budget = Budget(max_calls=20, max_tokens=4000, max_seconds=60)

The run's `Context` checks the budget before every model call and raises
`BudgetExhausted` when any limit is reached; a strategy then stops and returns
the best answer it has so far, marked as cut short. The token limit is also
enforced inside a call: its `max_tokens` is lowered to what is left.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field


class BudgetExhausted(Exception):
    """A budget limit was reached; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Budget:
    max_calls: int | None = None
    max_tokens: int | None = None          # completion tokens over all samples of all calls
    max_seconds: float | None = None

    def __post_init__(self) -> None:
        for name in ("max_calls", "max_tokens", "max_seconds"):
            v = getattr(self, name)
            if v is not None and v <= 0:
                raise ValueError(f"budget {name} must be > 0 (or unset), got {v}")


@dataclass
class Spent:
    calls: int = 0
    tokens: int = 0
    seconds: float = 0.0
    started: float = field(default_factory=time.monotonic, repr=False)

    def tick(self) -> None:
        self.seconds = time.monotonic() - self.started

    def to_dict(self) -> dict:
        self.tick()
        d = asdict(self)
        d.pop("started")
        d["seconds"] = round(d["seconds"], 3)
        return d


def check(budget: Budget, spent: Spent) -> None:
    """Raise BudgetExhausted when the next call would go past a limit."""
    spent.tick()
    if budget.max_calls is not None and spent.calls >= budget.max_calls:
        raise BudgetExhausted(f"the budget of {budget.max_calls} model calls is spent")
    if budget.max_tokens is not None and spent.tokens >= budget.max_tokens:
        raise BudgetExhausted(f"the budget of {budget.max_tokens} tokens is spent ({spent.tokens} used)")
    if budget.max_seconds is not None and spent.seconds >= budget.max_seconds:
        raise BudgetExhausted(f"the budget of {budget.max_seconds:g} s is spent ({spent.seconds:.1f} s)")


def tokens_left(budget: Budget, spent: Spent) -> int | None:
    return None if budget.max_tokens is None else budget.max_tokens - spent.tokens
