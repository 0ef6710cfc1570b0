"""The read model on SQLite and on PostgreSQL: records applied once, derived rows independent
of the order the topics were read in, actions moving a claim through the queue."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from review import tables as t
from review.database import writer
from review.draft import draft_of
from review.events import ActionKind, CloseReason, ReviewAction
from review.queries import Filters, Sort, claim_view, worklist
from review.readmodel import FeedRecord, Status, apply, reset, rows
from schemas.decision import ReviewRequest
from tests.review.helpers import as_records, correctable_claim, decide, names_of, review_claims
from worker.audit.chain import GENESIS, ChainHead
from worker.topology import Topics

NAMES = names_of(Topics())


def _apply(engine: Engine, records: list[FeedRecord]) -> tuple[int, int]:
    with writer(engine).begin() as conn:
        result = apply(conn, NAMES, records)
    return result.records, result.skipped


def _action(
    head: ChainHead,
    claim_id: str,
    kind: ActionKind,
    actor: str = "cora",
    version: int = 1,
    **kw: object,
) -> bytes:
    return ReviewAction(
        seq=head.seq, prev_hash=head.prev_hash, action_id=f"{claim_id}-{head.seq}",
        claim_id=claim_id, claim_version=version, kind=kind, actor=actor, role="coder",
        at=datetime(2026, 6, 2, 9, head.seq, tzinfo=UTC), **kw,
    ).model_dump_json().encode()  # fmt: skip


def test_each_record_is_applied_once_and_the_offsets_say_how_far(engine: Engine) -> None:
    decisions = decide(review_claims(12))
    records = as_records(decisions, NAMES)
    review_count = sum(1 for kind, _ in decisions if kind == "review")
    assert review_count == 12

    assert _apply(engine, records[:5]) == (5, 0)
    # The same records again (a restart that had not stored its position, a second feed):
    # nothing is applied twice.
    assert _apply(engine, records) == (7, 5)
    assert _apply(engine, records) == (0, 12)
    with engine.connect() as conn:
        assert conn.execute(select(t.decisions.c.id)).all().__len__() == 12
        assert conn.execute(select(t.feed_offsets.c.next_offset)).scalar_one() == 12
        listing = worklist(conn, Filters(), page_size=50)
    assert listing.total == 12
    assert {r.claim_id for r in listing.rows} == {json.loads(v)["claim_id"] for _, v in decisions}
    # Oldest first: the order the decisions were published in.
    assert [r.claim_id for r in listing.rows] == [json.loads(v)["claim_id"] for _, v in decisions]


def test_rows_do_not_depend_on_the_order_the_topics_are_read_in(engine: Engine) -> None:
    decisions = decide([*review_claims(6), correctable_claim()])
    v2 = correctable_claim()
    v2.update(claim_version=2, diagnoses=list(reversed(v2["diagnoses"])))
    v2["service_lines"] = [line for line in v2["service_lines"] if line["code"] != "99211"]
    [(kind_v2, value_v2)] = decide([v2])
    assert kind_v2 == "scrubbed"
    records = as_records([*decisions, (kind_v2, value_v2)], NAMES)
    head, actions = GENESIS, []
    for kind, extra in (
        (ActionKind.CLAIMED, {}),
        (ActionKind.NOTED, {"note": "asked the nurse"}),
        (ActionKind.RESUBMITTED, {"resubmitted_version": 2}),
    ):
        value = _action(head, "CLM-REVIEW-1", kind, **extra)
        actions.append(FeedRecord(NAMES.actions, 0, head.seq, 1_780_000_100_000, value))
        head = head.after(value)
    everything = [*records, *actions]

    _apply(engine, everything)
    with engine.connect() as conn:
        in_order = rows(conn)
        summary = conn.execute(select(t.claims).where(t.claims.c.claim_id == "CLM-REVIEW-1")).one()
    assert (summary.status, summary.latest_version) == (Status.SCRUBBED, 2)

    # Empty again, then the same records in another interleaving: each partition keeps
    # its order (Kafka's), the partitions and topics are read independently.
    with writer(engine).begin() as conn:
        reset(conn)
    queues: dict[tuple[str, int], list[FeedRecord]] = {}
    for record in everything:
        queues.setdefault((record.topic, record.partition), []).append(record)
    rnd = random.Random(7)
    while queues:
        tp = rnd.choice(sorted(queues))
        take = queues[tp][: rnd.randint(1, 3)]
        queues[tp] = queues[tp][len(take) :]
        if not queues[tp]:
            del queues[tp]
        _apply(engine, take)
    with engine.connect() as conn:
        assert rows(conn) == in_order


def test_actions_move_a_claim_through_the_queue(engine: Engine) -> None:
    records = as_records(decide([correctable_claim(), *review_claims(3)]), NAMES)
    _apply(engine, records)
    review = ReviewRequest.model_validate_json(records[0].value or b"")
    [correction] = review.corrections
    head, offset = GENESIS, 0

    def act(kind: ActionKind, actor: str = "cora", **kw: Any) -> None:
        nonlocal head, offset
        value = _action(head, "CLM-REVIEW-1", kind, actor, **kw)
        _apply(engine, [FeedRecord(NAMES.actions, 0, offset, 1_780_000_200_000, value)])
        head, offset = head.after(value), offset + 1

    def summary() -> tuple[str, str | None]:
        with engine.connect() as conn:
            row = conn.execute(select(t.claims).where(t.claims.c.claim_id == "CLM-REVIEW-1")).one()
        return row.status, row.assignee

    act(ActionKind.CLAIMED)
    assert summary() == (Status.OPEN, "cora")
    with engine.connect() as conn:
        mine = worklist(conn, Filters(assignee="cora"), 50)
        unassigned = worklist(conn, Filters(assignee="unassigned"), 50)
    assert [r.claim_id for r in mine.rows] == ["CLM-REVIEW-1"]
    assert "CLM-REVIEW-1" not in {r.claim_id for r in unassigned.rows} and unassigned.total == 3

    act(ActionKind.ACCEPTED_CORRECTION, correction=correction)
    with engine.connect() as conn:
        view = claim_view(conn, "CLM-REVIEW-1")
    assert view is not None and view.claim is not None and view.draft is not None
    assert [line.code for line in view.draft.service_lines] == [
        line.code
        for line in view.claim.service_lines
        if line.line_number not in correction.line_numbers
    ]
    assert view.draft == draft_of(view.claim, [a.action for a in view.actions])

    act(ActionKind.RELEASED, actor="cole")
    assert summary() == (Status.OPEN, None)
    act(ActionKind.CLOSED, close_reason=CloseReason.SENT_TO_DOCUMENTATION)
    assert summary()[0] == Status.CLOSED
    with engine.connect() as conn:
        assert worklist(conn, Filters(), 50).total == 3
        closed = worklist(conn, Filters(status=Status.CLOSED), 50)
        assert [(r.claim_id) for r in closed.rows] == ["CLM-REVIEW-1"]


def test_filters_and_counts(engine: Engine) -> None:
    decisions = decide(review_claims(30))
    _apply(engine, as_records(decisions, NAMES))
    docs = [ReviewRequest.model_validate_json(v) for _, v in decisions]
    with engine.connect() as conn:
        every = worklist(conn, Filters(), 100)
        by_rule = dict(every.rule_counts)
        for rule, count in by_rule.items():
            assert worklist(conn, Filters(rule=rule), 100).total == count
        expected_rules: dict[str, int] = {}
        for d in docs:
            for r in {x.rule_id for x in d.reasons if x.rule_id}:
                expected_rules[r] = expected_rules.get(r, 0) + 1
        assert by_rule == expected_rules
        health_net = worklist(conn, Filters(payer="HEALTHNET-CA"), 100)
        assert health_net.total == sum(
            1 for d in docs if d.claim and d.claim.payer.payer_id == "HEALTHNET-CA"
        )
        assert all(r.payer_id == "HEALTHNET-CA" for r in health_net.rows)
        office = worklist(conn, Filters(setting="physician_office"), 100)
        assert office.total == sum(
            1 for d in docs if d.claim and d.claim.setting == "physician_office"
        )
        day = docs[4].claim.statement_from if docs[4].claim else None
        assert day is not None
        on_day = worklist(conn, Filters(service_from=day, service_to=day), 100)
        assert {r.claim_id for r in on_day.rows} == {
            d.claim_id for d in docs if d.claim and d.claim.statement_from == day
        }
        paged = [worklist(conn, Filters(page=p), 7) for p in (1, 2, 3, 4, 5)]
        assert [len(p.rows) for p in paged] == [7, 7, 7, 7, 2] and paged[0].pages == 5
        assert len({r.claim_id for p in paged for r in p.rows}) == 30
        newest = worklist(conn, Filters(sort=Sort.NEWEST), 100)
        assert [r.claim_id for r in newest.rows] == [r.claim_id for r in reversed(every.rows)]
        # Published one second apart: an hour and 15.5 s after the first, 16 are an hour old.
        first = datetime.fromtimestamp(1_780_000_000, UTC)
        at = first + timedelta(hours=1, seconds=15.5)
        old = worklist(conn, Filters(min_age_hours=1), 100, now=at)
        assert [r.claim_id for r in old.rows] == [r.claim_id for r in every.rows[:16]]
        assert worklist(conn, Filters(min_age_hours=2), 100, now=at).total == 0


@pytest.mark.parametrize("value", [b"not json", b'{"schema_version":"1"}'])
def test_an_unreadable_record_is_passed_over_and_the_feed_moves_on(
    engine: Engine, value: bytes
) -> None:
    good = as_records(decide(review_claims(2)), NAMES)
    bad = FeedRecord(NAMES.review, 0, 2, 1_780_000_000_000, value)
    with writer(engine).begin() as conn:
        result = apply(conn, NAMES, [*good, bad])
    assert (result.records, result.unreadable) == (3, 1)
    with engine.connect() as conn:
        assert conn.execute(select(t.feed_offsets.c.next_offset)).scalar_one() == 3
        assert worklist(conn, Filters(), 10).total == 2
