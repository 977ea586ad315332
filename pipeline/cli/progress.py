"""`fpls run`'s progress display: the cycle's stage and the file being loaded, on stderr, only when stderr is
a terminal and the output is not `--json` (DESIGN §4); rich (which typer brings) draws it and honours
NO_COLOR. Anywhere else the cycle prints nothing extra."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


def wanted(json: bool) -> bool:
    return not json and sys.stderr.isatty()


@contextmanager
def cycle_progress(enabled: bool) -> Iterator[object]:
    """A `progress(kind, done, total, label)` callback for run_cycle, or None when not enabled."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True, no_color=bool(os.environ.get("NO_COLOR")))
    columns = (TextColumn("{task.description:<34}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        tasks: dict[str, object] = {}

        def progress(kind: str, done: int, total: int, label: str = "") -> None:
            title = f"stage {label}" if kind == "stage" else f"load {label[-28:]}"
            if kind not in tasks:
                tasks[kind] = bar.add_task(title, total=total)
            bar.update(tasks[kind], completed=done, total=total, description=title)

        yield progress
