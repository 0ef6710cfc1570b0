"""The demo: a real broker, a real worker, the bundled sample claims, and where each went.

    make demo        (or: python -m deploy.demo)

Starts Apache Kafka locally (deploy/localkafka.py), starts ``oncoscrub worker``
as a subprocess, publishes every file in deploy/samples (valid claims and bad
input), reads the outcome topics back with read_committed, prints a table, and
stops everything.

The screen holds the demo's own lines only, readable at 80 columns and without escape
codes when it is not a terminal. The Kafka clients' lines (the broker is unreachable
until it has started; a producer retries once a new partition has its leader) go to
``demo-clients.log`` in the demo's directory, the worker's to its own log there; both
are shown when something fails. ``ONCOSCRUB_DEMO_DIR`` names a directory to keep them
in (by default a temporary one, removed at the end).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from rich import box
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


# Where a decision went, in a word; the topic's name is in the table's caption.
WENT = {"scrubbed": "scrubbed", "needs_review": "review", "dead_letter": "dead letter"}


def _table(outputs: Outputs, names_by_offset: dict[tuple[int, int], str], topics: Topics) -> Table:
    # Each audit event names its decision by digest: no guessing by key or position.
    decisions = {hashlib.sha256(r.value).hexdigest(): r for r in outputs.decisions}
    table = Table(
        title="Where each sample claim went (read_committed)",
        caption=f"topics: {topics.scrubbed}, {topics.review}, {topics.dead_letter}",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    # The sample's name and the outcome stay whole; the reason wraps.
    table.add_column("sample", no_wrap=True)
    table.add_column("went to", no_wrap=True)
    table.add_column("why", overflow="fold")
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
                f"{r.rule_id or r.location or ''} {_first_part(r.message)}".strip()
                for r in review.reasons
            )
        else:
            why = ", ".join(event.reasons)
        table.add_row(Path(name).stem, WENT[event.outcome.value], why)
    return table


def _first_part(message: str) -> str:
    """A finding's what, without its why and what to do (``oncoscrub review`` shows them)."""
    return message.split(" Why: ", 1)[0]


def _client_log(path: Path) -> None:
    """The Kafka clients' lines of this process to ``path``, not the screen."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


async def _run(console: Console, kafka: LocalKafka, workdir: Path, client_log: Path) -> int:
    topics = Topics()
    conn = kafka.connection
    samples = sorted(p for p in SAMPLES.iterdir() if p.is_file())
    worker = WorkerProcess(
        conn, topics, "demo-worker", workdir, extra_env={"ONCOSCRUB_GROUP_ID": "oncoscrub-demo"}
    )
    console.print("Started the worker; publishing the sample claims...")
    began = time.monotonic()
    await produce(
        conn,
        topics.submitted,
        [(p.stem.encode(), p.read_bytes()) for p in samples],
        partition=0,
    )
    try:
        outputs = await wait_for_decisions(conn, topics, len(samples), timeout=120)
    except TimeoutError:
        console.print("[red]The worker did not decide every sample in time.[/red] Its log:")
        console.print("\n".join(worker.log_lines()[-30:]), markup=False)
        console.print("The Kafka clients' log:")
        console.print(_tail(client_log), markup=False)
        worker.kill()
        return 1
    elapsed = time.monotonic() - began
    names = {(0, offset): p.name for offset, p in enumerate(samples)}
    console.print(_table(outputs, names, topics))
    console.print(
        f"{len(samples)} claims decided in {elapsed:.1f}s, "
        f"each with one audit event in {topics.audit}."
    )
    records = [r async for r in records_from_topic(conn, topics.audit)]
    checkpoints = await checkpoints_from_topic(conn, topics.audit_checkpoints)
    report = verify(records, checkpoints)
    console.print(
        f"Audit chain: {'verified' if report.ok else 'BROKEN'}, {report.events} events, "
        f"{report.checkpoints_checked} checkpoint(s) matched."
    )
    console.print("  (oncoscrub audit verify checks any audit log the same way)")
    in_review = await fill_read_model(conn, topics)
    for line in closing_lines(in_review):
        # Whole lines: commands must stay copyable where a terminal is narrow.
        console.print(line, markup=False, soft_wrap=True)
    code = worker.terminate()
    stopped = [json.loads(line) for line in worker.log_lines() if '"processor_stopped"' in line]
    if stopped:
        s = stopped[-1]
        said = (
            f"{s.get('records')} records in {s.get('batches')} transaction(s), "
            f"{s.get('aborted')} aborted, {s.get('fenced')} fenced"
        )
    else:
        said = "no final summary in its log"
    console.print(f"Worker stopped (exit {code}): {said}.")
    return 0


def main() -> int:
    # highlight=False: numbers and paths stay plain; rich writes no escape codes unless the
    # screen is a terminal.
    console = Console(highlight=False)
    kept = os.environ.get("ONCOSCRUB_DEMO_DIR")
    if kept:
        Path(kept).mkdir(parents=True, exist_ok=True)
    place: contextlib.AbstractContextManager[str] = (
        contextlib.nullcontext(kept)
        if kept
        else tempfile.TemporaryDirectory(prefix="oncoscrub-demo-")
    )
    with place as tmp:
        workdir = Path(tmp)
        client_log = workdir / "demo-clients.log"
        _client_log(client_log)
        console.print(f"Starting Apache Kafka {kafka_version()} (KRaft, one node, loopback)...")
        with LocalKafka() as kafka:
            console.print(f"  ready on {kafka.bootstrap} in {kafka.startup_seconds:.1f}s")
            code = asyncio.run(_run(console, kafka, workdir, client_log))
        console.print("Broker stopped. Done.")
    return code


if __name__ == "__main__":
    sys.exit(main())
