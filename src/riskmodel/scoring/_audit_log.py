"""Append-only, hash-chained audit log of scoring runs (JSON lines).

Each line is one entry; ``hash`` is the SHA-256 of the canonical JSON of the entry without
``hash`` (so it covers ``prev_hash`` and ``seq``), and ``prev_hash`` is the previous line's hash
(64 zeros for the first line). A small head file beside the log (``<log>.head``) records how many
entries there are and the last hash, so that deleting lines from the end is also detected.

What :meth:`AuditLog.verify` detects
-----------------------------------
- an edited line (its hash no longer matches its content), naming that line;
- a deleted, inserted or reordered line (the chain or the sequence number breaks), naming the
  first line where it breaks; deleting the first line breaks the chain at line 1;
- deleted last lines (the log ends before the entry count and last hash in the head file),
  naming the first missing line; a line added without updating the head is reported too;
- with ``expected_hashes`` (entry hashes copied from scoring summaries or another system), a log
  rewritten from some point on, or replaced wholesale.

What it cannot detect on its own: someone with write access who rewrites the chain from some
line onwards, recomputes every hash and rewrites the head file; or deletes both the log and its
head. The hashes are not secret-keyed. Against that, keep the entry hashes elsewhere: each
``summary.json`` records its entry's hash, and ``riskmodel audit-log verify --expect HASH``
checks that an entry is still in the chain.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from riskmodel.provenance import canonical_json

GENESIS_HASH = "0" * 64
_RESERVED = ("seq", "prev_hash", "hash")

ERR_LOG_BROKEN = (
    "{path}: the audit log is not intact ({problem}); refusing to append to a broken chain. "
    "Run `riskmodel audit-log verify --path {path}` and have it investigated"
)
ERR_ENTRY = "audit log entries must be JSON objects without the reserved keys {keys}"

PROBLEM_INCOMPLETE = (
    "line {line} is incomplete (no line end): a write was cut off or the file was truncated"
)
PROBLEM_NOT_JSON = "line {line} is not a JSON object: it was edited or corrupted"
PROBLEM_EDITED = "line {line} was edited: its hash does not match its content"
PROBLEM_SEQ = (
    "line {line} has sequence number {seq}, expected {line}: a line was deleted, inserted or "
    "reordered at or before line {line}"
)
PROBLEM_CHAIN = (
    "line {line} does not follow line {prev}: its prev_hash does not match, so a line was "
    "deleted, inserted or reordered"
)
PROBLEM_FIRST = "line 1 does not start the chain: earlier lines were deleted"
PROBLEM_TRUNCATED = (
    "the log ends after line {n} but its head file records {head_n} entries: the last "
    "{missing} line(s) were deleted (first missing: line {first})"
)
PROBLEM_UNTRACKED = (
    "line {first} onwards ({extra} line(s)) are not recorded in the head file: they were added "
    "without riskmodel, or a run crashed between writing its entry and updating the head"
)
PROBLEM_HEAD_HASH = (
    "the chain ends with hash {got} but the head file records {want}: the log was rewritten"
)
PROBLEM_NO_HEAD = (
    "the head file {head} is missing: deleting the last lines could not be detected; it was removed"
)
PROBLEM_NO_LOG = (
    "the log is missing or empty but its head file records {head_n} entries: it was deleted"
)
PROBLEM_BAD_HEAD = "the head file {head} is unreadable: it was edited or corrupted"
PROBLEM_ANCHOR = (
    "entry hash {anchor} (recorded elsewhere, e.g. in a scoring summary) is not in the log: "
    "the log was rewritten or truncated"
)


class AuditLogError(RuntimeError):
    """The audit log cannot be appended to (broken chain, unreadable file)."""


@dataclass(frozen=True)
class VerifyReport:
    """Result of checking an audit log.

    Attributes
    ----------
    ok : the log is intact (and holds every expected hash)
    n_entries : lines read
    first_bad_line : 1-based number of the first bad line, when one can be named
    problem : what is wrong, in words (``None`` when intact)
    last_hash : hash of the last intact entry
    path : the log checked
    """

    ok: bool
    n_entries: int
    first_bad_line: int | None
    problem: str | None
    last_hash: str
    path: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def entry_hash(entry: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``entry`` without its ``hash`` key."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def _utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="microseconds")


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class AuditLog:
    """The hash-chained JSON-lines log at ``path`` (and its head file ``<path>.head``)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.head_path = self.path.with_name(self.path.name + ".head")

    # -- reading ---------------------------------------------------------------------------------
    def entries(self) -> Iterator[dict[str, Any]]:
        """Every entry, in order (unverified: use :meth:`verify` to trust them)."""
        if not self.path.exists():
            return
        with open(self.path, "rb") as f:
            for raw in f:
                if raw.strip():
                    yield json.loads(raw)

    def _read_head(self) -> dict[str, Any] | None:
        if not self.head_path.exists():
            return None
        head = json.loads(self.head_path.read_text(encoding="utf-8"))
        if not isinstance(head, dict) or not isinstance(head.get("n_entries"), int):
            raise ValueError("bad head")
        return head

    def verify(self, *, expected_hashes: Iterable[str] = ()) -> VerifyReport:
        """Check the whole chain and the head file; see the module docstring for what is found."""
        n = 0
        prev = GENESIS_HASH
        seen: set[str] = set()

        def report(problem: str | None, line: int | None) -> VerifyReport:
            return VerifyReport(problem is None, n, line, problem, prev, str(self.path))

        if self.path.exists():
            with open(self.path, "rb") as f:
                for line_no, raw in enumerate(f, start=1):
                    if not raw.endswith(b"\n"):
                        return report(PROBLEM_INCOMPLETE.format(line=line_no), line_no)
                    try:
                        entry = json.loads(raw)
                    except ValueError:
                        entry = None
                    if not isinstance(entry, dict) or not all(k in entry for k in _RESERVED):
                        return report(PROBLEM_NOT_JSON.format(line=line_no), line_no)
                    if entry_hash(entry) != entry["hash"]:
                        return report(PROBLEM_EDITED.format(line=line_no), line_no)
                    if entry["prev_hash"] != prev:
                        if line_no == 1:
                            return report(PROBLEM_FIRST, 1)
                        return report(PROBLEM_CHAIN.format(line=line_no, prev=line_no - 1), line_no)
                    if entry["seq"] != line_no:
                        return report(PROBLEM_SEQ.format(line=line_no, seq=entry["seq"]), line_no)
                    n = line_no
                    prev = entry["hash"]
                    seen.add(prev)

        try:
            head = self._read_head()
        except ValueError:
            return report(PROBLEM_BAD_HEAD.format(head=self.head_path), None)
        if head is None:
            if n > 0:
                return report(PROBLEM_NO_HEAD.format(head=self.head_path), None)
        elif n == 0 and head["n_entries"] > 0:
            return report(PROBLEM_NO_LOG.format(head_n=head["n_entries"]), 1)
        elif head["n_entries"] > n:
            missing = head["n_entries"] - n
            return report(
                PROBLEM_TRUNCATED.format(
                    n=n, head_n=head["n_entries"], missing=missing, first=n + 1
                ),
                n + 1,
            )
        elif head["n_entries"] < n:
            first = head["n_entries"] + 1
            return report(PROBLEM_UNTRACKED.format(first=first, extra=n - first + 1), first)
        elif head.get("last_hash") != prev:
            return report(PROBLEM_HEAD_HASH.format(got=prev, want=head.get("last_hash")), None)

        for anchor in expected_hashes:
            if anchor not in seen:
                return report(PROBLEM_ANCHOR.format(anchor=anchor), None)
        return report(None, None)

    # -- writing ---------------------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[Any]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
        with os.fdopen(fd, "a+b") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:
                yield f
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)

    def _tail_state(self) -> tuple[int, str]:
        """(entries, last hash) after checking the last line against the head file.

        Only the last line is re-hashed here (appending stays O(1)); a full check is
        :meth:`verify`.
        """
        try:
            head = self._read_head()
        except ValueError:
            raise AuditLogError(
                ERR_LOG_BROKEN.format(
                    path=self.path, problem=PROBLEM_BAD_HEAD.format(head=self.head_path)
                )
            ) from None
        last = _last_line(self.path)
        if last is None:
            if head is not None and head["n_entries"] > 0:
                problem = PROBLEM_NO_LOG.format(head_n=head["n_entries"])
                raise AuditLogError(ERR_LOG_BROKEN.format(path=self.path, problem=problem))
            return 0, GENESIS_HASH
        if head is None:
            problem = PROBLEM_NO_HEAD.format(head=self.head_path)
            raise AuditLogError(ERR_LOG_BROKEN.format(path=self.path, problem=problem))
        try:
            entry = json.loads(last)
        except ValueError:
            entry = None
        ok = (
            last.endswith(b"\n")
            and isinstance(entry, dict)
            and all(k in entry for k in _RESERVED)
            and entry_hash(entry) == entry["hash"]
            and entry["seq"] == head["n_entries"]
            and entry["hash"] == head.get("last_hash")
        )
        if not ok:
            raise AuditLogError(
                ERR_LOG_BROKEN.format(
                    path=self.path, problem="the last line does not match the head file"
                )
            )
        return int(entry["seq"]), str(entry["hash"])

    def check_appendable(self) -> None:
        """Raise :class:`AuditLogError` now if an entry could not be appended (fail early)."""
        with self._locked():
            self._tail_state()

    def append(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Append ``entry`` (a JSON object) under an exclusive lock, fsync it, and return it as
        written, with ``time`` (if not given), ``seq``, ``prev_hash`` and ``hash`` added."""
        if not isinstance(entry, dict) or any(k in entry for k in _RESERVED):
            raise ValueError(ERR_ENTRY.format(keys=", ".join(_RESERVED)))
        # round-trip through JSON so the stored object is exactly the hashed one
        body = json.loads(canonical_json(entry))
        body.setdefault("time", _utc_now())
        with self._locked() as f:
            n, prev = self._tail_state()
            body["seq"] = n + 1
            body["prev_hash"] = prev
            body["hash"] = entry_hash(body)
            f.write((canonical_json(body) + "\n").encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
            self._write_head(n_entries=n + 1, last_hash=body["hash"], time=body["time"])
        return body

    def _write_head(self, **head: Any) -> None:
        tmp = self.head_path.with_name(self.head_path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(json.dumps(head, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.head_path)
        _fsync_dir(self.head_path.parent)


def _last_line(path: Path, block: int = 1 << 16) -> bytes | None:
    """The file's last line (with its line end, if any); ``None`` for a missing or empty file."""
    if not path.exists():
        return None
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        end = f.tell()
        if end == 0:
            return None
        pos = end
        buf = b""
        while pos > 0:
            step = min(block, pos)
            pos -= step
            f.seek(pos)
            buf = f.read(step) + buf
            # the last line starts after the last newline that is not the final byte
            cut = buf.rfind(b"\n", 0, len(buf) - 1)
            if cut >= 0:
                return buf[cut + 1 :]
        return buf
