"""The demo: a real broker, a real worker, the bundled sample claims, and where each went.

    make demo        (or: python -m deploy.demo)

Starts Apache Kafka locally (deploy/localkafka.py), starts ``oncoscrub worker``
as a subprocess, publishes every file in deploy/samples (valid claims and bad
input), reads the outcome topics back with read_committed, prints a table, and
stops everything.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from deploy.kafkatools import Outputs, WorkerProcess, produce, wait_for_decisions
from deploy.localkafka import LocalKafka, kafka_version
from review.demo import closing_lines, fill_read_model
from schemas import AuditEvent, ComputedLine, ReviewRequest, ScrubbedClaim
from worker.audit.chain import verify
from worker.audit.log import checkpoints_from_topic, records_from_topic
from worker.topology import Topics

SAMPLES = Path(__file__).with_name("samples")


def _codes(lines: Sequence[ComputedLine]) -> str:
    return ", ".join(f"{line.code}x{line.units}" for line in lines) or "none"


def _table(outputs: Outputs, names_by_offset: dict[tuple[int, int], str], topics: Topics) -> Table:
    # Each audit event names its decision by digest: no guessing by key or position.
    decisions = {hashlib.sha256(r.value).hexdigest(): r for r in outputs.decisions}
    table = Table(title="Where each sample claim went (read_committed)")
    for column in ("sample", "claim id", "topic", "why"):
        table.add_column(column)
    events = sorted(
        (AuditEvent.model_validate_json(r.value) for r in outputs.audit),
        key=lambda e: names_by_offset[(e.source.partition, e.source.offset)],
    )
    for event in events:
        name = names_by_offset[(event.source.partition, event.source.offset)]
        record = decisions[event.output_sha256]
        if event.output_topic == topics.scrubbed:
            scrubbed = ScrubbedClaim.model_validate_json(record.value)
            why = "codes from the MAR: " + _codes(scrubbed.computed_lines)
            why += "".join(f"; corrected ({c.rule_id}): {c.reason}" for c in scrubbed.corrections)
        elif event.output_topic == topics.review:
            review = ReviewRequest.model_validate_json(record.value)
            why = "; ".join(
                f"{r.rule_id or r.location or ''} {r.message}".strip() for r in review.reasons
            )
        else:
            why = ", ".join(event.reasons)
        table.add_row(name, event.claim_id or "-", event.output_topic, why)
    return table


async def _run(console: Console, kafka: LocalKafka) -> int:
    topics = Topics()
    samples = sorted(p for p in SAMPLES.iterdir() if p.is_file())
    with tempfile.TemporaryDirectory(prefix="oncoscrub-demo-") as tmp:
        worker = WorkerProcess(
            kafka.bootstrap,
            topics,
            "demo-worker",
            Path(tmp),
            extra_env={"ONCOSCRUB_GROUP_ID": "oncoscrub-demo"},
        )
        console.print("Started the worker; publishing the sample claims...")
        began = time.monotonic()
        await produce(
            kafka.bootstrap,
            topics.submitted,
            [(p.stem.encode(), p.read_bytes()) for p in samples],
            partition=0,
        )
        try:
            outputs = await wait_for_decisions(kafka.bootstrap, topics, len(samples), timeout=120)
        except TimeoutError:
            console.print("[red]The worker did not decide every sample in time; its log:")
            console.print("\n".join(worker.log_lines()[-30:]))
            worker.kill()
            return 1
        elapsed = time.monotonic() - began
        names = {(0, offset): p.name for offset, p in enumerate(samples)}
        console.print(_table(outputs, names, topics))
        console.print(
            f"{len(samples)} claims decided in {elapsed:.1f}s, "
            f"each with one audit event in {topics.audit}."
        )
        records = [r async for r in records_from_topic(kafka.bootstrap, topics.audit)]
        checkpoints = await checkpoints_from_topic(kafka.bootstrap, topics.audit_checkpoints)
        report = verify(records, checkpoints)
        console.print(
            f"Audit chain: {'verified' if report.ok else 'BROKEN'}, {report.events} events, "
            f"{report.checkpoints_checked} checkpoint(s) matched "
            "(oncoscrub audit verify does the same on any log)."
        )
        in_review = await fill_read_model(kafka.bootstrap, topics)
        for line in closing_lines(in_review):
            console.print(line)
        code = worker.terminate()
        stopped = [json.loads(line) for line in worker.log_lines() if '"processor_stopped"' in line]
        console.print(f"Worker stopped (exit {code}): {stopped[-1] if stopped else 'no summary'}")
    return 0


def main() -> int:
    console = Console()
    console.print(f"Starting Apache Kafka {kafka_version()} (KRaft, one node, loopback)...")
    with LocalKafka() as kafka:
        console.print(f"  ready on {kafka.bootstrap} in {kafka.startup_seconds:.1f}s")
        code = asyncio.run(_run(console, kafka))
    console.print("Broker stopped. Done.")
    return code


if __name__ == "__main__":
    sys.exit(main())
