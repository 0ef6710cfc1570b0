"""One input partition's transactional producer: its id, opening it, and writing one
batch's transaction (its records and its input offsets, all or nothing)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError, ProducerFenced

from worker.settings import Settings
from worker.stores import StateRecord
from worker.topology import OutRecord


def transactional_id(prefix: str, tp: TopicPartition) -> str:
    return f"{prefix}.{tp.topic}.{tp.partition}"


async def open_producer(settings: Settings, tp: TopicPartition) -> AIOKafkaProducer:
    """Start the partition's producer. Starting it bumps the epoch of its stable id, which
    fences a previous owner and completes or aborts the transaction it left open."""
    s = settings
    producer = AIOKafkaProducer(
        **s.kafka.options(),
        client_id=f"oncoscrub-{s.worker_id}-p{tp.partition}",
        transactional_id=transactional_id(s.txn_prefix, tp),
        transaction_timeout_ms=s.transaction_timeout_ms,
        request_timeout_ms=s.request_timeout_ms,
        enable_idempotence=True,
        acks="all",
        linger_ms=s.linger_ms,
        max_batch_size=s.producer_batch_bytes,
        max_request_size=s.max_request_bytes,
    )
    await producer.start()
    return producer


async def write_transaction(
    producer: AIOKafkaProducer,
    records: Sequence[OutRecord | StateRecord],
    offsets: dict[TopicPartition, int],
    group_id: str,
) -> None:
    """Write the records and commit the input offsets in one transaction.

    Raises ``ProducerFenced`` as is (the producer is no longer this worker's to
    use); any other failure aborts the transaction first.
    """
    await producer.begin_transaction()
    try:
        deliveries = [
            await producer.send(
                r.topic, r.value, key=r.key, partition=r.partition, headers=list(r.headers) or None
            )
            for r in records
        ]
        # Every delivery is acknowledged before the offsets join the transaction:
        # a record the broker refused aborts the batch instead of being skipped.
        await asyncio.gather(*deliveries)
        await producer.send_offsets_to_transaction(offsets, group_id)
        await producer.commit_transaction()
    except ProducerFenced:
        raise
    except BaseException:
        # A producer fenced while a send was failing for another reason is in a fatal
        # state, where aiokafka refuses the abort with an AssertionError: the original error
        # is what the caller handles (it drops this producer and opens a new one).
        with contextlib.suppress(KafkaError, AssertionError):
            await producer.abort_transaction()
        raise
