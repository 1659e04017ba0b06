"""Helpers shared by the stage CLIs: turning library errors into clean exits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

console = Console(stderr=True)


@contextmanager
def user_errors(*kinds: type[BaseException]) -> Iterator[None]:
    """Print expected errors (bad config, bad input, refused purpose) as one red line, exit 2."""
    from riskmodel.config import ConfigError

    try:
        yield
    except (ConfigError, FileNotFoundError, ValueError, KeyError, *kinds) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        console.print(f"[bold red]error:[/] {msg}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from None


def progress() -> Callable:
    """A rich progress bar factory for long steps (spinner, bar, elapsed time)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    return lambda: Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
