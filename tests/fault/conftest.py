"""Fault, load and fuzz tests: real brokers, real worker processes, kill -9, a broker
restart, hostile input. Marked ``fault``; run them alone with ``pytest -m fault``.

They run at a small size by default (CI); ``ONCOSCRUB_FAULT_SCALE=full`` runs the full
size (100,000 claims and 10 kills; 100,000 hostile inputs; 300 claims of 500 MAR entries):

    ONCOSCRUB_FAULT_SCALE=full .venv/bin/python -m pytest -m fault tests/fault
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from deploy.localkafka import LocalKafka


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fault: fault, load and fuzz tests (ONCOSCRUB_FAULT_SCALE=full for full size)"
    )


@dataclass(frozen=True)
class Scale:
    name: str
    claims: int  # the kill storm's stream
    kills: int
    broker_restarts: int
    hostile_inputs: int
    heavy_claims: int  # of 500 MAR entries, for two workers


SMALL = Scale("small", claims=10_000, kills=3, broker_restarts=1, hostile_inputs=10_000,
              heavy_claims=60)  # fmt: skip
FULL = Scale("full", claims=100_000, kills=10, broker_restarts=1, hostile_inputs=100_000,
             heavy_claims=300)  # fmt: skip


@pytest.fixture(scope="session")
def scale() -> Scale:
    return FULL if os.environ.get("ONCOSCRUB_FAULT_SCALE") == "full" else SMALL


@pytest.fixture(scope="module")
def own_broker() -> Iterator[LocalKafka]:
    """A broker of the test's own: it is restarted, which no other test must see."""
    kafka = LocalKafka(topics={}).start()
    try:
        yield kafka
    finally:
        kafka.stop()
