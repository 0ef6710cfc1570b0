"""The headers of a decision record: what a platform routes by without parsing the body.

* every decision: ``outcome``, ``content-type`` and, when the input carried one, the W3C
  ``traceparent`` of the trace it belongs to;
* a scrubbed claim or review request: ``payer`` (the payer id, when the claim was valid),
  ``rule-ids`` (the rules with findings, sorted, comma-separated) and ``severity`` (the
  highest finding's), both only when there are findings;
* a dead letter: the ``x-reason`` headers, and beside them Kafka Connect's
  ``__connect.errors.*`` headers, so that tools built for Connect's dead-letter queues read
  ours (the reason code as the exception's class, the reason in words as its message).

Headers never carry values from the claim but the payer id. Their size is bounded, so a
decision of the largest size still fits its topic (``HEADERS_BOUND``, within the record
overhead ``worker.limits`` reserves beside the key).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from schemas.audit import Outcome
from schemas.decision import Severity

RecordHeaders = tuple[tuple[str, bytes], ...]

OUTCOME = "outcome"
PAYER = "payer"
RULE_IDS = "rule-ids"
SEVERITY = "severity"
CONTENT_TYPE = "content-type"
TRACEPARENT = "traceparent"

JSON = "application/json"
BYTES = "application/octet-stream"  # a dead letter: the input's bytes, whatever they are

# Kafka Connect's dead-letter context headers (DeadLetterQueueReporter), numbers as decimals.
CONNECT = "__connect.errors."
CONNECT_TOPIC = CONNECT + "topic"
CONNECT_PARTITION = CONNECT + "partition"
CONNECT_OFFSET = CONNECT + "offset"
CONNECT_CONNECTOR = CONNECT + "connector.name"
CONNECT_TASK = CONNECT + "task.id"
CONNECT_STAGE = CONNECT + "stage"
CONNECT_CLASS = CONNECT + "class.name"
CONNECT_EXCEPTION = CONNECT + "exception.class.name"
CONNECT_MESSAGE = CONNECT + "exception.message"
CONNECTOR_NAME = "oncoscrub"
# Every dead letter is an input whose value could not be read as a claim: Connect's stage
# for a value that fails to deserialise, and the module that read it.
STAGE = "VALUE_CONVERTER"
READER = "worker.intake"

# A rule-ids header longer than this lists the ids that fit and "+N" for the rest (the body
# has them all); no claim has come near: it takes some 35 rules firing at once.
MAX_RULE_IDS = 320
# Every decision header's bytes with their framing, at most (tests/unit/test_headers.py
# measures the largest): with the largest key and a record's framing, within the
# ``worker.limits.RECORD_OVERHEAD`` a decision topic reserves beyond the largest decision.
HEADERS_BOUND = 640

_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


def highest(severities: Iterable[Severity]) -> Severity | None:
    return max(severities, key=_RANK.__getitem__, default=None)


def rule_ids_value(rule_ids: tuple[str, ...]) -> str:
    """The sorted ids, comma-separated, within ``MAX_RULE_IDS``."""
    ids = sorted(rule_ids)
    whole = ",".join(ids)
    if len(whole) <= MAX_RULE_IDS:
        return whole
    kept: list[str] = []
    for n, rule_id in enumerate(ids):
        rest = f",+{len(ids) - n}"
        if len(",".join([*kept, rule_id])) + len(rest) > MAX_RULE_IDS:
            return ",".join(kept) + rest
        kept.append(rule_id)
    return whole  # unreachable: the loop returns once the ids no longer fit


def _trace(traceparent: str | None) -> RecordHeaders:
    """A well-formed W3C traceparent, else none: a header is never a reason to fail."""
    if traceparent is None or not _TRACEPARENT.match(traceparent):
        return ()
    return ((TRACEPARENT, traceparent.encode()),)


def decision(
    outcome: Outcome,
    payer: str | None,
    rule_ids: tuple[str, ...],
    severity: Severity | None,
    traceparent: str | None = None,
) -> RecordHeaders:
    """The headers of a scrubbed claim or a review request."""
    headers: list[tuple[str, bytes]] = [(OUTCOME, outcome.value.encode())]
    if payer is not None:
        headers.append((PAYER, payer.encode()))
    if rule_ids:
        headers.append((RULE_IDS, rule_ids_value(rule_ids).encode()))
    if severity is not None:
        headers.append((SEVERITY, severity.value.encode()))
    headers.append((CONTENT_TYPE, JSON.encode()))
    return (*headers, *_trace(traceparent))


def dead_letter(
    reason: str,
    detail: str,
    topic: str,
    partition: int,
    offset: int,
    worker_id: str,
    engine_version: str,
    traceparent: str | None = None,
) -> RecordHeaders:
    """The headers of a dead letter: ours (``x-*``), then Kafka Connect's."""
    return (
        ("x-reason", reason.encode()),
        ("x-reason-detail", detail.encode()),
        ("x-source", f"{topic}:{partition}:{offset}".encode()),
        ("x-engine-version", engine_version.encode()),
        (CONNECT_TOPIC, topic.encode()),
        (CONNECT_PARTITION, str(partition).encode()),
        (CONNECT_OFFSET, str(offset).encode()),
        (CONNECT_CONNECTOR, CONNECTOR_NAME.encode()),
        (CONNECT_TASK, worker_id.encode()),
        (CONNECT_STAGE, STAGE.encode()),
        (CONNECT_CLASS, READER.encode()),
        (CONNECT_EXCEPTION, reason.encode()),
        (CONNECT_MESSAGE, detail.encode()),
        (OUTCOME, Outcome.DEAD_LETTER.value.encode()),
        (CONTENT_TYPE, BYTES.encode()),
        *_trace(traceparent),
    )
