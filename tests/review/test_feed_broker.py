"""The read model fed from a real broker, on SQLite and on PostgreSQL: each record once across
a restart and a failed transaction, a rebuild from the topics gives the same rows, and every
review action is on claims.review-actions once, in a chain that verifies."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, Table, func, select
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from deploy.kafkatools import (
    InProcessWorker,
    claim_items,
    connection,
    produce,
    read_topic,
    wait_for_decisions,
)
from review import readmodel
from review import tables as t
from review.action_log import ActionLog
from review.draft import Draft, apply_correction, resubmission
from review.events import ActionKind, ReviewAction, action_id
from review.feed import Feed, rebuild
from review.queries import claim_view
from review.readmodel import Status, rows
from review.settings import ReviewSettings
from schemas.audit import AuditCheckpoint
from schemas.examples import example_claim
from tests.review.helpers import correctable_claim, names_of, review_claims
from worker.audit.chain import AuditRecord, ChainHead, verify
from worker.cli import cli
from worker.topology import OutRecord, Topics

pytestmark = pytest.mark.broker


def _settings(topics: Topics) -> ReviewSettings:
    prefix = topics.submitted.removesuffix("claims.submitted")
    return ReviewSettings(
        actions_topic=f"{prefix}claims.review-actions",
        actions_checkpoints_topic=f"{prefix}claims.review-actions-checkpoints",
        transactional_id_prefix=f"{prefix}review",
    )


def _count(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


async def _feed_to_end(engine: Engine, bootstrap: str, topics: Topics, s: ReviewSettings) -> Feed:
    feed = Feed(engine, connection(bootstrap), names_of(topics, s.actions_topic), poll_ms=100)
    await feed.start()
    try:
        await feed.catch_up()
    finally:
        await feed.close()
    return feed


async def test_fed_once_across_restarts_and_failures_rebuilt_alike_actions_chained(
    kafka_bootstrap: str, topics: Topics, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = _settings(topics)
    in_review = [correctable_claim(), *review_claims(9)]
    clean = [example_claim(n) for n in range(1, 6)]
    await produce(kafka_bootstrap, topics.submitted, claim_items([*in_review, *clean]))
    log = ActionLog(s, connection(kafka_bootstrap))
    await log.start()
    async with InProcessWorker(kafka_bootstrap, topics):
        out = await wait_for_decisions(kafka_bootstrap, topics, expected=15, timeout=90)
        assert len(out.review) == 10

        first = await _feed_to_end(engine, kafka_bootstrap, topics, s)
        assert (first.totals.records, first.totals.skipped) == (10 + 5 + 15, 0)  # + audit
        assert _count(engine, t.decisions) == 10 and _count(engine, t.claims) == 10

        # Actions, as the app writes them: one transaction each, chained per partition.
        def action(
            kind: ActionKind, claim_id: str, **kw: Any
        ) -> Callable[[ChainHead], ReviewAction]:
            at = datetime.now(UTC)

            def build(head: ChainHead) -> ReviewAction:
                return ReviewAction(
                    seq=head.seq, prev_hash=head.prev_hash,
                    action_id=action_id(claim_id, at, secrets.token_hex(6)), claim_id=claim_id,
                    claim_version=1, kind=kind, actor="cora", role="coder", at=at,
                    **kw,
                )  # fmt: skip

            return build

        written = []
        for claim in in_review[:6]:
            claimed = action(ActionKind.CLAIMED, claim["claim_id"])
            written.append(await log.append(claim["claim_id"], claimed))
        written.append(
            await log.append("CLM-00001001", action(ActionKind.NOTED, "CLM-00001001", note="n"))
        )
        with engine.connect() as conn:
            view = claim_view(conn, "CLM-REVIEW-1")
        assert view is not None and view.claim is not None and view.draft is not None
        [removal] = view.in_review.corrections if view.in_review else ()
        fixed = apply_correction(view.draft, removal)
        fixed = Draft(fixed.service_lines, ("Z51.11", "C50.911"), fixed.accepted)
        nxt = resubmission(view.claim, fixed)
        data = nxt.model_dump_json().encode()
        written.append(
            await log.append(
                "CLM-REVIEW-1",
                action(
                    ActionKind.RESUBMITTED, "CLM-REVIEW-1", resubmitted_version=2,
                    resubmitted_sha256=hashlib.sha256(data).hexdigest(),
                ),
                [OutRecord(topics.submitted, b"CLM-REVIEW-1", data)],
            )
        )  # fmt: skip
        out = await wait_for_decisions(kafka_bootstrap, topics, expected=16, timeout=90)
        assert len(out.scrubbed) == 6  # version 2 passed

    # The app restarts: a new feed on the same database picks up where the last stopped.
    # Its first transaction fails after writing rows (a database error): none of it stays.
    real = readmodel.summarise
    calls = {"n": 0}

    def fail_once(conn: Connection, claim_id: str) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("summarise", {}, Exception("disk I/O error"))
        real(conn, claim_id)

    monkeypatch.setattr(readmodel, "summarise", fail_once)
    second = Feed(
        engine, connection(kafka_bootstrap), names_of(topics, s.actions_topic), poll_ms=100
    )
    await second.start()
    try:
        with pytest.raises(OperationalError, match="disk I/O"):  # noqa: PT012 (until a batch comes)
            for _ in range(100):
                await second.step()
        assert _count(engine, t.actions) == 0  # the failed batch left nothing
        await second.catch_up()
    finally:
        await second.close()
    monkeypatch.setattr(readmodel, "summarise", real)
    # Only what came after the first feed: 8 actions, version 2's decision and audit event.
    assert second.totals.records == 8 + 1 + 1 and second.totals.skipped == 0
    assert _count(engine, t.actions) == 8 and _count(engine, t.decisions) == 11
    assert _count(engine, t.audit_events) == 11
    with engine.connect() as conn:
        resubmitted = conn.execute(
            select(t.claims).where(t.claims.c.claim_id == "CLM-REVIEW-1")
        ).one()
        assert (resubmitted.status, resubmitted.latest_version) == (Status.SCRUBBED, 2)
        assert (
            conn.execute(
                select(func.count()).select_from(t.claims).where(t.claims.c.assignee == "cora")
            ).scalar_one()
            == 5
        )
        before = rows(conn)
    third = await _feed_to_end(engine, kafka_bootstrap, topics, s)
    assert third.totals.records == 0

    # Rebuilt from the topics: the same rows.
    totals = await rebuild(engine, connection(kafka_bootstrap), names_of(topics, s.actions_topic))
    assert totals.records == 30 + 10
    with engine.connect() as conn:
        assert rows(conn) == before

    # Every action once on the topic, and the chains verify against their checkpoints.
    records = await read_topic(kafka_bootstrap, s.actions_topic)
    ids = [ReviewAction.model_validate_json(r.value).action_id for r in records]
    assert sorted(ids) == sorted(w.action.action_id for w in written) and len(set(ids)) == 8
    checkpoints = [
        AuditCheckpoint.model_validate_json(r.value)
        for r in await read_topic(kafka_bootstrap, s.actions_checkpoints_topic)
    ]
    assert len(checkpoints) == 8
    ordered = sorted(records, key=lambda r: (r.partition, r.offset))
    report = verify([AuditRecord(r.partition, r.offset, r.value) for r in ordered], checkpoints)
    assert report.ok and report.events == 8 and report.checkpoints_checked == 8

    # The compliance command verifies the action log the same way, from the broker.
    monkeypatch.setenv("ONCOSCRUB_BOOTSTRAP_SERVERS", kafka_bootstrap)
    for name, value in topics.env().items():
        monkeypatch.setenv(name, value)
    verified = await asyncio.to_thread(
        CliRunner().invoke, cli, ["audit", "verify", "--log", "review-actions", "--json"]
    )
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.output)["events"] == 8
    await log.close()
