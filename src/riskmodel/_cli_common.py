"""Helpers shared by the stage CLIs: user errors as one clean line, progress bars."""

from __future__ import annotations

import linecache
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

import typer
from pydantic import ValidationError
from rich.console import Console

from riskmodel.config import ConfigError

console = Console(stderr=True)

_PACKAGE = Path(__file__).resolve().parent

#: always the user's to fix: a config, a missing file they named, a bad option value
USER_ERRORS: tuple[type[BaseException], ...] = (ConfigError, FileNotFoundError, ValidationError)
#: the user's only when riskmodel raised them on purpose (an ``ERR_*`` message naming the file,
#: row or column); raised anywhere else (a library, or a plain lookup in our code) they are bugs
RAISED_FOR_THE_USER: tuple[type[BaseException], ...] = (ValueError, KeyError, LookupError)


def raised_on_purpose(exc: BaseException) -> bool:
    """True when the innermost frame is a ``raise`` statement of a riskmodel module."""
    tb: TracebackType | None = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    filename = Path(tb.tb_frame.f_code.co_filename).resolve()
    if not filename.is_relative_to(_PACKAGE):
        return False
    return linecache.getline(str(filename), tb.tb_lineno).lstrip().startswith("raise")


def is_user_error(exc: BaseException, kinds: tuple[type[BaseException], ...] = ()) -> bool:
    """Whether ``exc`` is the user's to fix (one clean line) rather than a bug (a traceback)."""
    if isinstance(exc, USER_ERRORS + kinds):
        return True
    return isinstance(exc, RAISED_FOR_THE_USER) and raised_on_purpose(exc)


@contextmanager
def user_errors(*kinds: type[BaseException]) -> Iterator[None]:
    """Print user errors (bad config, bad input, refused purpose, and ``kinds``) as one red line
    and exit 2; anything else keeps its traceback, so an internal bug can be found."""
    try:
        yield
    except Exception as exc:
        if not is_user_error(exc, kinds):
            raise
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
