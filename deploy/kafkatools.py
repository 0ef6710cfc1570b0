"""Running the product against a real broker: publish claims, run workers, read topics back.

Used by the demo, the tests and the benchmarks; nothing here is on the worker's hot path.
Each function takes the cluster as a ``KafkaConnection``, or as a bare address for a
PLAINTEXT broker (the local one the tests start).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from pydantic import SecretStr

from worker.committed_reader import start_reader
from worker.kafka_client import KafkaConnection, KafkaSecurity, env_name
from worker.topic_admin import ensure_topics, partitions_of
from worker.topology import Topics, declare

ROOT = Path(__file__).resolve().parent.parent

Cluster = KafkaConnection | str


def connection(cluster: Cluster) -> KafkaConnection:
    """The cluster as clients take it: a bare address is a PLAINTEXT broker."""
    if isinstance(cluster, KafkaConnection):
        return cluster
    return KafkaConnection(bootstrap_servers=cluster)


def connection_env(cluster: Cluster) -> dict[str, str]:
    """The worker's environment variables for this connection (secrets included)."""
    conn = connection(cluster)
    env = {"ONCOSCRUB_BOOTSTRAP_SERVERS": conn.bootstrap_servers}
    for name in KafkaSecurity.model_fields:
        value = getattr(conn, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, Enum):
            value = value.value
        env[env_name(name)] = str(value)
    return env


async def create_topics(cluster: Cluster, topics: Topics, partitions: int = 3) -> None:
    await ensure_topics(connection(cluster), declare(topics).topic_configs(), partitions)


async def produce(
    cluster: Cluster,
    topic: str,
    items: Iterable[tuple[bytes | None, bytes]],
    partition: int | None = None,
) -> int:
    """Publish (key, value) pairs as a billing platform would (idempotent, acks=all)."""
    producer = AIOKafkaProducer(
        **connection(cluster).options(),
        enable_idempotence=True,
        linger_ms=10,
        max_request_size=17 * 1024 * 1024,
        max_batch_size=1024 * 1024,
    )
    await producer.start()
    sent = 0
    try:
        futures = []
        for key, value in items:
            futures.append(await producer.send(topic, value, key=key, partition=partition))
            sent += 1
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return sent


def claim_items(claims: Iterable[dict[str, Any]]) -> list[tuple[bytes | None, bytes]]:
    return [(c["claim_id"].encode(), json.dumps(c).encode()) for c in claims]


async def read_topic(
    cluster: Cluster, topic: str, isolation: str = "read_committed"
) -> list[ConsumerRecord[bytes, bytes]]:
    """Everything in the topic up to its current end (the LSO under read_committed)."""
    conn = connection(cluster)
    consumer = AIOKafkaConsumer(
        **conn.options(),
        group_id=None,
        enable_auto_commit=False,
        isolation_level=isolation,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=17 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    await start_reader(consumer)
    try:
        tps = await partitions_of(conn, topic)
        if not tps:
            return []
        consumer.assign(tps)
        # Explicit seeks: seek_to_beginning() can lose the race with assign()'s reset.
        for tp, first in (await consumer.beginning_offsets(tps)).items():
            consumer.seek(tp, first)
        ends = await consumer.end_offsets(tps)
        out: list[ConsumerRecord[bytes, bytes]] = []
        pending = {tp for tp in tps if ends[tp] > 0}
        while pending:
            batches = await consumer.getmany(*pending, timeout_ms=500)
            for recs in batches.values():
                out.extend(recs)
            for tp in list(pending):
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
        return out
    finally:
        await consumer.stop()


@dataclass
class Outputs:
    scrubbed: list[ConsumerRecord[bytes, bytes]]
    review: list[ConsumerRecord[bytes, bytes]]
    dead_letter: list[ConsumerRecord[bytes, bytes]]
    audit: list[ConsumerRecord[bytes, bytes]]

    @property
    def decisions(self) -> list[ConsumerRecord[bytes, bytes]]:
        return [*self.scrubbed, *self.review, *self.dead_letter]


async def read_outputs(
    cluster: Cluster, topics: Topics, isolation: str = "read_committed"
) -> Outputs:
    scrubbed, review, dead, audit = await asyncio.gather(
        *(
            read_topic(cluster, t, isolation)
            for t in (topics.scrubbed, topics.review, topics.dead_letter, topics.audit)
        )
    )
    return Outputs(scrubbed, review, dead, audit)


async def wait_for_decisions(
    cluster: Cluster, topics: Topics, expected: int, timeout: float = 180.0
) -> Outputs:
    """Poll (read_committed) until at least ``expected`` decisions are downstream."""
    deadline = time.monotonic() + timeout
    while True:
        outputs = await read_outputs(cluster, topics)
        if len(outputs.decisions) >= expected and len(outputs.audit) >= expected:
            return outputs
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(outputs.decisions)} of {expected} decisions after {timeout}s")
        await asyncio.sleep(0.5)


class WorkerProcess:
    """``oncoscrub worker`` as a real subprocess, so it can be killed with SIGKILL."""

    def __init__(
        self,
        cluster: Cluster,
        topics: Topics,
        worker_id: str,
        log_dir: Path,
        extra_env: dict[str, str] | None = None,
        installed: Path | None = None,
    ) -> None:
        """``installed``: a directory the package was installed into (``pip install --target``,
        e.g. the compiled wheel): the worker runs from there instead of this checkout."""
        self.worker_id = worker_id
        self.log_path = log_dir / f"{worker_id}.log"
        env = {
            **os.environ,
            **topics.env(),
            **connection_env(cluster),
            "ONCOSCRUB_GROUP_ID": f"g-{topics.submitted}",
            "ONCOSCRUB_WORKER_ID": worker_id,
            "ONCOSCRUB_HEALTH_PORT": "0",
            **(extra_env or {}),
            **({"PYTHONPATH": str(installed)} if installed else {}),
        }
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "worker.cli", "worker"],
            cwd=installed or ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        self._log.close()

    def terminate(self, timeout: float = 60.0) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout)
        self._log.close()
        return code

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_lines(self) -> Sequence[str]:
        return self.log_path.read_text(errors="replace").splitlines()


class InProcessWorker:
    """The claim processor on this event loop, for tests that need no kill -9."""

    def __init__(
        self, cluster: Cluster, topics: Topics, worker_id: str = "w-inproc", **overrides: Any
    ) -> None:
        from worker.processor import ClaimProcessor
        from worker.settings import Settings

        conn = connection(cluster)
        security = {name: getattr(conn, name) for name in KafkaSecurity.model_fields}
        # A group of its own per topic set, unless the test names one.
        overrides.setdefault("group_id", f"g-{topics.submitted}")
        self.settings = Settings(
            bootstrap_servers=conn.bootstrap_servers,
            **security,
            topics=topics,
            worker_id=worker_id,
            **overrides,
        )
        self.processor = ClaimProcessor(self.settings)
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> InProcessWorker:
        await self.processor.start()
        self._task = asyncio.create_task(self.processor.run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.processor.stop()
        if self._task is not None:
            await asyncio.wait_for(self._task, 60)
        await self.processor.close()


class OpenTransactionWatch:
    """Sees whether a transaction is open on a topic: a partition whose high watermark
    (read_uncommitted end) is past its last stable offset (read_committed end)."""

    def __init__(self, cluster: Cluster, topic: str) -> None:
        self.conn = connection(cluster)
        self.topic = topic
        self._committed = AIOKafkaConsumer(**self.conn.options(), isolation_level="read_committed")
        self._uncommitted = AIOKafkaConsumer(
            **self.conn.options(), isolation_level="read_uncommitted"
        )
        self._tps: list[TopicPartition] = []

    async def __aenter__(self) -> OpenTransactionWatch:
        await start_reader(self._committed)
        await start_reader(self._uncommitted)
        self._tps = await partitions_of(self.conn, self.topic)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._committed.stop()
        await self._uncommitted.stop()

    async def open_transaction(self) -> bool:
        lso = await self._committed.end_offsets(self._tps)
        hw = await self._uncommitted.end_offsets(self._tps)
        return any(hw[tp] > lso[tp] for tp in self._tps)

    async def committed_end(self) -> int:
        return sum((await self._committed.end_offsets(self._tps)).values())
