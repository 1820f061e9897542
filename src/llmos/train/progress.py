"""The training progress bar: step, loss, tokens per second and time left."""
from __future__ import annotations

import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class TrainProgress:
    """A rich progress bar (when enabled) and log lines (when `log`). Use as a context manager."""

    def __init__(self, total: int, start: int = 0, enabled: bool = True, console: Console | None = None,
                 description: str = "training", log: bool = True) -> None:
        self.enabled = enabled
        self.log = log          # print() lines even without the bar (rank 0 only, under torchrun)
        self.console = console or Console(soft_wrap=True)
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("loss [cyan]{task.fields[loss]}"), TextColumn("{task.fields[speed]} tok/s"),
            TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
            console=self.console, disable=not enabled, refresh_per_second=4)
        self.task = self.progress.add_task(description, total=total, completed=start, loss="-", speed="-")
        self._t0, self._tokens = time.perf_counter(), 0

    def __enter__(self) -> "TrainProgress":
        self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)

    def update(self, steps: int, tokens: int, loss: float | None) -> float:
        """Advance by `steps` that processed `tokens`; returns tokens/s since the bar started."""
        self._tokens += tokens
        speed = self._tokens / max(time.perf_counter() - self._t0, 1e-9)
        fields = {"speed": f"{speed:,.0f}"}
        if loss is not None:
            fields["loss"] = f"{loss:.4f}"
        self.progress.update(self.task, advance=steps, **fields)
        return speed

    def print(self, message: str) -> None:
        if self.log:
            self.progress.console.print(message)
