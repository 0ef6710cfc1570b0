"""The log events of a committed batch: one per decision (``log_decisions``), one per batch.

Offsets, outcomes and reason codes only; a claim's id as its keyed digest
(``worker.logs.ClaimRefs``), never as given.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition

from worker.decide import Decision
from worker.logs import ClaimRefs, get_logger

log = get_logger("worker.processor")


def batch_committed(
    tp: TopicPartition,
    records: Sequence[ConsumerRecord[Any, Any]],
    decisions: Sequence[tuple[int, Decision]],
    outcomes: Counter[str],
    decide_s: float,
    txn_s: float,
    refs: ClaimRefs | None,
) -> None:
    """``decisions``: each with the offset of its input record (an X12 record has one per
    claim). ``refs``: log each decision, its claim id as the digest ``refs`` gives; None: not."""
    if refs is not None:
        for offset, decision in decisions:
            log.info(
                "decision",
                claim_ref=refs(decision.claim_id),
                partition=tp.partition,
                offset=offset,
                outcome=decision.outcome.value,
                reasons=[r.value for r in decision.reasons] or None,
            )
    log.info(
        "batch_committed",
        partition=tp.partition,
        first_offset=records[0].offset,
        last_offset=records[-1].offset,
        records=len(records),
        outcomes=dict(outcomes),
        decide_ms=round(decide_s * 1000, 2),
        txn_ms=round(txn_s * 1000, 2),
    )
