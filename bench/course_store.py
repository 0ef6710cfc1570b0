"""The course store (issue 13) on a real broker. Prints figures; asserts nothing.

    python -m bench.course_store [--courses 100000] [--claims 20000] [--batch 500] [--rounds 1]

1. Restore: ``--courses`` patients' course states (``schemas.course.PatientCourses``, a few
   course shapes built with ``rules.courses.assess_in_course``, then copied under other
   patient references) are written to the course store's changelog (3 partitions, keyed by
   patient reference), and each partition is restored as a worker restores it on
   assignment (``ChangelogStore.restore``). Prints the changelog's size and the restore time.
2. Throughput: the same ``--claims`` claims (80 % example claims without radiation
   services, 20 % claims of 3D courses of five claims each, treated within the last
   70 days, since the worker decides on today's date) through one ``oncoscrub worker``
   with the course store off, then on (``ONCOSCRUB_COURSES=true``: repartitioned by
   patient, decided against the patient's courses, the state written in the decision's
   transaction), fresh topics each run, ``--rounds`` times each in alternating order.
   Prints claims/s for each run and the ratio on/off.

Uses ``KAFKA_BOOTSTRAP_SERVERS`` if set, else starts the local broker.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from deploy.kafkatools import (
    WorkerProcess,
    claim_items,
    connection,
    create_topics,
    produce,
    read_outputs,
)
from deploy.localkafka import LocalKafka, kafka_version
from schemas import SubmittedClaim
from schemas.examples import example_claim
from tests.rules.course_builder import claim, days, fx, on, run
from worker.committed_reader import reader, start_reader
from worker.stores import ChangelogStore, RawCodec
from worker.topology import Topics, declare

# Stands for the patient reference in a template; also the prefix of its claims' ids.
PLACEHOLDER = "PSN-TEMPLATE0000"
PARTITIONS = 3


def _monday_weeks_ago(days_ago: int) -> date:
    day = datetime.now(UTC).date() - timedelta(days=days_ago)
    return day - timedelta(days=day.weekday())


def _three_d(start: date) -> list[SubmittedClaim]:
    """Spec R3's shape over five claims: planning and simulation, dosimetry, then ten
    fractions and their weekly management."""
    p, d = PLACEHOLDER, days(start, 16)
    return [
        claim(f"{p}-plan", on("77263", d[0]), on("77290", d[0])),
        claim(f"{p}-dosi", on("77295", d[1]), on("77300", d[1]), on("77334", d[1])),
        claim(f"{p}-fx1", *fx("77412", d[2], 4)),
        claim(f"{p}-fx2", *fx("77412", d[6], 4), on("77427", d[9])),
        claim(f"{p}-fx3", *fx("77412", d[10], 2), on("77427", d[11])),
    ]


def _imrt_started(start: date) -> list[SubmittedClaim]:
    """An IMRT course in its first week: the physician's planning, the hospital's plan,
    device and dosimetry, five fractions with the week's physics."""
    p, d = PLACEHOLDER, days(start, 8)
    return [
        claim(f"{p}-P00", on("77263", d[0]), on("77301", d[1], mods="26"), party="physician"),
        claim(f"{p}-H00", on("77301", d[1]), on("77338", d[1]), on("77300", d[1])),
        claim(f"{p}-H01", *fx("77386", d[3], 5), on("77336", d[7])),
    ]


def _palliative(start: date) -> list[SubmittedClaim]:
    """A short palliative course, the physician billing apart (four claims)."""
    p, d = PLACEHOLDER, days(start, 7)
    return [
        claim(f"{p}-P00", on("77261", d[0]), party="physician"),
        claim(f"{p}-H00", on("77280", d[0]), on("77300", d[0])),
        claim(f"{p}-H01", *fx("77402", d[1], 5)),
        claim(f"{p}-P01", on("77427", d[5]), party="physician"),
    ]


def _recurrence(start: date) -> list[SubmittedClaim]:
    """A course months ago, closed by the gap, and the planning of a new one."""
    old = _three_d(start - timedelta(days=210))[:3]
    p = PLACEHOLDER
    return [*old, claim(f"{p}-replan", on("77263", start), on("77290", start))]


SHAPES: dict[str, Callable[[date], list[SubmittedClaim]]] = {
    "3d": _three_d,
    "imrt-started": _imrt_started,
    "palliative": _palliative,
    "recurrence": _recurrence,
}


def _patient(claims: list[SubmittedClaim]) -> list[SubmittedClaim]:
    return [c.model_copy(update={"patient_ref": PLACEHOLDER}) for c in claims]


def _state_templates() -> dict[str, str]:
    start = _monday_weeks_ago(70)
    out = {}
    for name, shape in SHAPES.items():
        state = run(_patient(shape(start))).state
        if state is None:
            raise RuntimeError(f"course shape {name} left no course state")
        out[name] = state.model_dump_json()
    return out


def _ref(n: int) -> str:
    return f"PSN-{n:012d}"  # as long as the placeholder: same sizes as the template


# -- 1. restore -------------------------------------------------------------------------


async def _restore(bootstrap: str, courses: int, data_dir: Path | None) -> None:
    began = time.perf_counter()
    templates = list(_state_templates().values())
    items = []
    for n in range(courses):
        ref = _ref(n)
        items.append(
            (ref.encode(), templates[n % len(templates)].replace(PLACEHOLDER, ref).encode())
        )
    built = time.perf_counter() - began
    shapes = ", ".join(
        f"{len(json.loads(t)['claims'])} open claims + {len(json.loads(t)['closed'])} closed "
        f"course(s), {len(t):,} B"
        for t in templates
    )
    print(
        f"{courses:,} course states from {len(templates)} shapes ({shapes}) built in {built:.1f} s"
    )

    topics = Topics.prefixed(f"bcs{int(time.time())}.")
    topology = declare(topics)
    changelog = topology.courses.changelog.name
    await create_topics(bootstrap, topics, partitions=PARTITIONS)
    began = time.perf_counter()
    await produce(bootstrap, changelog, items)
    produced = time.perf_counter() - began
    value_bytes = sum(len(v) for _, v in items)
    key_bytes = sum(len(k) for k, _ in items)
    print(
        f"changelog {changelog}: {len(items):,} records written in {produced:.1f} s; "
        f"values {value_bytes / 2**20:,.1f} MiB = {value_bytes / courses:,.0f} B per course, "
        f"keys {key_bytes / 2**20:,.1f} MiB"
    )
    if data_dir is not None:
        on_disk = sum(
            f.stat().st_size
            for p in range(PARTITIONS)
            for f in (data_dir / f"{changelog}-{p}").glob("*.log")
        )
        print(f"on the broker's disk (segment files, uncompressed): {on_disk / 2**20:,.1f} MiB")

    store = ChangelogStore(topology.courses, RawCodec())
    consumer = reader(connection(bootstrap))
    await start_reader(consumer)
    try:
        total_records, per_partition = 0, []
        began = time.perf_counter()
        for p in range(PARTITIONS):
            t0 = time.perf_counter()
            read = await store.restore(p, consumer)
            per_partition.append((p, read, time.perf_counter() - t0))
            total_records += read
        took = time.perf_counter() - began
    finally:
        await consumer.stop()
    for p, read, seconds in per_partition:
        print(f"  partition {p}: {read:,} records restored in {seconds:.2f} s")
    print(
        f"restore of all {PARTITIONS} partitions: {total_records:,} records in {took:.2f} s "
        f"= {total_records / took:,.0f} records/s "
        f"({value_bytes / 2**20 / took:,.1f} MiB/s)"
    )


# -- 2. throughput ----------------------------------------------------------------------


def _course_claims(patients: int) -> list[list[bytes]]:
    """Each patient's five 3D-course claims, in billing order, as JSON."""
    templates = [
        [c.model_dump_json() for c in _patient(_three_d(_monday_weeks_ago(70) + timedelta(days=k)))]
        for k in range(5)
    ]
    return [
        [t.replace(PLACEHOLDER, f"PSN-C{n:011d}").encode() for t in templates[n % 5]]
        for n in range(patients)
    ]


def _claim_mix(claims: int) -> list[tuple[bytes | None, bytes]]:
    """Example claims with the course claims spread among them: every course's first claim,
    then every course's second, and so on, as a platform sends a course's claims in time."""
    patients = claims // 5 // 5
    courses = _course_claims(patients)
    examples = claim_items(example_claim(n) for n in range(claims - 5 * patients))
    rng = random.Random(13)
    out: list[tuple[bytes | None, bytes]] = []
    chunk = -(-len(examples) // 5)
    for k in range(5):
        rnd: list[tuple[bytes | None, bytes]] = list(examples[k * chunk : (k + 1) * chunk])
        for course in courses:
            raw = course[k]
            rnd.append((json.loads(raw)["claim_id"].encode(), raw))
        rng.shuffle(rnd)
        out += rnd
    return out


@dataclass
class Run:
    end_to_end: float
    steady: float
    decisions: int
    median_txn_ms: float


def _batches(worker: WorkerProcess) -> list[dict[str, object]]:
    return [json.loads(line) for line in worker.log_lines() if '"batch_committed"' in line]


async def _through_worker(
    bootstrap: str, items: list[tuple[bytes | None, bytes]], batch: int, courses_on: bool
) -> Run:
    label = "on" if courses_on else "off"
    topics = Topics.prefixed(f"bct{label}{int(time.time())}.")
    await create_topics(bootstrap, topics, partitions=PARTITIONS)
    await produce(bootstrap, topics.submitted, items)
    env = {
        "ONCOSCRUB_BATCH_MAX_RECORDS": str(batch),
        "ONCOSCRUB_COURSES": "true" if courses_on else "false",
    }
    with tempfile.TemporaryDirectory() as tmp:
        began = time.monotonic()
        worker = WorkerProcess(bootstrap, topics, f"bench-{label}", Path(tmp), env)
        while sum(int(str(b["records"])) for b in _batches(worker)) < len(items):
            if not worker.alive():
                raise RuntimeError("\n".join(worker.log_lines()[-20:]))
            await asyncio.sleep(0.2)
        end_to_end = time.monotonic() - began
        batches = _batches(worker)
        worker.terminate()
    stamps = [datetime.fromisoformat(str(b["timestamp"])) for b in batches]
    first_work = float(str(batches[0]["decide_ms"])) + float(str(batches[0]["txn_ms"]))
    steady = (max(stamps) - min(stamps)).total_seconds() + first_work / 1000
    txn_ms = sorted(float(str(b["txn_ms"])) for b in batches)
    out = await read_outputs(bootstrap, topics)
    return Run(end_to_end, steady, len(out.decisions), txn_ms[len(txn_ms) // 2])


async def _throughput(bootstrap: str, claims: int, batch: int, rounds: int) -> None:
    items = _claim_mix(claims)
    course_claims = sum(1 for k, _ in items if k is not None and k.startswith(b"PSN-C"))
    size = sum(len(v) for _, v in items)
    print(
        f"{len(items):,} claims ({course_claims:,} of them in {course_claims // 5:,} 3D courses; "
        f"{size / len(items) / 1024:.1f} KiB average), batch {batch}, {PARTITIONS} partitions"
    )
    runs: dict[bool, list[Run]] = {False: [], True: []}
    # Rounds alternate the order (off then on, on then off): a shared machine's load drifts.
    for n in range(rounds):
        for on_ in (False, True) if n % 2 == 0 else (True, False):
            r = await _through_worker(bootstrap, items, batch, on_)
            runs[on_].append(r)
            print(
                f"course store {'on ' if on_ else 'off'}: steady state {r.steady:.2f} s = "
                f"{len(items) / r.steady:,.0f} claims/s; end to end (incl. start-up) "
                f"{r.end_to_end:.2f} s = {len(items) / r.end_to_end:,.0f} claims/s; "
                f"median commit {r.median_txn_ms:.0f} ms; decisions read back {r.decisions:,}"
            )
    off, on = runs[False], runs[True]
    steady = sum(r.steady for r in off) / sum(r.steady for r in on)
    end_to_end = sum(r.end_to_end for r in off) / sum(r.end_to_end for r in on)
    print(
        f"ratio on/off over {rounds} round(s): steady state {steady:.0%}, "
        f"end to end {end_to_end:.0%} (issue 13's target: at least 80 %)"
    )


async def _bench(bootstrap: str, args: argparse.Namespace, data_dir: Path | None) -> None:
    await _restore(bootstrap, args.courses, data_dir)
    await _throughput(bootstrap, args.claims, args.batch, args.rounds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--courses", type=int, default=100_000)
    parser.add_argument("--claims", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=1, help="throughput runs of each")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; Python {sys.version.split()[0]}")
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if configured:
        asyncio.run(_bench(configured, args, None))
        return 0
    with LocalKafka(topics={}) as kafka:
        print(f"Kafka {kafka_version()} local broker ready in {kafka.startup_seconds:.1f}s")
        data_dir = kafka.workdir / "logs" if kafka.workdir is not None else None
        asyncio.run(_bench(kafka.bootstrap, args, data_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
