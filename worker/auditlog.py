"""Reading the audit log from Kafka: a partition's last committed event, or all of them.

I/O only; what the bytes mean is ``worker.chain``'s business.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiokafka import AIOKafkaConsumer, TopicPartition

from worker.chain import AuditRecord

FETCH_BYTES = 17 * 1024 * 1024


def reader(bootstrap: str) -> AIOKafkaConsumer:
    """A group-less read_committed consumer: sees only committed audit events."""
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
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
    too, so the last offset is usually a marker, not an event.
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
) -> AsyncIterator[AuditRecord]:
    """Every committed record of one partition, in offset order, up to its current end."""
    consumer.assign([tp])
    end = (await consumer.end_offsets([tp]))[tp]
    # An explicit seek: seek_to_beginning() can lose the race with the reset that
    # assign() started, which would leave the position at the end.
    consumer.seek(tp, (await consumer.beginning_offsets([tp]))[tp])
    while await consumer.position(tp) < end:
        batch = await consumer.getmany(tp, timeout_ms=1000)
        for record in batch.get(tp, []):
            if record.offset < end and record.value is not None:
                yield AuditRecord(tp.partition, record.offset, record.value)
