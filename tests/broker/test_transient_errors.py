"""A transient failure aborts the batch, rewinds it and backs off; nothing is lost or doubled."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from deploy.kafkatools import InProcessWorker, connection, produce, read_outputs, wait_for_decisions
from schemas.examples import example_claim
from worker.audit.chain import verify
from worker.audit.log import checkpoints_from_topic, records_from_topic
from worker.topic_admin import ensure_topics
from worker.topology import Topics, declare

pytestmark = pytest.mark.broker


async def test_a_missing_output_topic_stalls_then_recovers_exactly_once(
    kafka_bootstrap: str,
) -> None:
    topics = Topics.prefixed(f"transient-{uuid.uuid4().hex[:8]}.")
    specs = declare(topics).topic_configs()
    await ensure_topics(connection(kafka_bootstrap), specs, partitions=1)
    invalid = example_claim(1)
    invalid["diagnoses"] = []  # goes to review, whose topic is deleted under the worker
    inputs = [json.dumps(c).encode() for c in (example_claim(0), invalid, example_claim(2))]

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        # A worker refuses to start without its topics; one losing a topic while it runs
        # stalls that partition, decides nothing, and recovers when the topic is back.
        async with InProcessWorker(kafka_bootstrap, topics, request_timeout_ms=2000,
                                   retry_backoff_initial_s=0.2) as worker:  # fmt: skip
            await admin.delete_topics([topics.review])
            await produce(kafka_bootstrap, topics.submitted, [(None, v) for v in inputs])
            async with asyncio.timeout(90):
                while worker.processor.stats.aborted < 2:
                    await asyncio.sleep(0.1)
            stalled = await read_outputs(kafka_bootstrap, topics)
            assert stalled.decisions == [] and stalled.audit == []  # all or nothing

            review_spec = specs[topics.review]
            async with asyncio.timeout(60):
                while True:  # the deletion completes in the background
                    try:
                        await admin.create_topics(
                            [NewTopic(topics.review, 1, 1, topic_configs=review_spec)]
                        )
                        break
                    except TopicAlreadyExistsError:
                        await asyncio.sleep(0.5)
            out = await wait_for_decisions(kafka_bootstrap, topics, len(inputs), timeout=90)
    finally:
        await admin.close()

    assert sorted(r.key for r in out.decisions) == [b"CLM-00000000", b"CLM-00000001",
                                                    b"CLM-00000002"]  # fmt: skip
    assert len(out.audit) == len(inputs)
    records = [r async for r in records_from_topic(connection(kafka_bootstrap), topics.audit)]
    report = verify(
        records, await checkpoints_from_topic(connection(kafka_bootstrap), topics.audit_checkpoints)
    )
    assert report.ok and report.events == len(inputs)
