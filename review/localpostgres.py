"""A throwaway PostgreSQL server from the distribution's packages, for tests and benchmarks.

    with LocalPostgres() as pg:
        engine = connect(pg.url)

``initdb`` into a temporary directory, ``pg_ctl start`` on a free loopback port
(the socket in that directory too), a database named ``review``; stopped and
deleted on exit. PostgreSQL refuses to run as root: as root, the server runs as
the ``postgres`` system user the package created. The binaries are looked for in
``ONCOSCRUB_PG_BIN``, the newest ``/usr/lib/postgresql/*/bin``, then ``PATH``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any


def bin_dir() -> Path:
    configured = os.environ.get("ONCOSCRUB_PG_BIN")
    if configured:
        return Path(configured)
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if versions:
        return versions[-1]
    found = shutil.which("initdb")
    if found is None:
        raise RuntimeError(
            "PostgreSQL server binaries not found: install the distribution's postgresql "
            "package or set ONCOSCRUB_PG_BIN"
        )
    return Path(found).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class LocalPostgres:
    def __init__(self, database: str = "review", user: str = "review") -> None:
        self.bin = bin_dir()
        self.database = database
        self.user = user
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="oncoscrub-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._as: dict[str, Any] = {}
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self._as = {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}
        self.startup_seconds = 0.0

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{self.database}"

    def _run(self, *args: str) -> None:
        subprocess.run(
            [str(self.bin / args[0]), *args[1:]], check=True, capture_output=True,
            cwd=self.root, **self._as,
        )  # fmt: skip

    def start(self) -> LocalPostgres:
        began = time.monotonic()
        self._run(
            "initdb", "-D", str(self.data), "-U", self.user, "--auth=trust", "-E", "UTF8",
            "--locale=C", "--no-sync",
        )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            # Throwaway data: durability off, as a test database can afford.
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c shared_buffers=256MB"
        )
        try:
            self._run(
                "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"
            )
        except subprocess.CalledProcessError:
            raise RuntimeError(f"PostgreSQL did not start; its log: {self._log_tail()}") from None
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')
        self.startup_seconds = time.monotonic() - began
        return self

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.data.exists():
            subprocess.run(
                [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"],
                capture_output=True, cwd=self.root, check=False, **self._as,
            )  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
