"""Audit retention on a real broker: the evidence topics are kept for ever and never
compacted, and archiving a chain's head is recorded, deletes the records, and leaves a
log and an archive that both verify."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from deploy.kafkatools import (
    InProcessWorker,
    claim_items,
    connection,
    produce,
    read_outputs,
    wait_for_decisions,
)
from schemas import AuditArchival
from schemas.examples import example_claim
from tests.broker.test_state_store import topic_config
from worker.audit.chain import verify
from worker.audit.log import checkpoints_from_topic, records_from_topic
from worker.cli import cli
from worker.committed_reader import reader, start_reader
from worker.topic_admin import partitions_of
from worker.topology import Topics

pytestmark = pytest.mark.broker


async def test_the_evidence_topics_are_kept_for_ever_and_never_compacted(
    kafka_bootstrap: str, topics: Topics
) -> None:
    for name in (topics.audit, topics.audit_checkpoints, topics.review_actions,
                 topics.review_actions_checkpoints):  # fmt: skip
        config = await topic_config(kafka_bootstrap, name)
        assert config["cleanup.policy"] == "delete", name
        assert (config["retention.ms"], config["retention.bytes"]) == ("-1", "-1"), name


async def audit_cli(bootstrap: str, topics: Topics, *args: str) -> Result:
    env = {**topics.env(), "ONCOSCRUB_BOOTSTRAP_SERVERS": bootstrap}
    # In a thread: the commands run their own event loop.
    return await asyncio.to_thread(CliRunner().invoke, cli, ["audit", *args], env=env)


async def log_start_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    consumer = reader(connection(bootstrap))
    await start_reader(consumer)
    try:
        tps = await partitions_of(connection(bootstrap), topic)
        return {tp.partition: o for tp, o in (await consumer.beginning_offsets(tps)).items()}
    finally:
        await consumer.stop()


async def test_archiving_a_chains_head_is_recorded_and_both_halves_verify(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    first = [example_claim(n) for n in range(300)]
    await produce(kafka_bootstrap, topics.submitted, claim_items(first))
    async with InProcessWorker(kafka_bootstrap, topics):
        await wait_for_decisions(kafka_bootstrap, topics, len(first), timeout=120)

    archive_dir = tmp_path / "archive-2026-11"
    done = await audit_cli(kafka_bootstrap, topics, "archive", "--before-seq", "40",
                           "--to", str(archive_dir), "--reason", "records schedule 7.2",
                           "--by", "compliance@test")  # fmt: skip
    assert done.exit_code == 0, done.output
    assert done.output.count("now starts at seq 40") == 3

    # The head is gone from the topic: each partition starts at its first kept record.
    starts = await log_start_offsets(kafka_bootstrap, topics.audit)
    assert all(offset > 0 for offset in starts.values()), starts
    archivals = [
        c
        for c in await checkpoints_from_topic(connection(kafka_bootstrap), topics.audit_checkpoints)
        if isinstance(c, AuditArchival)
    ]
    assert sorted(a.partition for a in archivals) == [0, 1, 2]
    for a in archivals:
        assert (a.first_kept_seq, a.archived_events) == (40, 40)
        assert a.first_kept_offset == starts[a.partition]
        file = archive_dir / f"audit-p{a.partition}.jsonl"
        assert hashlib.sha256(file.read_bytes()).hexdigest() == a.archive_sha256
        assert (a.archived_by, a.reason) == ("compliance@test", "records schedule 7.2")

    # The chain keeps going after the archival, and both halves verify.
    later = [example_claim(n) for n in range(300, 360)]
    await produce(kafka_bootstrap, topics.submitted, claim_items(later))
    async with InProcessWorker(kafka_bootstrap, topics), asyncio.timeout(120):
        # The audit topic no longer holds the archived events: count the decisions.
        while len((await read_outputs(kafka_bootstrap, topics)).decisions) < 360:
            await asyncio.sleep(0.5)
    kept = await audit_cli(kafka_bootstrap, topics, "verify", "--json")
    assert kept.exit_code == 0, kept.output
    report = json.loads(kept.output)
    assert report["events"] == len(first) + len(later) - 3 * 40
    assert report["archived"] == {"0": 40, "1": 40, "2": 40}
    archived = await audit_cli(kafka_bootstrap, topics, "verify", "-f", str(archive_dir))
    assert archived.exit_code == 0, archived.output

    # Without the archival records, the same log is a chain missing its head.
    records = [r async for r in records_from_topic(connection(kafka_bootstrap), topics.audit)]
    pins = await checkpoints_from_topic(connection(kafka_bootstrap), topics.audit_checkpoints)
    bare = verify(records, [c for c in pins if not isinstance(c, AuditArchival)])
    assert not bare.ok and "no archival" in bare.breaks[0].problem


async def test_archiving_a_broken_chain_is_refused(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    await produce(
        kafka_bootstrap, topics.audit, [(b"x", b'{"schema_version":"1","seq":7}')], partition=0
    )
    refused = await audit_cli(kafka_bootstrap, topics, "archive", "--before-seq", "1",
                              "--to", str(tmp_path / "a"), "--reason", "r")  # fmt: skip
    assert refused.exit_code == 1 and "refused" in refused.output
    assert await log_start_offsets(kafka_bootstrap, topics.audit) == {0: 0, 1: 0, 2: 0}
