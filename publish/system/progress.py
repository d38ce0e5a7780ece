"""How a build tells its progress: one line on a terminal, erased in place; nothing anywhere else."""
from __future__ import annotations


class Progress:
    """The build's progress; this one shows nothing (not a terminal, or a caller that wants quiet)."""

    def stage(self, name: str, total: float | None = None, unit: str = "") -> None:
        """Begin a stage of the build, counting up to total units (None: not known yet)."""

    def update(self, completed: float, total: float | None = None) -> None:
        """Say how many units of the stage are done, and a better estimate of the total if there is one."""

    def close(self) -> None:
        """Erase the line."""


QUIET = Progress()


class Terminal(Progress):
    """Stage, count of the estimate, bar, percentage and elapsed time, fitted to the terminal's width."""

    def __init__(self, stream):
        # rich is imported only for a terminal: a build in CI or a pipe never loads it.
        from rich.console import Console
        from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as Bar

        self.bar = Bar(TextColumn("{task.description}"), BarColumn(bar_width=None),
                       TextColumn("{task.fields[count]}"), TextColumn("{task.fields[percent]}"),
                       TimeElapsedColumn(), console=Console(file=stream), transient=True,
                       refresh_per_second=4)
        self.task = self.bar.add_task("", total=None, count="", percent="")
        self.unit, self.total, self.done = "", None, 0
        self.bar.start()

    def stage(self, name: str, total: float | None = None, unit: str = "") -> None:
        self.unit, self.total, self.done = unit, total, 0
        self.bar.update(self.task, description=name)
        self.update(0)

    def update(self, completed: float, total: float | None = None) -> None:
        self.total = total if total is not None else self.total
        completed = self.done = max(completed, self.done)  # within a stage, the count never goes back
        count = percent = ""
        if self.total:
            # An estimate can fall short of the count: the total is never shown below what is done.
            self.total = max(self.total, completed)
            count = f"{completed:.0f}/{self.total:.0f} {self.unit}".rstrip()
            percent = f"{100 * completed / self.total:.0f}%"
        # rich draws no bar for a total of None: the stage's length is not known yet. Drawn now, not at
        # the next tick: a short stage is seen too (the ticks keep the elapsed time going between).
        self.bar.update(self.task, completed=completed, total=self.total, count=count, percent=percent,
                        refresh=True)

    def close(self) -> None:
        self.bar.stop()


def for_stream(stream) -> Progress:
    """Return the progress display suited to the stream: a live line on a terminal, else nothing."""
    return Terminal(stream) if stream.isatty() else QUIET
