"""Decision records carry headers a platform routes by (outcome, payer, rule ids, severity,
content type, trace context); dead letters carry Kafka Connect's ``__connect.errors.*``
beside ours. Headers never change a record's value or its audit event, and stay within the
bytes the topics reserve for them."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from rules.catalogue import RULES
from schemas import Outcome, SourceRef
from schemas.decision import ReviewRequest, ScrubbedClaim, Severity
from schemas.examples import example_claim
from tests.golden.record import INPUTS
from worker import limits, record_headers
from worker.asyncapi import TopologyDocument
from worker.decide import DecisionContext, Judging, decide, judge, link
from worker.topology import DEFAULT_MAX_DECISION_BYTES, declare

TOPOLOGY = declare()
AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
CTX = DecisionContext(topology=TOPOLOGY, worker_id="worker-7", max_claim_bytes=1_000_000)
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


def source(offset: int = 0, topic: str = "claims.submitted", partition: int = 0) -> SourceRef:
    return SourceRef(topic=topic, partition=partition, offset=offset)


def varint_bytes(n: int) -> int:
    """A Kafka record varint's length (zigzag)."""
    z, length = (n << 1) ^ (n >> 63), 1
    while z >= 0x80:
        z >>= 7
        length += 1
    return length


def encoded(headers: tuple[tuple[str, bytes], ...]) -> int:
    """The headers' bytes in a Kafka record: each name and value with its varint length."""
    return varint_bytes(len(headers)) + sum(
        varint_bytes(len(k.encode())) + len(k.encode()) + varint_bytes(len(v)) + len(v)
        for k, v in headers
    )


def test_every_golden_decision_says_in_its_headers_what_its_body_says() -> None:
    seen: set[str] = set()
    for offset, raw in enumerate(INPUTS.read_bytes().splitlines()):
        d = decide(raw, None, source(offset), CTX, AT)
        headers = dict(d.decision.headers)
        assert len(headers) == len(d.decision.headers)  # no name twice
        assert headers[record_headers.OUTCOME] == d.outcome.value.encode()
        seen.add(d.outcome.value)
        if d.outcome is Outcome.DEAD_LETTER:
            assert headers["content-type"] == b"application/octet-stream"
            continue
        assert headers["content-type"] == b"application/json"
        body: ScrubbedClaim | ReviewRequest
        if d.outcome is Outcome.SCRUBBED:
            body = ScrubbedClaim.model_validate_json(d.decision.value)
            payer: str | None = body.claim.payer.payer_id
        else:
            body = ReviewRequest.model_validate_json(d.decision.value)
            payer = body.claim.payer.payer_id if body.claim is not None else None
        assert headers.get("payer") == (payer.encode() if payer else None)
        ids = sorted({f.rule_id for f in body.findings})
        assert headers.get("rule-ids") == (",".join(ids).encode() if ids else None)
        top = max((f.severity for f in body.findings), key=RANK.__getitem__, default=None)
        assert headers.get("severity") == (top.value.encode() if top else None)
        assert "traceparent" not in headers  # batch mode: no trace to carry
    assert seen == {"scrubbed", "needs_review", "dead_letter"}


def test_a_judgement_tallies_its_findings_for_the_metrics() -> None:
    raw = INPUTS.read_bytes().splitlines()
    judged = [judge(r, None, CTX.judging) for r in raw]
    with_findings = [j for j in judged if j.findings]
    assert len(with_findings) > 100
    for j in with_findings:
        assert {rule for rule, _ in j.findings} == set(j.rule_ids)
        assert j.severity == max((s for _, s in j.findings), key=RANK.__getitem__)
    assert any(j.outcome is Outcome.SCRUBBED and j.severity is Severity.WARNING for j in judged)


def test_the_trace_context_is_carried_and_changes_no_byte_of_value_or_audit() -> None:
    raw = json.dumps(example_claim(4)).encode()
    j = judge(raw, b"k", CTX.judging)
    plain = link(j, raw, source(3), TOPOLOGY, "worker-7", AT)
    traced = link(j, raw, source(3), TOPOLOGY, "worker-7", AT, traceparent=TRACEPARENT)
    assert dict(traced.decision.headers)["traceparent"] == TRACEPARENT.encode()
    assert dict(traced.decision.headers).items() > dict(plain.decision.headers).items()
    assert traced.decision.value == plain.decision.value
    assert traced.audit == plain.audit and not traced.audit.headers
    # A malformed traceparent is not carried, and nothing fails.
    for bad in ("", "00-xyz", TRACEPARENT.upper(), TRACEPARENT + "-extra"):
        odd = link(j, raw, source(3), TOPOLOGY, "worker-7", AT, traceparent=bad)
        assert odd.decision.headers == plain.decision.headers


def test_a_dead_letter_carries_kafka_connects_headers_beside_ours() -> None:
    d = decide(b"{not json", b"key", source(41, partition=2), CTX, AT)
    headers = dict(d.decision.headers)
    reason, detail = headers["x-reason"], headers["x-reason-detail"]
    assert reason == b"not_json" and b"not" in detail and b"{not json" not in detail
    assert headers["x-source"] == b"claims.submitted:2:41"
    connect = {k.removeprefix("__connect.errors."): v for k, v in headers.items()
               if k.startswith("__connect.errors.")}  # fmt: skip
    assert connect == {
        "topic": b"claims.submitted", "partition": b"2", "offset": b"41",
        "connector.name": b"oncoscrub", "task.id": b"worker-7",
        "stage": b"VALUE_CONVERTER", "class.name": b"worker.intake",
        "exception.class.name": reason, "exception.message": detail,
    }  # fmt: skip
    traced = link(judge(b"{not json", b"key", CTX.judging), b"{not json", source(41, partition=2),
                  TOPOLOGY, "worker-7", AT, traceparent=TRACEPARENT)  # fmt: skip
    assert dict(traced.decision.headers)["traceparent"] == TRACEPARENT.encode()


def test_a_long_rule_id_list_is_cut_with_a_count_within_its_bound() -> None:
    every = tuple(RULES)
    assert len(",".join(every)) > record_headers.MAX_RULE_IDS  # the bound is needed
    value = record_headers.rule_ids_value(every)
    assert len(value) <= record_headers.MAX_RULE_IDS
    listed, rest = value.rsplit(",+", 1)
    assert listed.split(",") == sorted(every)[: len(listed.split(","))]
    assert len(listed.split(",")) + int(rest) == len(every)
    assert record_headers.rule_ids_value(("B-1", "A-1")) == "A-1,B-1"


def test_the_largest_decision_headers_fit_the_record_overhead_beside_the_largest_key() -> None:
    largest = record_headers.decision(
        Outcome.NEEDS_REVIEW, "P" * 64, tuple(RULES), Severity.WARNING, TRACEPARENT
    )
    assert encoded(largest) <= record_headers.HEADERS_BOUND
    # A batch of one: its header, the record's varints, the largest key, the headers.
    framing = 61 + 5 + 1 + 10 + 5 + varint_bytes(limits.MAX_KEY_BYTES) + 5
    assert framing + limits.MAX_KEY_BYTES + record_headers.HEADERS_BOUND <= limits.RECORD_OVERHEAD
    assert DEFAULT_MAX_DECISION_BYTES + limits.RECORD_OVERHEAD <= 16 * 1024 * 1024


@pytest.mark.parametrize("raw", [b"\xff", b"[1]", b"[" * 300, b"x" * 1001])
def test_the_largest_dead_letter_headers_fit_the_headroom(raw: bytes) -> None:
    ctx = replace(CTX, worker_id="w" * limits.MAX_WORKER_ID, max_claim_bytes=1000)
    longest = SourceRef(topic="t" * 249, partition=2**31 - 1, offset=2**63 - 1)
    j = judge(raw, None, Judging(ctx.max_claim_bytes))
    assert j.outcome is Outcome.DEAD_LETTER
    d = link(j, raw, longest, TOPOLOGY, ctx.worker_id, AT, traceparent=TRACEPARENT)
    assert encoded(d.decision.headers) + 100 <= limits.DEAD_LETTER_HEADROOM


def test_every_header_written_is_declared_and_each_required_one_always_written() -> None:
    for offset, raw in enumerate(INPUTS.read_bytes().splitlines()):
        j = judge(raw, None, CTX.judging)
        d = link(j, raw, source(offset), TOPOLOGY, "w", AT, traceparent=TRACEPARENT)
        declared = TOPOLOGY.route(d.outcome).headers
        written = [name for name, _ in d.decision.headers]
        assert set(written) <= {h.name for h in declared}
        assert {h.name for h in declared if h.required} <= set(written)


def test_the_asyncapi_document_documents_the_decision_headers() -> None:
    doc = json.loads(TopologyDocument(TOPOLOGY, "localhost:9092").to_specification().to_json())
    documented = {
        name.partition(":")[0]: set(m.get("headers", {}).get("properties", {}))
        for name, m in doc["components"]["messages"].items()
    }
    for topic in (TOPOLOGY.scrubbed, TOPOLOGY.review, TOPOLOGY.dead_letter):
        assert documented[topic.name] == {h.name for h in topic.headers}
    assert {"outcome", "payer", "rule-ids", "severity", "content-type", "traceparent"} == (
        documented[TOPOLOGY.scrubbed.name]
    )
    assert "correlationId" not in json.dumps(doc)
