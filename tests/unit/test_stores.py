"""A changelog-backed store without a broker: what is pending, committed, restored, dropped."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from worker.audit.chain import GENESIS, ChainHead
from worker.audit.heads import ChainHeadStore
from worker.stores import ChangelogStore, JsonCodec, NotRestoredError
from worker.topology import declare

TOPOLOGY = declare()
SPEC = TOPOLOGY.chain_heads
CODEC = JsonCodec(ChainHead)
ONE, TWO = GENESIS.after(b"one"), GENESIS.after(b"one").after(b"two")

Change = tuple[bytes | None, bytes | None]


async def changelog(*items: Change) -> AsyncIterator[Change]:
    for item in items:
        yield item


async def restored(*items: Change, partition: int = 0) -> ChangelogStore[ChainHead]:
    store = ChangelogStore(SPEC, CODEC)
    await store.replay(partition, changelog(*items))
    return store


async def test_restore_keeps_the_last_value_of_each_key_and_honours_tombstones() -> None:
    store = await restored(
        (b"a", CODEC.encode(ONE)),
        (b"b", CODEC.encode(ONE)),
        (b"a", CODEC.encode(TWO)),
        (b"b", None),
        (None, CODEC.encode(ONE)),  # a keyless record is no state
    )
    assert store.get(0, b"a") == TWO
    assert store.get(0, b"b") is None


async def test_a_partition_not_restored_refuses_reads_and_writes() -> None:
    store = await restored(partition=0)
    with pytest.raises(NotRestoredError):
        store.get(1, b"a")
    with pytest.raises(NotRestoredError):
        store.put(1, b"a", ONE)
    assert not store.restored(1) and store.restored(0)


async def test_puts_are_pending_until_the_transaction_commits() -> None:
    store = await restored((b"a", CODEC.encode(ONE)), partition=2)
    store.put(2, b"a", TWO)
    assert store.get(2, b"a") == TWO  # the batch sees its own writes
    [record] = store.pending_records(2)
    assert (record.topic, record.partition, record.key) == (SPEC.changelog.name, 2, b"a")
    assert record.value is not None and json.loads(record.value)["seq"] == TWO.seq

    store.discard(2)  # the transaction aborted
    assert store.get(2, b"a") == ONE and store.pending_records(2) == []

    store.put(2, b"a", TWO)
    store.committed(2)
    assert store.get(2, b"a") == TWO and store.pending_records(2) == []


async def test_a_delete_is_a_tombstone_in_the_changelog() -> None:
    store = await restored((b"a", CODEC.encode(ONE)))
    store.delete(0, b"a")
    assert store.get(0, b"a") is None
    [record] = store.pending_records(0)
    assert (record.key, record.value) == (b"a", None)
    store.committed(0)
    assert store.get(0, b"a") is None


async def test_drop_forgets_one_partition_and_a_restore_forgets_what_was_pending() -> None:
    store = await restored((b"a", CODEC.encode(ONE)), partition=0)
    await store.replay(1, changelog((b"a", CODEC.encode(TWO))))
    store.put(1, b"a", ONE)
    store.drop(0)
    assert not store.restored(0) and store.get(1, b"a") == ONE
    await store.replay(1, changelog((b"a", CODEC.encode(TWO))))
    assert store.get(1, b"a") == TWO and store.pending_records(1) == []


async def test_the_chain_head_store_starts_at_genesis_and_advances_per_partition() -> None:
    heads = ChainHeadStore(TOPOLOGY)
    await heads.replay(0, changelog())
    await heads.replay(1, changelog((b"1", CODEC.encode(TWO))))
    assert heads.head(0) == GENESIS and heads.head(1) == TWO
    heads.advance(0, ONE)
    assert heads.head(0) == ONE and heads.head(1) == TWO
    assert [(r.key, r.partition) for r in heads.pending_records(0)] == [(b"0", 0)]
    assert heads.pending_records(1) == []
