"""Throughput of one worker, exactly-once, on a real broker. Prints figures; asserts nothing.

    python -m bench.worker_throughput [--claims 10000] [--batch 500]

Publishes N example claims (1-12 MAR entries each) to a 3-partition topic, then
starts one ``oncoscrub worker`` process and measures:

* end to end: worker start (process launch, group join, producer init) to the
  last decision committed;
* steady state: first batch begun to last batch committed, from the worker's own
  batch log events;
* the pure decision step alone (validate, route, serialize decision and audit),
  in this process, on one core.

Uses ``KAFKA_BOOTSTRAP_SERVERS`` if set, else starts the local broker.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from deploy.kafkatools import WorkerProcess, claim_items, create_topics, produce, read_outputs
from deploy.localkafka import LocalKafka, kafka_version
from schemas import SourceRef
from schemas.examples import example_claim
from worker.decide import DecisionContext, decide
from worker.topology import Topics, declare


def _batches(worker: WorkerProcess) -> list[dict[str, object]]:
    return [json.loads(line) for line in worker.log_lines() if '"batch_committed"' in line]


async def _through_worker(bootstrap: str, claims: int, batch: int) -> None:
    topics = Topics.prefixed(f"bench{int(time.time())}.")
    await create_topics(bootstrap, topics, partitions=3)
    items = claim_items(example_claim(n) for n in range(claims))
    size = sum(len(v) for _, v in items)
    await produce(bootstrap, topics.submitted, items)
    print(f"published {claims} claims ({size / claims / 1024:.1f} KiB average) to 3 partitions")

    with tempfile.TemporaryDirectory() as tmp:
        began = time.monotonic()
        worker = WorkerProcess(
            bootstrap,
            topics,
            "bench",
            Path(tmp),
            {"ONCOSCRUB_BATCH_MAX_RECORDS": str(batch), "ONCOSCRUB_LOG_DECISIONS": "true"},
        )
        while sum(int(str(b["records"])) for b in _batches(worker)) < claims:
            if not worker.alive():
                raise RuntimeError("\n".join(worker.log_lines()[-20:]))
            await asyncio.sleep(0.05)
        end_to_end = time.monotonic() - began
        batches = _batches(worker)
        worker.terminate()

    stamps = [datetime.fromisoformat(str(b["timestamp"])) for b in batches]
    first_work = float(str(batches[0]["decide_ms"])) + float(str(batches[0]["txn_ms"]))
    steady = (max(stamps) - min(stamps)).total_seconds() + first_work / 1000
    txn_ms = sorted(float(str(b["txn_ms"])) for b in batches)
    out = await read_outputs(bootstrap, topics)
    print(
        f"decisions read back (read_committed): {len(out.decisions)}, "
        f"audit events: {len(out.audit)}"
    )
    print(
        f"transactions: {len(batches)}, median commit {txn_ms[len(txn_ms) // 2]:.1f} ms, "
        f"p95 {txn_ms[int(len(txn_ms) * 0.95)]:.1f} ms"
    )
    print(
        f"end to end (incl. start-up and group join): {end_to_end:.2f} s "
        f"= {claims / end_to_end:,.0f} claims/s"
    )
    print(
        f"steady state (first batch to last commit):  {steady:.2f} s "
        f"= {claims / steady:,.0f} claims/s"
    )


def _decision_step(claims: int) -> None:
    ctx = DecisionContext(topology=declare(), worker_id="bench", max_claim_bytes=1_000_000)
    raws = [json.dumps(example_claim(n)).encode() for n in range(claims)]
    now = datetime.now(UTC)
    began = time.perf_counter()
    for offset, raw in enumerate(raws):
        decide(raw, None, SourceRef(topic="t", partition=0, offset=offset), ctx, now)
    took = time.perf_counter() - began
    print(
        f"decision step alone (validate + route + serialize, one core): "
        f"{claims / took:,.0f} claims/s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; Python {sys.version.split()[0]}")
    _decision_step(args.claims)
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if configured:
        asyncio.run(_through_worker(configured, args.claims, args.batch))
        return 0
    with LocalKafka(topics={}) as kafka:
        print(f"Kafka {kafka_version()} local broker ready in {kafka.startup_seconds:.1f}s")
        asyncio.run(_through_worker(kafka.bootstrap, args.claims, args.batch))
    return 0


if __name__ == "__main__":
    sys.exit(main())
