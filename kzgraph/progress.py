"""Progress bars (rich) for long work: only when standard error is a terminal; otherwise a
no-op, so logs, pipes and tests stay clean."""
from __future__ import annotations

import sys
from contextlib import contextmanager


def enabled() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # no stderr, or a closed one
        return False


@contextmanager
def bar(description: str, total: float | None = None, *, show: bool = True):
    """``with bar("loading", total=n) as advance: advance(k)``; a bar on a terminal, else
    nothing. ``show=False`` (e.g. for small inputs) also gives nothing."""
    if not show or not enabled():
        yield lambda amount=1: None
        return
    from rich.console import Console
    from rich.progress import (BarColumn, Progress, TaskProgressColumn, TextColumn,
                               TimeElapsedColumn)

    with Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                  TimeElapsedColumn(), console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda amount=1: progress.advance(task, amount)
