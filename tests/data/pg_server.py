"""A throwaway PostgreSQL server for the SQL-source tests (Debian's ``postgresql`` package, which
``make postgres`` installs as ``make test`` runs).

The cluster lives in a fresh folder under the system's temporary directory: ``initdb``, then
``pg_ctl start`` listening on a unix socket in that folder and on 127.0.0.1 at a free port, with
``fsync`` off (nothing here needs to survive a crash). PostgreSQL refuses to run as root, so as
root the folder belongs to the ``postgres`` system user and the server runs as that user
(``runuser``). Connections over the socket are trusted (the fixture sets up roles that way); over
TCP they need a password (SCRAM), so a wrong password is a real refusal.
"""

from __future__ import annotations

import atexit
import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

#: the role and database the tests read as (a password login over TCP)
USER = "force_reader"
DATABASE = "force"


class Unavailable(RuntimeError):
    """PostgreSQL is not installed here (the tests say why and skip)."""


def find_bin() -> Path:
    """The newest installed PostgreSQL's bin folder (Debian keeps it off the PATH)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: [int(x) for x in Path(p).parent.parent.name.split(".") if x.isdigit()],
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise Unavailable(
        "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): `make postgres` "
        "installs Debian's postgresql package when run as root with apt-get"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running cluster: the socket folder and port, the reader's password, and how to stop."""

    root: Path
    bin: Path
    port: int
    password: str
    run_as: list[str]

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, *, password: str | None = None, database: str = DATABASE) -> str:
        """SQLAlchemy URL of the reader role over TCP (``password`` replaces the real one)."""
        pw = self.password if password is None else password
        return f"postgresql+psycopg://{USER}:{pw}@127.0.0.1:{self.port}/{database}"

    def admin(self):
        """A psycopg connection as the superuser over the trusted socket (autocommit)."""
        import psycopg

        return psycopg.connect(
            host=str(self.root), port=self.port, user="postgres", dbname=DATABASE, autocommit=True
        )

    def _pg(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*self.run_as, str(self.bin / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )

    def stop(self) -> None:
        if not self.root.exists():
            return  # already stopped (the fixture's teardown, then the exit hook)
        try:
            self._pg("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start() -> Server:
    """initdb + start a cluster, and create the ``force`` database and its password login.

    Raises :class:`Unavailable` only when PostgreSQL is not installed (or, as root, there is no
    ``postgres`` user to run it as); any other failure is an error with the server's log.
    """
    bin_dir = find_bin()
    run_as: list[str] = []
    owner = None
    if os.geteuid() == 0:
        import pwd

        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise Unavailable(
                "running as root and there is no `postgres` system user to run the server as "
                "(PostgreSQL refuses to run as root); install Debian's postgresql package"
            ) from None
        runuser = shutil.which("runuser")
        if not runuser:  # pragma: no cover - Debian always has runuser (util-linux)
            raise Unavailable("running as root without `runuser` to start the server as postgres")
        run_as = [runuser, "-u", "postgres", "--"]
    # directly under /tmp: pytest's own folders are 0700 root, which the postgres user cannot enter
    root = Path(tempfile.mkdtemp(prefix="riskmodel-pg-"))
    if owner is not None:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    server = Server(root, bin_dir, _free_port(), secrets.token_urlsafe(16), run_as)
    try:
        server._pg(
            "initdb",
            "-D",
            str(server.data),
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {server.port} -k {root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c shared_buffers=32MB "
            "-c max_connections=20"
        )
        server._pg(
            "pg_ctl", "-D", str(server.data), "-l", str(root / "log"), "-o", options, "-w",
            "-t", "60", "start",
        )  # fmt: skip
        _wait_ready(server)
        import psycopg

        with psycopg.connect(
            host=str(root), port=server.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        with server.admin() as conn:
            conn.execute(
                f"CREATE ROLE {USER} LOGIN PASSWORD %s".replace("%s", _literal(server.password))
            )
            conn.execute(f"GRANT CONNECT ON DATABASE {DATABASE} TO {USER}")
            conn.execute(f"GRANT USAGE, CREATE ON SCHEMA public TO {USER}")
    except subprocess.CalledProcessError as exc:
        log = (root / "log").read_text(errors="replace")[-2000:] if (root / "log").exists() else ""
        server.stop()
        raise RuntimeError(
            f"PostgreSQL did not start: {' '.join(map(str, exc.cmd))}\n{exc.stderr}\n{log}"
        ) from None
    except BaseException:
        server.stop()
        raise
    # a crashed caller (no teardown) still leaves no server running behind it
    atexit.register(server.stop)
    return server


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _wait_ready(server: Server, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        r = server._pg("pg_isready", "-h", str(server.root), "-p", str(server.port), check=False)
        if r.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"PostgreSQL is not ready after {timeout:.0f} s: {r.stdout}")
        time.sleep(0.1)
