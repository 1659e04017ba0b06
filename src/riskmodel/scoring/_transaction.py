"""Scoring as a transaction: check, log, write into a temporary folder, publish, or record why not.

The sequence, and what a crash at each point leaves:

1. :meth:`ScoringTransaction.begin` checks everything that can be checked before any work (the
   output folder is new or empty and not a link, its parent writable, the log appendable), first
   recovering what an earlier killed run left (below). It makes a hidden temporary folder beside
   ``out_dir`` and a journal file in the log's ``pending/`` folder naming both, locked for as long
   as the run lives.
2. The caller writes every output into :attr:`ScoringTransaction.tmp`.
3. :meth:`ScoringTransaction.record_completed` appends the ``completed`` entry.
4. :meth:`ScoringTransaction.publish` renames the folder into place and removes the journal.
5. On any error, :meth:`ScoringTransaction.fail` removes the folder and appends ``failed``.

A run killed at any point leaves its journal unlocked. The next run's :func:`recover_interrupted`
finds it, removes the temporary folder and, unless the output was published, appends a
``failed`` entry saying the run was interrupted (pointing at its ``completed`` entry, if one was
written), so the log never keeps a ``completed`` entry without saying that its list does not
exist.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from riskmodel.scoring._audit_log import AuditLog

ERR_OUT_EXISTS = (
    "{path}: the output folder already exists and is not empty; scoring never overwrites a list "
    "a coordinator may already hold. Choose a new --out folder"
)
ERR_OUT_LINK = (
    "{path}: the output folder is a symbolic link; give a real new folder (a link could point "
    "the list somewhere else between the check and the write)"
)
ERR_OUT_PARENT = (
    "{path}: cannot create the output folder here ({why}); choose an --out folder inside one you "
    "can write to"
)
ERR_NOT_LOGGED = "; and the failure could not be recorded in the audit log: {error}"
WARN_RECOVERED = (
    "an earlier scoring run into {out} was interrupted{when}; it is now recorded as failed in "
    "the audit log{partial}"
)

PENDING = "pending"


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_out_dir(out_dir: Path) -> None:
    """Refuse now what would fail or mislead at publication: a link, a non-empty folder, a
    parent that cannot be written."""
    if out_dir.is_symlink():
        raise FileExistsError(ERR_OUT_LINK.format(path=out_dir))
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise FileExistsError(ERR_OUT_EXISTS.format(path=out_dir))
    parent = out_dir.parent
    while not parent.exists() and parent != parent.parent:
        if parent.is_symlink():  # a dangling link on the way
            raise FileExistsError(ERR_OUT_LINK.format(path=parent))
        parent = parent.parent
    if not parent.is_dir():
        raise FileExistsError(ERR_OUT_PARENT.format(path=out_dir, why=f"{parent} is not a folder"))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(
            ERR_OUT_PARENT.format(path=out_dir, why=f"{parent} is not writable by you")
        )


def publish(tmp: Path, out_dir: Path) -> None:
    """Rename the finished folder into place in one step (over an empty folder if present)."""
    if out_dir.exists():
        out_dir.rmdir()  # empty (checked); rename(2) would also replace it, but say so plainly
    os.rename(tmp, out_dir)
    fd = os.open(out_dir.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _pending_dir(log: AuditLog) -> Path:
    return log.path.parent / PENDING


def recover_interrupted(log: AuditLog) -> list[str]:
    """Close every transaction a killed run left open; return one warning per run closed.

    A journal still locked belongs to a live run and is left alone.
    """
    folder = _pending_dir(log)
    if not folder.is_dir():
        return []
    notes: list[str] = []
    for journal in sorted(folder.glob("*.json")):
        try:
            fd = os.open(journal, os.O_RDWR)
        except FileNotFoundError:
            continue  # closed meanwhile by its own run
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live run
            try:
                info = json.loads(Path(journal).read_text(encoding="utf-8"))
            except ValueError:
                info = {}
            note = _close(log, info)
            journal.unlink(missing_ok=True)
            if note:
                notes.append(note)
        finally:
            os.close(fd)
    return notes


def _completed_entry(log: AuditLog, token: str | None) -> dict[str, Any] | None:
    if not token:
        return None
    found = None
    for e in log.entries():  # rare (only after a crash): a full read is fine
        if e.get("transaction") == token and e.get("outcome") in ("completed", "failed"):
            found = e
    return found


def _close(log: AuditLog, info: dict[str, Any]) -> str | None:
    out = Path(str(info.get("out_dir", "")))
    tmp = Path(str(info["tmp"])) if info.get("tmp") else None
    partial = ""
    if tmp is not None and tmp.exists():
        shutil.rmtree(tmp, ignore_errors=True)
        partial = f"; its partial folder {tmp} was removed"
    last = _completed_entry(log, info.get("transaction"))
    if last is not None and last["outcome"] == "failed":
        return None  # its own failure was recorded; only the folder was left
    if last is not None:
        try:
            summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
            if (summary.get("audit") or {}).get("entry_hash") == last["hash"]:
                return None  # published; only the journal was left
        except (OSError, ValueError):
            pass
    entry = {
        **(info.get("entry") or {}),
        "outcome": "failed",
        "transaction": info.get("transaction"),
        "recovery": True,
        "error": (
            "interrupted after it was recorded as completed; its outputs were never published"
            if last is not None
            else "interrupted before it was recorded; no outputs were published"
        ),
        "output": {"dir": str(out)},
        **({"completed_entry_hash": last["hash"]} if last is not None else {}),
    }
    log.append(entry)
    when = " after the log recorded it as completed" if last is not None else ""
    return WARN_RECOVERED.format(out=out, when=when, partial=partial)


class ScoringTransaction:
    """One scoring run's log-and-publish sequence (see the module docstring)."""

    def __init__(self, log: AuditLog, out_dir: Path, entry: dict[str, Any]) -> None:
        self.log = log
        self.out_dir = out_dir
        self.entry = entry  # grows as the run learns its model, input and counts
        self.token = uuid.uuid4().hex
        self.tmp: Path | None = None
        self.logged: dict[str, Any] | None = None
        self.recovered: list[str] = []
        self._journal: Path | None = None
        self._fd: int | None = None

    def begin(self) -> None:
        """Checks, recovery of earlier runs, then the temporary folder and the journal."""
        self.log.check_appendable()
        self.recovered = recover_interrupted(self.log)
        check_out_dir(self.out_dir)
        self.out_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(
            tempfile.mkdtemp(prefix=f".{self.out_dir.name}.partial-", dir=self.out_dir.parent)
        )
        os.chmod(tmp, 0o777 & ~current_umask())
        self.tmp = tmp
        pending = _pending_dir(self.log)
        pending.mkdir(parents=True, exist_ok=True)
        self._journal = pending / f"{self.token}.json"
        self._fd = os.open(self._journal, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        self._save_journal()

    def _save_journal(self) -> None:
        assert self._fd is not None
        data = json.dumps(
            {
                "transaction": self.token,
                "out_dir": str(self.out_dir),
                "tmp": str(self.tmp),
                "pid": os.getpid(),
                "entry": {k: v for k, v in self.entry.items() if k in ("user", "purpose")},
                "completed_entry_hash": (self.logged or {}).get("hash"),
            },
            default=str,
        ).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)
        os.fsync(self._fd)

    def record_completed(self) -> dict[str, Any]:
        self.logged = self.log.append(
            {**self.entry, "outcome": "completed", "transaction": self.token}
        )
        self._save_journal()
        return self.logged

    def publish(self) -> None:
        assert self.tmp is not None
        publish(self.tmp, self.out_dir)
        self.tmp = None
        self._end()

    def fail(self, exc: BaseException) -> None:
        """Remove the partial folder and record the failure (saying so if it cannot be)."""
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
        what = (
            "failed after it was recorded as completed; outputs were not published"
            if self.logged
            else "failed"
        )
        try:
            self.log.append(
                {
                    **self.entry,
                    "outcome": "failed",
                    "transaction": self.token,
                    "error": f"{what}: {type(exc).__name__}: {exc}"[:1000],
                    **({"completed_entry_hash": self.logged["hash"]} if self.logged else {}),
                }
            )
        except Exception as log_exc:  # the original error matters more; say both
            if isinstance(exc, Exception) and exc.args:
                exc.args = (str(exc.args[0]) + ERR_NOT_LOGGED.format(error=log_exc), *exc.args[1:])
        finally:
            self._end()

    def _end(self) -> None:
        if self._journal is not None:
            self._journal.unlink(missing_ok=True)
            self._journal = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
