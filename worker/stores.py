"""Per-partition state stores, each backed by a compacted changelog topic.

Kafka Streams' and Faust's tables, cut to what exactly-once needs here. A store is
declared in the topology (``StoreSpec``) with its changelog, whose partition N holds
the state of input partition N. Its life follows the input partition's:

* assigned: ``restore`` reads the changelog partition read_committed to its end. The
  processor calls it after the partition's producer has fenced the previous owner
  (so no transaction of the partition is still open) and before it processes any
  record of the partition;
* a batch: ``get`` sees the batch's own ``put``s, which stay pending;
  ``pending_records`` are produced in the partition's transaction, beside the
  decisions and the input offsets; ``committed`` adopts them when that transaction
  commits, ``discard`` forgets them when it aborts;
* revoked or fenced: ``drop``; the next owner restores from the changelog.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import TypeAdapter

from worker.committed_reader import read_partition
from worker.topology import Headers, StoreSpec

V = TypeVar("V")

# A store whose changelog partition is empty may take its first state from elsewhere.
Seed = Callable[[int, AIOKafkaConsumer], Awaitable[dict[bytes, V]]]


@dataclass(frozen=True, slots=True)
class StateRecord:
    """A changelog record: a key's new value, or None to delete the key (a tombstone)."""

    topic: str
    key: bytes
    value: bytes | None
    partition: int
    headers: Headers = ()


class Codec(Protocol[V]):
    def encode(self, value: V) -> bytes: ...

    def decode(self, data: bytes) -> V: ...


class JsonCodec(Generic[V]):
    """Values as JSON, through pydantic: models, dataclasses and plain types alike."""

    def __init__(self, kind: type[V]) -> None:
        self._adapter: TypeAdapter[V] = TypeAdapter(kind)

    def encode(self, value: V) -> bytes:
        return self._adapter.dump_json(value)

    def decode(self, data: bytes) -> V:
        return self._adapter.validate_json(data)


class RawCodec:
    """Values kept as the bytes they travel as: for a store whose values are read and
    written by the deciding processes, never by the loop that keeps them."""

    def encode(self, value: bytes) -> bytes:
        return value

    def decode(self, data: bytes) -> bytes:
        return data


class StateStore(Protocol):
    """What the processor needs of a store, whatever its values."""

    @property
    def spec(self) -> StoreSpec: ...

    def restored(self, partition: int) -> bool: ...

    async def restore(self, partition: int, reader: AIOKafkaConsumer) -> int: ...

    def pending_records(self, partition: int) -> list[StateRecord]: ...

    def committed(self, partition: int) -> None: ...

    def discard(self, partition: int) -> None: ...

    def drop(self, partition: int) -> None: ...


class NotRestoredError(RuntimeError):
    """A partition's state was used before its restore: it would miss committed writes."""


class ChangelogStore(Generic[V]):
    def __init__(self, spec: StoreSpec, codec: Codec[V], seed: Seed[V] | None = None) -> None:
        self._spec = spec
        self._codec = codec
        self._seed = seed
        self._state: dict[int, dict[bytes, V]] = {}
        self._pending: dict[int, dict[bytes, V | None]] = {}

    @property
    def spec(self) -> StoreSpec:
        return self._spec

    def get(self, partition: int, key: bytes) -> V | None:
        state = self._restored_state(partition)
        pending = self._pending.get(partition, {})
        return pending[key] if key in pending else state.get(key)

    def keys(self, partition: int) -> list[bytes]:
        """The partition's keys with a value, the pending writes included."""
        state = self._restored_state(partition)
        pending = self._pending.get(partition, {})
        kept = {k for k in state if pending.get(k, state[k]) is not None}
        return sorted(kept | {k for k, v in pending.items() if v is not None})

    def put(self, partition: int, key: bytes, value: V) -> None:
        self._restored_state(partition)
        self._pending.setdefault(partition, {})[key] = value

    def delete(self, partition: int, key: bytes) -> None:
        self._restored_state(partition)
        self._pending.setdefault(partition, {})[key] = None

    def pending_records(self, partition: int) -> list[StateRecord]:
        topic = self._spec.changelog.name
        return [
            StateRecord(topic, key, None if value is None else self._codec.encode(value), partition)
            for key, value in self._pending.get(partition, {}).items()
        ]

    def committed(self, partition: int) -> None:
        state = self._restored_state(partition)
        for key, value in self._pending.pop(partition, {}).items():
            if value is None:
                state.pop(key, None)
            else:
                state[key] = value

    def discard(self, partition: int) -> None:
        self._pending.pop(partition, None)

    def drop(self, partition: int) -> None:
        self._state.pop(partition, None)
        self._pending.pop(partition, None)

    def restored(self, partition: int) -> bool:
        return partition in self._state

    async def restore(self, partition: int, reader: AIOKafkaConsumer) -> int:
        """Read the changelog partition to its end; the number of records read."""
        tp = TopicPartition(self._spec.changelog.name, partition)
        changes = ((r.key, r.value) async for r in read_partition(reader, tp))
        read = await self.replay(partition, changes)
        if not self._state[partition] and self._seed is not None:
            self._state[partition] = await self._seed(partition, reader)
        return read

    async def replay(
        self, partition: int, changes: AsyncIterable[tuple[bytes | None, bytes | None]]
    ) -> int:
        """The partition's state from its changelog: the last value of a key wins, a
        tombstone deletes it. Whatever was pending is gone."""
        state: dict[bytes, V] = {}
        read = 0
        async for key, value in changes:
            read += 1
            if key is None:
                continue
            if value is None:
                state.pop(key, None)
            else:
                state[key] = self._codec.decode(value)
        self._state[partition] = state
        self._pending.pop(partition, None)
        return read

    def _restored_state(self, partition: int) -> dict[bytes, V]:
        try:
            return self._state[partition]
        except KeyError:
            message = f"{self._spec.name}: partition {partition} is not restored"
            raise NotRestoredError(message) from None
