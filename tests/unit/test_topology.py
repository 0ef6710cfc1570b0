"""One declaration of the topology: topic creation, the AsyncAPI document, routing and the
processor's writes all follow it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from schemas import Outcome, SourceRef
from schemas.examples import example_claim
from worker.app import WorkerApp
from worker.audit.chain import GENESIS
from worker.audit.heads import ChainHeadStore, checkpoint
from worker.decide import DecisionContext, decide
from worker.processor import ClaimProcessor
from worker.settings import Settings
from worker.stores import StateStore
from worker.topology import (
    DEAD_LETTER_MESSAGE_BYTES,
    LARGE_MESSAGE_BYTES,
    Direction,
    Partitioning,
    StoreSpec,
    Topics,
    declare,
)

NAMES = Topics.prefixed("tenant-a.")
TOPOLOGY = declare(NAMES)
AT = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


async def changelog(
    *items: tuple[bytes | None, bytes | None],
) -> AsyncIterator[tuple[bytes | None, bytes | None]]:
    for item in items:
        yield item


def test_topic_creation_creates_every_declared_topic_with_its_configuration() -> None:
    configs = TOPOLOGY.topic_configs()
    assert list(configs) == [t.name for t in TOPOLOGY.topics]
    assert set(configs) == set(NAMES.model_dump().values())  # every configured name, no other
    for topic in (TOPOLOGY.submitted, TOPOLOGY.scrubbed, TOPOLOGY.review, TOPOLOGY.audit):
        assert configs[topic.name]["max.message.bytes"] == str(LARGE_MESSAGE_BYTES)
    assert configs[NAMES.dead_letter]["max.message.bytes"] == str(DEAD_LETTER_MESSAGE_BYTES)
    # The evidence is kept for ever and never compacted; a store's changelog always is.
    evidence = (NAMES.audit, NAMES.audit_checkpoints, NAMES.review_actions,
                NAMES.review_actions_checkpoints)  # fmt: skip
    assert {t.name for t in TOPOLOGY.kept_as_evidence} == set(evidence)
    for name in evidence:
        assert configs[name]["cleanup.policy"] == "delete"
        assert (configs[name]["retention.ms"], configs[name]["retention.bytes"]) == ("-1", "-1")
    assert configs[TOPOLOGY.chain_heads.changelog.name]["cleanup.policy"] == "compact"
    assert declare(NAMES, 86_400_000).topic_configs()[NAMES.audit]["retention.ms"] == "86400000"


def test_the_asyncapi_document_is_the_processors_topology() -> None:
    app = WorkerApp(Settings(topics=NAMES))
    assert app.processor.topology == TOPOLOGY
    doc = json.loads(app.asyncapi.to_specification().to_json())
    actions = {
        op["channel"]["$ref"].removeprefix("#/channels/"): op["action"]
        for op in doc["operations"].values()
        if "HttpChannel" not in op["channel"]["$ref"]
    }
    assert actions == {t.name: t.direction.value for t in TOPOLOGY.topics}
    assert actions[NAMES.submitted] == Direction.RECEIVE.value == "receive"
    assert actions[NAMES.audit_checkpoints] == "send"
    # The review app's topics are documented as the review app's.
    described = doc["channels"][NAMES.review_actions]["description"]
    assert "Written by the review app." in described and "hash chain" in described


def test_headers_documented_are_exactly_those_written() -> None:
    doc = json.loads(WorkerApp(Settings(topics=NAMES)).asyncapi.to_specification().to_json())
    messages = doc["components"]["messages"]
    assert "correlationId" not in json.dumps(doc)  # FastStream's default: nobody writes one
    documented: dict[str, set[str]] = {}
    for name, message in messages.items():
        topic = name.split(":", 1)[0]  # "<topic>:<message>"; Kafka topic names have no colon
        documented.setdefault(topic, set()).update(message.get("headers", {}).get("properties", {}))
    assert documented == {t.name: {h.name for h in t.headers} for t in TOPOLOGY.topics}
    assert documented[NAMES.by_patient] == {
        "x-submitted-source",
        "x-submitted-key",
        "x-record-kind",
    }

    source = SourceRef(topic=NAMES.submitted, partition=0, offset=0)
    ctx = DecisionContext(topology=TOPOLOGY, worker_id="w", max_claim_bytes=64_000)
    written = {k for k, _ in decide(b"not json", None, source, ctx, AT).decision.headers}
    optional = {h.name for h in TOPOLOGY.dead_letter.headers if not h.required}
    assert optional  # traceparent: written only when the input carried a trace
    assert written == documented[NAMES.dead_letter] - optional


@pytest.mark.parametrize(
    ("raw", "outcome"),
    [
        (json.dumps(example_claim(1)).encode(), Outcome.SCRUBBED),
        (json.dumps({**example_claim(2), "diagnoses": []}).encode(), Outcome.NEEDS_REVIEW),
        (b"\xff", Outcome.DEAD_LETTER),
    ],
)
def test_decisions_are_routed_and_partitioned_as_declared(raw: bytes, outcome: Outcome) -> None:
    source = SourceRef(topic=NAMES.submitted, partition=2, offset=7)
    ctx = DecisionContext(topology=TOPOLOGY, worker_id="w", max_claim_bytes=64_000)
    d = decide(raw, b"k", source, ctx, AT)
    assert d.outcome is outcome
    routed = TOPOLOGY.route(outcome)
    assert routed.partitioning is Partitioning.BY_KEY
    assert (d.decision.topic, d.decision.partition) == (routed.name, None)
    assert TOPOLOGY.audit.partitioning is Partitioning.INPUT
    assert (d.audit.topic, d.audit.partition) == (NAMES.audit, 2)
    assert json.loads(d.audit.value)["output_topic"] == routed.name


async def test_the_checkpoint_and_the_store_writes_go_where_declared() -> None:
    heads = ChainHeadStore(TOPOLOGY)
    await heads.replay(2, changelog())
    moved = GENESIS.after(b"an event")
    heads.advance(2, moved)
    [write] = heads.pending_records(2)
    assert (write.topic, write.partition) == (NAMES.chain_heads_changelog, 2)
    pinned = checkpoint(TOPOLOGY, 2, moved, "w", AT)
    assert (pinned.topic, pinned.partition, pinned.key) == (NAMES.audit_checkpoints, 2, b"2")
    assert json.loads(pinned.value)["events"] == 1


def test_the_processor_keeps_the_declared_stores_it_uses() -> None:
    everything = ClaimProcessor(Settings(topics=NAMES, courses=True, mar_join=True))
    stores: tuple[StateStore, ...] = everything.stores
    assert [s.spec for s in stores] == list(TOPOLOGY.stores)
    # Without the course store and the MAR join only the audit chain heads are restored.
    plain = ClaimProcessor(Settings(topics=NAMES))
    assert [s.spec for s in plain.stores] == [TOPOLOGY.chain_heads]


def test_a_store_without_a_compacted_mirrored_changelog_is_refused() -> None:
    changelog = TOPOLOGY.chain_heads.changelog
    with pytest.raises(ValueError, match="compacted"):
        StoreSpec("s", replace(changelog, config={}))
    with pytest.raises(ValueError, match="mirror"):
        StoreSpec("s", replace(changelog, partitioning=Partitioning.BY_KEY))
