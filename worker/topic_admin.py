"""Creating the topology's topics and listing a topic's partitions (Kafka admin requests).

What the topics are and how they are configured is ``worker.topology``'s
business: pass ``declare(names).topic_configs()``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from aiokafka import TopicPartition, errors
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from worker.kafka_client import KafkaConnection


class TopicsNotCreatedError(RuntimeError):
    """The brokers refused to create topics: each with the broker's error."""


async def ensure_topics(
    conn: KafkaConnection,
    configs: Mapping[str, Mapping[str, str]],
    partitions: int,
    replication: int = 1,
) -> None:
    """Create the topics that do not exist yet (same partition count for all: the
    topology mirrors input partition N onto partition N of the audit and state topics)."""
    admin = AIOKafkaAdminClient(**conn.options(), request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(name, partitions, replication, topic_configs=dict(cfg))
            for name, cfg in configs.items()
            if name not in existing
        ]
        if wanted:
            with contextlib.suppress(TopicAlreadyExistsError):
                response = await admin.create_topics(wanted)
                refused = [
                    f"{error[0]}: {errors.for_code(error[1]).__name__}"
                    for error in response.topic_errors
                    if error[1] not in (0, TopicAlreadyExistsError.errno)
                ]
                if refused:
                    raise TopicsNotCreatedError("; ".join(refused))
    finally:
        await admin.close()


async def partitions_of(conn: KafkaConnection, topic: str) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(**conn.options())
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return [
        TopicPartition(topic, p["partition"])
        for p in sorted(described["partitions"], key=lambda d: int(d["partition"]))
    ]
