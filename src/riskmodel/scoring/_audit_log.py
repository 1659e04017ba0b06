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

- a line that parses to the same entry but is not its canonical serialisation (CRLF, spacing,
  a duplicate key, key order): each line must be byte for byte the canonical JSON of its entry;
- with ``anchors`` (``(seq, hash, where)`` recorded outside the log: every scoring output's
  ``summary.json``, see :func:`find_anchors`), a chain rewritten or cut short after the anchor
  was taken.

What it cannot detect on its own: someone with write access who rewrites the chain from some
line onwards, recomputes every hash and rewrites the head file, when no anchor taken after that
line survives; or deletes both the log and its head. The hashes are not secret-keyed. See
docs/THREAT_MODEL.md.

Recovery
--------
A run killed between writing its line and updating the head file, or in the middle of writing
its line, leaves a log that :meth:`AuditLog.verify` reports. The next append (or
:meth:`AuditLog.recover`) repairs exactly those two states, and records what it did as an entry
with outcome ``recovery``; anything else is refused as tampering.
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
ERR_LOG_UNWRITABLE = (
    "{path}: the audit log cannot be written ({error}); no run can be recorded, so none is "
    "started. Ask whoever looks after the installation to fix the permissions"
)
ERR_ENTRY = "audit log entries must be JSON objects without the reserved keys {keys}"

PROBLEM_INCOMPLETE = (
    "line {line} is incomplete (no line end): a write was cut off or the file was truncated "
    "(if a run was killed while writing it, `riskmodel audit-log recover` sets it aside, and "
    "records that it did)"
)
PROBLEM_NOT_JSON = "line {line} is not a JSON object: it was edited or corrupted"
PROBLEM_DUPLICATE_KEY = "line {line} repeats the key {key!r}: it was edited"
PROBLEM_NOT_CANONICAL = (
    "line {line} is not the canonical form of its entry (spacing, line end, key order or "
    "escaping differ): it was edited"
)
PROBLEM_ANCHOR_SEQ = (
    "{where} records entry {seq} with hash {anchor}, but the log {what}: the log was rewritten "
    "or cut short after that run"
)
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
    "without riskmodel, or a run crashed between writing its entry and updating the head (then "
    "`riskmodel audit-log recover` completes it, and records that it did)"
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


@dataclass(frozen=True)
class Anchor:
    """An entry's position and hash recorded outside the log (e.g. in a scoring summary)."""

    seq: int
    hash: str
    where: str


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(k)
        out[k] = v
    return out


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def parse_line(raw: bytes) -> dict[str, Any]:
    """One log line as its entry, refusing duplicate keys (:class:`ValueError`)."""
    return json.loads(raw, object_pairs_hook=_no_duplicates)


def canonical_line(entry: dict[str, Any]) -> bytes:
    """The one byte form a log line may take: canonical JSON plus ``\\n``."""
    return (canonical_json(entry) + "\n").encode("utf-8")


def find_anchors(
    log_entries: Iterable[dict[str, Any]],
    roots: Iterable[str | Path] = (),
    *,
    log_path: str | Path | None = None,
) -> list[Anchor]:
    """Anchors in every scoring output that can be found: the folders the log's own entries
    name (their ``summary.json`` keeps the entry hash even if the log is later rewritten), and
    any ``summary.json`` under ``roots`` (e.g. the installation's reports folder). Unreadable
    or foreign JSON files are skipped, and so are summaries recorded in a log other than
    ``log_path`` (when given)."""
    paths: set[Path] = set()
    for e in log_entries:
        out = (e.get("output") or {}).get("dir") if isinstance(e, dict) else None
        if out:
            paths.add(Path(out) / "summary.json")
    for root in roots:
        root = Path(root)
        if root.is_dir():
            paths.update(root.rglob("summary.json"))
    found: list[Anchor] = []
    for path in sorted(paths):
        try:
            audit = json.loads(path.read_text(encoding="utf-8")).get("audit") or {}
            seq, h = int(audit["seq"]), str(audit["entry_hash"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
        recorded_in = audit.get("log")
        if log_path is not None and recorded_in and Path(recorded_in) != Path(log_path):
            continue  # a run recorded in another log (e.g. another installation's)
        found.append(Anchor(seq, h, str(path)))
    return found


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

    def verify(
        self, *, expected_hashes: Iterable[str] = (), anchors: Iterable[Anchor] = ()
    ) -> VerifyReport:
        """Check the whole chain, the head file, and every anchor given; see the module
        docstring for what is found."""
        n = 0
        prev = GENESIS_HASH
        seen: set[str] = set()
        by_seq: dict[int, str] = {}

        def report(problem: str | None, line: int | None) -> VerifyReport:
            return VerifyReport(problem is None, n, line, problem, prev, str(self.path))

        if self.path.exists():
            with open(self.path, "rb") as f:
                for line_no, raw in enumerate(f, start=1):
                    if not raw.endswith(b"\n"):
                        return report(PROBLEM_INCOMPLETE.format(line=line_no), line_no)
                    try:
                        entry = parse_line(raw)
                    except _DuplicateKey as dup:
                        return report(
                            PROBLEM_DUPLICATE_KEY.format(line=line_no, key=dup.key), line_no
                        )
                    except ValueError:
                        entry = None
                    if not isinstance(entry, dict) or not all(k in entry for k in _RESERVED):
                        return report(PROBLEM_NOT_JSON.format(line=line_no), line_no)
                    if entry_hash(entry) != entry["hash"]:
                        return report(PROBLEM_EDITED.format(line=line_no), line_no)
                    if raw != canonical_line(entry):
                        return report(PROBLEM_NOT_CANONICAL.format(line=line_no), line_no)
                    if entry["prev_hash"] != prev:
                        if line_no == 1:
                            return report(PROBLEM_FIRST, 1)
                        return report(PROBLEM_CHAIN.format(line=line_no, prev=line_no - 1), line_no)
                    if entry["seq"] != line_no:
                        return report(PROBLEM_SEQ.format(line=line_no, seq=entry["seq"]), line_no)
                    n = line_no
                    prev = entry["hash"]
                    seen.add(prev)
                    by_seq[n] = prev

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
        for a in anchors:
            got = by_seq.get(a.seq)
            if got != a.hash:
                what = (
                    f"ends at entry {n}"
                    if got is None
                    else f"holds a different entry there (hash {got})"
                )
                return report(
                    PROBLEM_ANCHOR_SEQ.format(where=a.where, seq=a.seq, anchor=a.hash, what=what),
                    a.seq if a.seq <= n else None,
                )
        return report(None, None)

    # -- writing ---------------------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[Any]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
        except OSError as exc:
            raise AuditLogError(
                ERR_LOG_UNWRITABLE.format(path=self.path, error=exc.strerror or exc)
            ) from None
        with os.fdopen(fd, "a+b") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:
                yield f
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)

    def _broken(self, problem: str) -> AuditLogError:
        return AuditLogError(ERR_LOG_BROKEN.format(path=self.path, problem=problem))

    def _tail_state(self, f: Any) -> tuple[int, str]:
        """(entries, last hash) after checking the last line against the head file, repairing
        (and recording) the two states a killed run can leave; see "Recovery" above.

        Only the last line or two are re-hashed here (appending stays O(1)); a full check is
        :meth:`verify`.
        """
        try:
            head = self._read_head()
        except ValueError:
            raise self._broken(PROBLEM_BAD_HEAD.format(head=self.head_path)) from None
        size = os.fstat(f.fileno()).st_size
        last = _last_line(self.path, end=size)
        if last is None:
            if head is not None and head["n_entries"] > 0:
                raise self._broken(PROBLEM_NO_LOG.format(head_n=head["n_entries"]))
            return 0, GENESIS_HASH
        if head is None:
            raise self._broken(PROBLEM_NO_HEAD.format(head=self.head_path))
        recovery: dict[str, Any] | None = None
        if not last.endswith(b"\n"):
            # killed while writing its line: the line before must be the head's last entry
            before = _last_line(self.path, end=size - len(last))
            if not self._matches_head(before, head):
                raise self._broken(
                    "the last line is incomplete and the one before it does not match the head file"
                )
            f.truncate(size - len(last))
            f.flush()
            os.fsync(f.fileno())
            recovery = {
                "recovery": "a run was killed while writing its entry; the incomplete line "
                "was removed",
                "removed_bytes": len(last),
                "removed_sha256": hashlib.sha256(last).hexdigest(),
            }
            last = before
        entry = _entry_or_none(last)
        # killed after writing its line, before updating the head: the line must follow on
        # from the head's last entry exactly
        if (
            entry is not None
            and recovery is None
            and not self._matches_head(last, head)
            and entry["seq"] == head["n_entries"] + 1
            and entry["prev_hash"] == (head.get("last_hash") or GENESIS_HASH)
        ):
            self._write_head(
                n_entries=entry["seq"], last_hash=entry["hash"], time=entry.get("time")
            )
            head = self._read_head()
            recovery = {
                "recovery": "a run was killed after writing its entry and before updating "
                "the head file; the head file was brought up to date",
                "recovered_seq": entry["seq"],
                "recovered_hash": entry["hash"],
            }
        if last is None:
            n, prev = 0, GENESIS_HASH
        elif entry is None or not self._matches_head(last, head):
            raise self._broken("the last line does not match the head file")
        else:
            n, prev = int(entry["seq"]), str(entry["hash"])
        if recovery is not None:
            n, prev = self._write_entry(f, {**recovery, "outcome": "recovery"}, n, prev)
        return n, prev

    @staticmethod
    def _matches_head(line: bytes | None, head: dict[str, Any]) -> bool:
        if line is None:
            return head["n_entries"] == 0
        entry = _entry_or_none(line)
        return (
            entry is not None
            and line.endswith(b"\n")
            and entry["seq"] == head["n_entries"]
            and entry["hash"] == head.get("last_hash")
        )

    def check_appendable(self) -> None:
        """Raise :class:`AuditLogError` now if an entry could not be appended (fail early);
        a state left by a killed run is repaired and recorded first."""
        with self._locked() as f:
            self._tail_state(f)
        if not os.access(self.head_path.parent, os.W_OK) or (
            self.head_path.exists() and not os.access(self.head_path, os.W_OK)
        ):
            raise AuditLogError(
                ERR_LOG_UNWRITABLE.format(path=self.head_path, error="permission denied")
            )

    def recover(self) -> None:
        """Repair (and record) what a killed run left; refuse anything else as tampering."""
        self.check_appendable()

    def append(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Append ``entry`` (a JSON object) under an exclusive lock, fsync it, and return it as
        written, with ``time`` (if not given), ``seq``, ``prev_hash`` and ``hash`` added."""
        if not isinstance(entry, dict) or any(k in entry for k in _RESERVED):
            raise ValueError(ERR_ENTRY.format(keys=", ".join(_RESERVED)))
        with self._locked() as f:
            n, prev = self._tail_state(f)
            body = self._body(entry, n, prev)
            self._write(f, body)
        return body

    @staticmethod
    def _body(entry: dict[str, Any], n: int, prev: str) -> dict[str, Any]:
        # round-trip through JSON so the stored object is exactly the hashed one
        body = json.loads(canonical_json(entry))
        body.setdefault("time", _utc_now())
        body["seq"] = n + 1
        body["prev_hash"] = prev
        body["hash"] = entry_hash(body)
        return body

    def _write(self, f: Any, body: dict[str, Any]) -> None:
        try:
            f.write(canonical_line(body))
            f.flush()
            os.fsync(f.fileno())
            self._write_head(n_entries=body["seq"], last_hash=body["hash"], time=body["time"])
        except OSError as exc:
            raise AuditLogError(
                ERR_LOG_UNWRITABLE.format(path=self.path, error=exc.strerror or exc)
            ) from None

    def _write_entry(self, f: Any, entry: dict[str, Any], n: int, prev: str) -> tuple[int, str]:
        body = self._body(entry, n, prev)
        self._write(f, body)
        return body["seq"], body["hash"]

    def _write_head(self, **head: Any) -> None:
        tmp = self.head_path.with_name(self.head_path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(json.dumps(head, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.head_path)
        _fsync_dir(self.head_path.parent)


def _entry_or_none(line: bytes | None) -> dict[str, Any] | None:
    """The entry a line holds if it is intact (canonical, hash matching), else ``None``."""
    if line is None:
        return None
    try:
        entry = parse_line(line)
    except ValueError:
        return None
    if (
        isinstance(entry, dict)
        and all(k in entry for k in _RESERVED)
        and entry_hash(entry) == entry["hash"]
        and line == canonical_line(entry)
    ):
        return entry
    return None


def _last_line(path: Path, block: int = 1 << 16, end: int | None = None) -> bytes | None:
    """The last line of the file's first ``end`` bytes (default all), with its line end if
    any; ``None`` for a missing or empty file."""
    if not path.exists():
        return None
    with open(path, "rb") as f:
        if end is None:
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
