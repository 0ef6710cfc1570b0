"""Databases for the review tests: SQLite files and a real PostgreSQL server, started here
from the distribution's packages (never skipped), one fresh database per test."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine

from review.database import connect, migrate
from review.localpostgres import LocalPostgres


@pytest.fixture(scope="session")
def postgres() -> Iterator[LocalPostgres]:
    server = LocalPostgres().start()
    print(f"\nlocal PostgreSQL on port {server.port}, ready in {server.startup_seconds:.1f}s")
    try:
        yield server
    finally:
        server.stop()


_databases = itertools.count(1)


def fresh_database(kind: str, postgres: LocalPostgres, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / f'review-{next(_databases)}.db'}"
    name = f"t{os.getpid()}_{next(_databases)}"
    with psycopg.connect(
        host="127.0.0.1", port=postgres.port, user=postgres.user, dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return postgres.url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, postgres: LocalPostgres, tmp_path: Path) -> str:
    return fresh_database(str(request.param), postgres, tmp_path)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = connect(db_url)
    migrate(engine)
    try:
        yield engine
    finally:
        engine.dispose()
