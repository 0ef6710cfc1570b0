"""A newer producer for the same input partition fences the older one, which stops writing."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import ProducerFenced

from deploy.kafkatools import (
    InProcessWorker,
    produce,
    read_outputs,
    read_topic,
    wait_for_decisions,
)
from schemas.examples import example_claim
from worker.topology import Topics
from worker.transactions import transactional_id

pytestmark = pytest.mark.broker


async def test_two_producers_for_one_partition_the_older_is_fenced(
    kafka_bootstrap: str, topics: Topics
) -> None:
    txn_id = transactional_id("fence-test", TopicPartition(topics.submitted, 0))
    older = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, transactional_id=txn_id)
    newer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, transactional_id=txn_id)
    await older.start()
    try:
        await older.begin_transaction()
        await older.send_and_wait(topics.scrubbed, b"from-older", partition=0)
        await newer.start()  # bumps the epoch and aborts the older one's open transaction
        with pytest.raises(ProducerFenced):
            await older.commit_transaction()
        async with newer.transaction():
            await newer.send_and_wait(topics.scrubbed, b"from-newer", partition=0)
    finally:
        await newer.stop()
        with contextlib.suppress(ProducerFenced):
            await older.stop()

    committed = [r.value for r in await read_topic(kafka_bootstrap, topics.scrubbed)]
    uncommitted = [
        r.value for r in await read_topic(kafka_bootstrap, topics.scrubbed, "read_uncommitted")
    ]
    assert committed == [b"from-newer"]
    assert uncommitted == [b"from-older", b"from-newer"]  # written, then aborted


async def test_a_fenced_worker_stops_writing_its_partition_and_keeps_the_others(
    kafka_bootstrap: str, topics: Topics
) -> None:
    def claim(n: int) -> tuple[bytes, bytes]:
        c = example_claim(n)
        return c["claim_id"].encode(), json.dumps(c).encode()

    async with InProcessWorker(kafka_bootstrap, topics) as worker:
        await produce(kafka_bootstrap, topics.submitted, [claim(1)], partition=0)
        await wait_for_decisions(kafka_bootstrap, topics, expected=1, timeout=60)

        # Another process takes partition 0's transactional id, as a new owner would.
        tp0 = TopicPartition(topics.submitted, 0)
        usurper = AIOKafkaProducer(
            bootstrap_servers=kafka_bootstrap,
            transactional_id=transactional_id(worker.settings.txn_prefix, tp0),
        )
        await usurper.start()
        try:
            await produce(kafka_bootstrap, topics.submitted, [claim(2)], partition=0)
            await produce(kafka_bootstrap, topics.submitted, [claim(3)], partition=1)
            async with asyncio.timeout(60):
                while worker.processor.stats.fenced == 0:
                    await asyncio.sleep(0.1)
            await wait_for_decisions(kafka_bootstrap, topics, expected=2, timeout=60)
            await asyncio.sleep(2)  # room for any write the zombie might still attempt
            out = await read_outputs(kafka_bootstrap, topics)
        finally:
            await usurper.stop()

        assert tp0 not in worker.processor.owned_partitions
        assert sorted(r.key for r in out.decisions) == [b"CLM-00000001", b"CLM-00000003"]
        assert len(out.audit) == 2
