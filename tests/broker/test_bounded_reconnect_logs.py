"""A broker outage under a running worker is a few log lines, not thousands: the Kafka
clients' reconnect attempts become ``broker_unreachable`` and ``broker_reachable`` with a
count of what was held back; a healthy start has no error line and no reconnect line."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deploy.kafkatools import WorkerProcess, claim_items, produce, wait_for_decisions
from deploy.localkafka import LocalKafka
from schemas.examples import example_claim
from worker.topology import Topics

pytestmark = pytest.mark.broker

DOWN_S = 20.0


@pytest.fixture(scope="module")
def own_broker() -> Iterator[LocalKafka]:
    """A broker of the test's own: it is stopped and started, which no other test must see."""
    kafka = LocalKafka().start()
    try:
        yield kafka
    finally:
        kafka.stop()


def lines_of(worker: WorkerProcess) -> list[dict[str, Any]]:
    return [json.loads(line) for line in worker.log_lines()]


async def test_a_broker_outage_is_a_line_when_it_starts_and_one_when_it_ends(
    own_broker: LocalKafka, tmp_path: Path
) -> None:
    kafka, topics = own_broker, Topics()
    worker = WorkerProcess(kafka.connection, topics, "outage-1", tmp_path)
    try:
        await produce(kafka.connection, topics.submitted, claim_items([example_claim(1)]))
        await wait_for_decisions(kafka.connection, topics, 1, timeout=180)
        healthy = lines_of(worker)
        await asyncio.to_thread(kafka.restart, False, DOWN_S)
        await produce(kafka.connection, topics.submitted, claim_items([example_claim(2)]))
        await wait_for_decisions(kafka.connection, topics, 2, timeout=180)
        async with asyncio.timeout(60):  # the end of the outage is said
            while not any(e["message"] == "broker_reachable" for e in lines_of(worker)):
                assert worker.alive()
                await asyncio.sleep(0.5)
    finally:
        assert worker.terminate() == 0
    logged = lines_of(worker)

    assert [e for e in healthy if e["level"] in ("error", "critical")] == []
    assert not [e for e in healthy if e["logger"].startswith("aiokafka")], healthy
    assert not [e for e in logged if "Unable connect" in e["message"]]

    outage = logged[len(healthy) :]
    said = [e for e in outage if e["logger"] == "worker.broker"]
    assert [e["message"] for e in said[:2]] == ["broker_unreachable", "broker_reachable"]
    unreachable, reachable = said[:2]
    # A restarted broker settles (leaders elected, coordinators loaded) after the clients
    # reach it, and what they retry then is held back too: one summary line, no more.
    after = said[2:]
    assert [e["message"] for e in after] in ([], ["kafka_client_retries"]), after
    assert unreachable["level"] == "warning" and reachable["level"] == "info"
    assert reachable["after_s"] >= DOWN_S
    # What the clients would have said: hundreds of lines, held back.
    assert reachable["held_back"] >= 100
    clients = Counter(e["message"][:40] for e in outage if e["logger"].startswith("aiokafka"))
    assert sum(clients.values()) <= 12, clients
    print(
        f"\noutage of {reachable['after_s']} s: {reachable['held_back']} client lines held "
        f"back, {len(outage)} lines logged from the outage to the end "
        f"({sum(clients.values())} from the clients)"
    )
