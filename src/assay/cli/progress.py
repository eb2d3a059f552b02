"""A rich progress bar for scans: done/total, rate, errors, ETA."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from assay.core.records import Status


class RichProgress:
    """Implements the engine's ``ProgressSink`` on a rich progress bar."""

    def __init__(self, console: Console, *, label: str = "scanning") -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:>7} att/s"),
            TextColumn("[red]{task.fields[errors]} errors[/red]"),
            TextColumn("[yellow]{task.fields[unscored]} unscored[/yellow]"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._label = label
        self._task: TaskID | None = None
        self._errors = 0
        self._unscored = 0

    def __enter__(self) -> RichProgress:
        self._progress.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.__exit__(exc_type, exc, tb)

    def start(self, total: int, done: int) -> None:
        self._task = self._progress.add_task(
            self._label, total=total, completed=done, rate="-", errors=0, unscored=0
        )

    def advance(self, status: Status) -> None:
        if self._task is None:
            return
        if status is Status.ERROR:
            self._errors += 1
        elif status is Status.UNSCORED:
            self._unscored += 1
        task = self._progress.tasks[self._task]
        speed = task.speed
        self._progress.update(
            self._task,
            advance=1,
            errors=self._errors,
            unscored=self._unscored,
            rate=f"{speed:.1f}" if speed else "-",
        )
