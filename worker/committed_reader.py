"""Group-less read_committed reads of one partition: all of it to its end, or its last record.

The audit log and the state stores' restore read through these. read_committed
ends at the last stable offset, so what is read is exactly what committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from worker.kafka_client import KafkaConnection

FETCH_BYTES = 17 * 1024 * 1024


def reader(conn: KafkaConnection) -> AIOKafkaConsumer:
    """A group-less read_committed consumer: sees only committed records."""
    return AIOKafkaConsumer(
        **conn.options(),
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=FETCH_BYTES,
        fetch_max_bytes=4 * FETCH_BYTES,
    )


async def start_reader(consumer: AIOKafkaConsumer) -> None:
    await consumer.start()
    # aiokafka's group-less consumer re-raises CancelledError if stopped before its
    # background task first ran.
    await asyncio.sleep(0)


async def last_committed_value(consumer: AIOKafkaConsumer, tp: TopicPartition) -> bytes | None:
    """The value of the partition's last committed record, or None if it has none.

    Reads a window before the end and widens it: transaction markers take offsets
    too, so the last offset is usually a marker, not a record.
    """
    consumer.assign([tp])
    start = (await consumer.beginning_offsets([tp]))[tp]
    end = (await consumer.end_offsets([tp]))[tp]  # the last stable offset
    window = 64
    while True:
        lo = max(start, end - window)
        consumer.seek(tp, lo)
        last: bytes | None = None
        while await consumer.position(tp) < end:
            batch = await consumer.getmany(tp, timeout_ms=1000)
            for record in batch.get(tp, []):
                if record.offset < end:
                    last = record.value
        if last is not None or lo == start:
            return last
        window *= 8


async def read_partition(
    consumer: AIOKafkaConsumer, tp: TopicPartition
) -> AsyncIterator[ConsumerRecord[Any, Any]]:
    """Every committed record of one partition, in offset order, up to its current end."""
    consumer.assign([tp])
    end = (await consumer.end_offsets([tp]))[tp]
    # An explicit seek: seek_to_beginning() can lose the race with the reset that
    # assign() started, which would leave the position at the end.
    consumer.seek(tp, (await consumer.beginning_offsets([tp]))[tp])
    while await consumer.position(tp) < end:
        batch = await consumer.getmany(tp, timeout_ms=1000)
        for record in batch.get(tp, []):
            if record.offset < end:
                yield record
