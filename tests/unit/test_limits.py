"""The size arithmetic closes, and the start-up check names every topic that breaks it."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from schemas import Outcome, SourceRef
from worker import limits
from worker.decide import DecisionContext, decide
from worker.settings import Settings
from worker.topic_check import problems
from worker.topology import (
    DEAD_LETTER_MESSAGE_BYTES,
    DEFAULT_MAX_DECISION_BYTES,
    LARGE_MESSAGE_BYTES,
    Topics,
    declare,
)

TOPOLOGY = declare()
SETTINGS = Settings()
AT = datetime(2026, 11, 30, tzinfo=UTC)


def as_created(**overrides: dict[str, str]) -> dict[str, tuple[int, dict[str, str]]]:
    """The brokers' view of the topics as topic creation makes them, broker defaults
    filled in as DescribeConfigs reports them."""
    defaults = {"max.message.bytes": "1048588", "retention.ms": "604800000",
                "retention.bytes": "-1", "cleanup.policy": "delete"}  # fmt: skip
    out = {}
    for name, config in TOPOLOGY.topic_configs().items():
        out[name] = (3, {**defaults, **config, **overrides.get(name, {})})
    return out


def test_the_topology_as_created_passes_the_check() -> None:
    assert problems(TOPOLOGY, SETTINGS, as_created()) == []


def test_the_declared_limits_hold_the_largest_records_by_construction() -> None:
    assert limits.dead_letter_topic_bytes(LARGE_MESSAGE_BYTES) <= DEAD_LETTER_MESSAGE_BYTES
    assert limits.decision_topic_bytes(DEFAULT_MAX_DECISION_BYTES) <= LARGE_MESSAGE_BYTES
    assert limits.smallest_decision_cap(SETTINGS.max_claim_bytes) <= DEFAULT_MAX_DECISION_BYTES


@pytest.mark.parametrize("size", [8, 9, 10, 1024, 999_999, 1_000_000])
def test_a_review_carrying_the_largest_claim_stays_within_the_arithmetic(size: int) -> None:
    # A JSON object of exactly the limit that is not a claim: the review carries it whole.
    raw = b'{"x":"' + b"a" * (size - 8) + b'"}'
    ctx = DecisionContext(topology=TOPOLOGY, worker_id="w" * 200, max_claim_bytes=size)
    source = SourceRef(topic="t" * 249, partition=2**31 - 1, offset=2**62)
    d = decide(raw, b"k" * limits.MAX_KEY_BYTES, source, ctx, AT)
    assert d.outcome is Outcome.NEEDS_REVIEW and len(raw) == size
    assert len(d.decision.value) <= limits.guarded_review_bytes(size)
    assert len(d.audit.value) <= limits.guarded_audit_bytes(size)
    assert base64.b64decode(json.loads(d.audit.value)["input_b64"] or "") == raw


def test_the_dead_letter_headers_fit_the_headroom() -> None:
    ctx = DecisionContext(topology=TOPOLOGY, worker_id="w", max_claim_bytes=1024)
    source = SourceRef(topic="t" * 249, partition=2**31 - 1, offset=2**62)
    d = decide(b"x" * 5000, b"k", source, ctx, AT)
    header_bytes = sum(len(k) + len(v) + 8 for k, v in d.decision.headers)
    assert header_bytes + 100 < limits.DEAD_LETTER_HEADROOM


@pytest.mark.parametrize(
    ("topic", "config", "says"),
    [
        ("claims.dead-letter", {"max.message.bytes": str(LARGE_MESSAGE_BYTES)},
         "claims.dead-letter: max.message.bytes is 16777216, must be at least 16781312"),
        ("claims.needs-review", {"max.message.bytes": "1048588"},
         "claims.needs-review: max.message.bytes is 1048588"),
        ("claims.audit", {"retention.ms": "604800000"},
         "claims.audit: retention.ms is 604800000, must be -1"),
        ("claims.audit-checkpoints", {"cleanup.policy": "compact,delete"},
         "claims.audit-checkpoints: cleanup.policy must be delete, never compact"),
        ("claims.audit", {"retention.bytes": "1073741824"}, "retention.bytes is 1073741824"),
        ("oncoscrub.audit-chain-heads.changelog", {"cleanup.policy": "delete"},
         "changelog: cleanup.policy must be compact"),
    ],
)  # fmt: skip
def test_each_broken_promise_is_named(topic: str, config: dict[str, str], says: str) -> None:
    found = problems(TOPOLOGY, SETTINGS, as_created(**{topic: config}))
    assert len(found) == 1 and says in found[0], found


def test_a_larger_input_topic_needs_a_larger_dead_letter_topic_and_request_size() -> None:
    found = problems(
        TOPOLOGY, SETTINGS, as_created(**{"claims.submitted": {"max.message.bytes": "33554432"}})
    )
    assert any("claims.dead-letter" in p and "33558528" in p for p in found)
    assert any("ONCOSCRUB_MAX_REQUEST_BYTES" in p for p in found)


def test_missing_topics_and_partitions_are_named() -> None:
    actual = as_created()
    del actual["claims.audit"]
    assert problems(TOPOLOGY, SETTINGS, actual) == [
        "topic claims.audit does not exist: create the topology's topics first"
    ]
    actual = as_created()
    actual["claims.audit-checkpoints"] = (1, actual["claims.audit-checkpoints"][1])
    assert problems(TOPOLOGY, SETTINGS, actual) == [
        "topic claims.audit-checkpoints: 1 partition(s), needs 3 (one per partition of "
        "claims.submitted)"
    ]


def test_a_configured_retention_is_what_the_check_expects() -> None:
    week = Settings(evidence_retention_ms=604_800_000)
    topology = declare(Topics(), week.evidence_retention_ms)
    created = {n: (3, {"max.message.bytes": "1048588", "retention.bytes": "-1", **c})
               for n, c in topology.topic_configs().items()}  # fmt: skip
    assert problems(topology, week, created) == []
    assert topology.topic_configs()["claims.review-actions"]["retention.ms"] == "604800000"


def test_settings_refuse_a_decision_cap_that_cannot_hold_the_largest_claim() -> None:
    with pytest.raises(ValueError, match="max_decision_bytes must be at least"):
        Settings(max_claim_bytes=1_000_000, max_decision_bytes=1_000_000)
