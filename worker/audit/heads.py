"""The audit chain heads as a state store, and the checkpoint that pins each head.

The head of input partition N's chain (the next seq, the hash the next event links
to) is one key of the ``audit-chain-heads`` store: put by the batch that moves it,
written in that batch's transaction, restored when the partition is assigned.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas.audit import AuditCheckpoint
from worker.audit.chain import GENESIS, ChainHead, head_after
from worker.committed_reader import last_committed_value
from worker.stores import ChangelogStore, JsonCodec
from worker.topology import OutRecord, Topology


def _key(partition: int) -> bytes:
    return str(partition).encode()


async def _from_audit_tail(
    audit_topic: str, partition: int, reader: AIOKafkaConsumer
) -> dict[bytes, ChainHead]:
    # Audit logs written before the changelog existed: the chain continues from the
    # partition's last committed event. Once the changelog holds a head, it decides.
    last = await last_committed_value(reader, TopicPartition(audit_topic, partition))
    return {} if last is None else {_key(partition): head_after(last)}


class ChainHeadStore(ChangelogStore[ChainHead]):
    def __init__(self, topology: Topology) -> None:
        super().__init__(
            topology.chain_heads,
            JsonCodec(ChainHead),
            seed=partial(_from_audit_tail, topology.audit.name),
        )

    def head(self, partition: int) -> ChainHead:
        return self.get(partition, _key(partition)) or GENESIS

    def advance(self, partition: int, head: ChainHead) -> None:
        self.put(partition, _key(partition), head)


def checkpoint(
    topology: Topology, partition: int, head: ChainHead, worker_id: str, at: datetime
) -> OutRecord:
    """The record pinning a chain's length and head, for the transaction that moved it."""
    pinned = AuditCheckpoint(
        partition=partition, events=head.seq, head_sha256=head.prev_hash, worker_id=worker_id, at=at
    )
    return topology.audit_checkpoints.record(
        _key(partition), pinned.model_dump_json().encode(), partition
    )
