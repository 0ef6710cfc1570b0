"""The size arithmetic on a real broker: the largest record the input topic accepts is
dead-lettered whole, and a worker refuses to start on topics that could not take it."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from deploy.kafkatools import (
    InProcessWorker,
    WorkerProcess,
    connection,
    produce,
    wait_for_decisions,
)
from schemas import AuditEvent, ReasonCode
from schemas.examples import example_claim
from worker import limits
from worker.topic_admin import ensure_topics
from worker.topology import Topics, declare

pytestmark = pytest.mark.broker

INPUT_LIMIT = 2 * 1024 * 1024  # a smaller input topic than the default, for speed


async def topics_with_input_limit(
    bootstrap: str, input_limit: int, dead_letter_limit: int
) -> Topics:
    topics = Topics.prefixed(f"size-{uuid.uuid4().hex[:8]}.")
    configs = declare(topics).topic_configs()
    configs[topics.submitted]["max.message.bytes"] = str(input_limit)
    configs[topics.dead_letter]["max.message.bytes"] = str(dead_letter_limit)
    await ensure_topics(connection(bootstrap), configs, partitions=1)
    return topics


KEY = b"k" * 512  # a long key: the dead letter keeps it whole too


async def accepted(bootstrap: str, topic: str, size: int) -> bool:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, max_request_size=64 * 1024 * 1024, request_timeout_ms=10000
    )
    await producer.start()
    try:
        await (await producer.send(topic, b"x" * size, key=KEY, partition=0))
    except KafkaError:
        return False
    finally:
        await producer.stop()
    return True


async def largest_accepted(bootstrap: str, topic: str, limit: int) -> int:
    """The largest value (with ``KEY``) the broker takes on the topic, found by asking it."""
    lo, hi = limit - 1024, limit  # a record's framing is well under 1 KiB
    assert await accepted(bootstrap, topic, lo) and not await accepted(bootstrap, topic, hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if await accepted(bootstrap, topic, mid) else (lo, mid)
    return lo


async def test_the_largest_record_the_input_topic_accepts_is_dead_lettered_whole(
    kafka_bootstrap: str,
) -> None:
    topics = await topics_with_input_limit(
        kafka_bootstrap, INPUT_LIMIT, limits.dead_letter_topic_bytes(INPUT_LIMIT)
    )
    probe = Topics.prefixed(f"probe-{uuid.uuid4().hex[:8]}.")
    await ensure_topics(
        connection(kafka_bootstrap), {probe.submitted: {"max.message.bytes": str(INPUT_LIMIT)}}, 1
    )
    largest = await largest_accepted(kafka_bootstrap, probe.submitted, INPUT_LIMIT)
    value = b"<" * largest  # one byte more and the input topic refuses it
    after = json.dumps(example_claim(1)).encode()
    await produce(kafka_bootstrap, topics.submitted, [(KEY, value), (None, after)], partition=0)

    async with InProcessWorker(kafka_bootstrap, topics):
        out = await wait_for_decisions(kafka_bootstrap, topics, expected=2, timeout=120)

    [dead] = out.dead_letter
    assert (dead.key, dead.value) == (KEY, value)
    assert dict(dead.headers)["x-reason"] == ReasonCode.OVERSIZED.value.encode()
    assert [r.key for r in out.scrubbed] == [b"CLM-00000001"]  # the partition moved on
    first = AuditEvent.model_validate_json(out.audit[0].value)
    assert first.input_b64 is None and first.reasons == (ReasonCode.OVERSIZED,)


async def test_a_worker_refuses_to_start_on_a_dead_letter_topic_that_is_too_small(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    # The stall of issue 11: an input record just under its topic's limit, dead-lettered
    # with headers into a topic of the same limit, would abort its batch for ever.
    topics = await topics_with_input_limit(kafka_bootstrap, INPUT_LIMIT, INPUT_LIMIT)
    worker = WorkerProcess(kafka_bootstrap, topics, "refused", tmp_path)
    code = await asyncio.to_thread(worker.proc.wait, 120)
    assert code == 1
    refused = [json.loads(line) for line in worker.log_lines() if '"topics_refused"' in line]
    assert refused, worker.log_lines()[-10:]
    [problem] = refused[0]["problems"]
    assert problem.startswith(f"topic {topics.dead_letter}: max.message.bytes is {INPUT_LIMIT}")
    assert str(limits.dead_letter_topic_bytes(INPUT_LIMIT)) in problem
