"""Test fixtures. Broker tests get a real Kafka broker, never a mock, and are never skipped:

1. ``KAFKA_BOOTSTRAP_SERVERS`` when set (a broker you run);
2. else testcontainers' Kafka module when a Docker engine answers;
3. else the project's local launcher (``deploy/localkafka.py``): Apache Kafka in
   KRaft mode from jars resolved from Maven Central.

If none of these yields a broker, the broker tests fail with the reason.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

from deploy.kafkatools import create_topics
from deploy.localkafka import kafka_version
from worker.topology import Topics

# CI explores the same examples every run, so a run is reproducible; locally each run
# explores new ones (MAR_EXAMPLES=20000 for a long search).
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")

_KAFKA_IMAGE = f"apache/kafka:{kafka_version()}"


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception:
        return False
    return True


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if configured:
        yield configured
        return
    if _docker_answers():
        from testcontainers.kafka import KafkaContainer

        # testcontainers does not set the single-node transaction settings; without
        # them transactional producers hang in InitProducerId.
        container = (
            KafkaContainer(_KAFKA_IMAGE)
            .with_env("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
            .with_env("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
            .with_env("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1")
        )
        with container:
            yield container.get_bootstrap_server()
        return
    from deploy.localkafka import LocalKafka

    kafka = LocalKafka(topics={}).start()
    print(f"\nlocal Kafka on {kafka.bootstrap}, ready in {kafka.startup_seconds:.1f}s")
    try:
        yield kafka.bootstrap
    finally:
        kafka.stop()


_prefixes = itertools.count(1)


@pytest.fixture
async def topics(kafka_bootstrap: str, request: pytest.FixtureRequest) -> Topics:
    """A fresh set of the product's topics (3 partitions each) for one test."""
    name = request.node.name.replace("_", "-").replace("[", "-").replace("]", "")[:40]
    created = Topics.prefixed(f"t{os.getpid()}-{next(_prefixes)}-{name}.")
    await create_topics(kafka_bootstrap, created, partitions=3)
    return created
