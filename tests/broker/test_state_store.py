"""A state store on a real broker: its changelog is compacted and mirrors the input partitions,
its writes commit and abort with the decisions' transaction, and a new owner restores it before
it processes the partition."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaConnectionError

from deploy.kafkatools import (
    InProcessWorker,
    claim_items,
    connection,
    produce,
    read_topic,
    wait_for_decisions,
)
from schemas import AuditCheckpoint, AuditEvent
from schemas.examples import example_claim
from worker.audit.chain import ChainHead, sha256_hex, verify
from worker.audit.heads import ChainHeadStore
from worker.audit.log import records_from_topic
from worker.batch import scrub
from worker.topic_admin import partitions_of
from worker.topology import Topics, declare

pytestmark = pytest.mark.broker


async def topic_config(bootstrap: str, topic: str) -> dict[str, str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        await admin.close()
    [(_error, _message, _type, _name, entries)] = response.resources
    return {entry[0]: entry[1] for entry in entries}


async def nothing() -> AsyncIterator[tuple[bytes | None, bytes | None]]:
    none: tuple[tuple[bytes | None, bytes | None], ...] = ()
    for change in none:
        yield change


def heads_in(records: list[bytes]) -> list[ChainHead]:
    return [ChainHead(**json.loads(v)) for v in records]


async def test_a_changelog_is_compacted_and_has_a_partition_per_input_partition(
    kafka_bootstrap: str, topics: Topics
) -> None:
    changelog = declare(topics).chain_heads.changelog.name
    assert (await topic_config(kafka_bootstrap, changelog))["cleanup.policy"] == "compact"
    assert (await topic_config(kafka_bootstrap, topics.audit))["cleanup.policy"] == "delete"
    assert len(await partitions_of(connection(kafka_bootstrap), changelog)) == len(
        await partitions_of(connection(kafka_bootstrap), topics.submitted)
    )


async def test_store_writes_abort_with_their_transaction_and_commit_with_it(
    kafka_bootstrap: str, topics: Topics, monkeypatch: pytest.MonkeyPatch
) -> None:
    commit = AIOKafkaProducer.commit_transaction
    failures: list[int] = []

    async def first_commit_fails(producer: AIOKafkaProducer) -> None:
        # Everything is written and acknowledged by now: only the commit is missing.
        if not failures:
            failures.append(1)
            raise KafkaConnectionError("injected: the commit did not reach the coordinator")
        await commit(producer)

    monkeypatch.setattr(AIOKafkaProducer, "commit_transaction", first_commit_fails)
    changelog = declare(topics).chain_heads.changelog.name
    await produce(
        kafka_bootstrap, topics.submitted, claim_items(map(example_claim, range(3))), partition=0
    )

    async with InProcessWorker(kafka_bootstrap, topics, retry_backoff_initial_s=0.1) as worker:
        out = await wait_for_decisions(kafka_bootstrap, topics, expected=3, timeout=60)
        assert worker.processor.stats.aborted == 1

    assert len(out.decisions) == len(out.audit) == 3
    committed = [r.value for r in await read_topic(kafka_bootstrap, changelog)]
    written = [r.value for r in await read_topic(kafka_bootstrap, changelog, "read_uncommitted")]
    assert len(written) > len(committed)  # the aborted transaction's head was written, not kept
    assert heads_in(committed)[-1].seq == 3
    # The head kept is the one the committed checkpoint pins, and it is the chain's real head.
    [*_, pinned] = [
        AuditCheckpoint.model_validate_json(r.value)
        for r in await read_topic(kafka_bootstrap, topics.audit_checkpoints)
    ]
    last_event = max(out.audit, key=lambda r: AuditEvent.model_validate_json(r.value).seq)
    assert heads_in(committed)[-1] == ChainHead(pinned.events, pinned.head_sha256)
    assert pinned.head_sha256 == sha256_hex(last_event.value)


async def test_a_new_owner_restores_the_store_before_it_processes_the_partition(
    kafka_bootstrap: str, topics: Topics
) -> None:
    # A head committed to the changelog as a previous owner's transaction would have.
    topology = declare(topics)
    planted = ChainHead(1000, "ab" * 32)
    heads = ChainHeadStore(topology)
    await heads.replay(0, nothing())
    heads.advance(0, planted)
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, transactional_id=f"plant-{topics.submitted}"
    )
    await producer.start()
    try:
        async with producer.transaction():
            for r in heads.pending_records(0):
                await producer.send_and_wait(r.topic, r.value, key=r.key, partition=r.partition)
    finally:
        await producer.stop()

    await produce(kafka_bootstrap, topics.submitted, claim_items([example_claim(1)]), partition=0)
    async with InProcessWorker(kafka_bootstrap, topics, worker_id="first"):
        out = await wait_for_decisions(kafka_bootstrap, topics, expected=1, timeout=60)
    [first] = [AuditEvent.model_validate_json(r.value) for r in out.audit]
    assert (first.seq, first.prev_hash) == (planted.seq, planted.prev_hash)

    # The first worker has left; the next owner continues from what it committed.
    await produce(kafka_bootstrap, topics.submitted, claim_items([example_claim(2)]), partition=0)
    async with InProcessWorker(kafka_bootstrap, topics, worker_id="second"):
        out = await wait_for_decisions(kafka_bootstrap, topics, expected=2, timeout=60)
    by_worker = {json.loads(r.value)["worker_id"]: r.value for r in out.audit}
    second = AuditEvent.model_validate_json(by_worker["second"])
    assert second.seq == planted.seq + 1
    assert second.prev_hash == sha256_hex(by_worker["first"])


async def test_an_audit_log_older_than_the_changelog_is_continued_not_restarted(
    kafka_bootstrap: str, topics: Topics
) -> None:
    # Audit partition 0 as a worker without the chain-head changelog left it.
    old = io.BytesIO()
    at = datetime(2026, 11, 1, tzinfo=UTC)
    inputs = [json.dumps(example_claim(n)).encode() for n in range(5)]
    scrub(inputs, topics.submitted, io.BytesIO(), old, decided_at=at)
    events = [(None, v) for v in old.getvalue().splitlines()]
    await produce(kafka_bootstrap, topics.audit, events, partition=0)

    await produce(kafka_bootstrap, topics.submitted, claim_items([example_claim(9)]), partition=0)
    async with InProcessWorker(kafka_bootstrap, topics):
        await wait_for_decisions(kafka_bootstrap, topics, expected=1, timeout=60)

    report = verify(
        [r async for r in records_from_topic(connection(kafka_bootstrap), topics.audit)]
    )
    assert report.ok, report.breaks
    assert report.heads[0].seq == 6
