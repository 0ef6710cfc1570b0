"""Topic layout: which topics the worker needs and how they are configured."""

from __future__ import annotations

import contextlib

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from worker.settings import Topics

# Every topic a decision or its evidence goes to accepts messages well above the
# worker's claim limit: a 1 MB claim becomes a review request carrying it in base64
# (+33%), and its audit event carries it too. Set per topic, so that routing never
# depends on the broker-wide default (1 MB), which would abort such a transaction
# again and again and stall the partition. The submitted topic takes more than the
# limit so that an oversized claim reaches the worker and is dead-lettered whole.
LARGE_MESSAGE_BYTES = 16 * 1024 * 1024


def topic_specs(topics: Topics) -> dict[str, dict[str, str]]:
    large = {"max.message.bytes": str(LARGE_MESSAGE_BYTES)}
    return {
        topics.submitted: large,
        topics.scrubbed: large,
        topics.review: large,
        topics.dead_letter: large,
        # Audit partition N is written only by the owner of input partition N.
        topics.audit: large,
        topics.audit_checkpoints: {},
    }


async def ensure_topics(
    bootstrap: str, specs: dict[str, dict[str, str]], partitions: int, replication: int = 1
) -> None:
    """Create the topics that do not exist yet (same partition count for all)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(name, partitions, replication, topic_configs=cfg)
            for name, cfg in specs.items()
            if name not in existing
        ]
        if wanted:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(wanted)
    finally:
        await admin.close()


async def partitions_of(bootstrap: str, topic: str) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return [
        TopicPartition(topic, p["partition"])
        for p in sorted(described["partitions"], key=lambda d: int(d["partition"]))
    ]
