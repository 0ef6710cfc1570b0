"""End to end, exactly-once, on a real broker (issue 16). Prints figures; asserts nothing.

    python -m bench.e2e [--claims 10000] [--batch 500] [--rate 1000] [--seconds 20]
                        [--long-seconds 90] [--long-rate R] [--sample-seconds 3]
                        [--phases a,b,c,d,e,f] [--installed DIR]

One broker (``KAFKA_BOOTSTRAP_SERVERS`` if set, else the local one started here), one set
of example claims published once to a 3-partition input topic. Phases a, b and c each read
that topic from its beginning, each with its own group, transactional ids and output topics:

a. raw passthrough: the worker's consume-transact loop copying each record's bytes to one
   topic (``bench.passthrough``: one transactional producer per input partition, as the
   worker; transactions of at most ``--batch`` records per partition);
b. worker-shaped passthrough: the same loop writing, for each input, the worker's real output
   bytes (decision and audit event, precomputed with ``decide`` before timing) and per
   transaction an audit checkpoint and a chain-head store record;
c. the real worker (``oncoscrub worker`` subprocess), from its launch to its last decision
   committed (end to end) and from its first batch begun to its last commit (steady state);
   the ratios worker/a and worker/b; and where the machine's CPU went in the steady state
   (``/proc``: the worker process, its deciding processes, the broker, the rest, idle).

d. latency: a fresh worker on fresh topics, started and assigned, then claims offered at
   ``--rate`` for ``--seconds``, paced; per claim, the decision record's CreateTime minus
   the input record's (both stamped by their producing client), and the moment a
   read_committed reader here saw the decision minus the input's CreateTime;
e. memory: another fresh worker offered ``--long-rate`` (default ``--rate``) for
   ``--long-seconds``; resident memory of the worker and its pool processes (``/proc``),
   sampled every ``--sample-seconds``. Memory is flat or not only at a rate the worker
   keeps up with: past it, the backlog fills the consumer's fetch buffers;
f. start to first decision, from the worker of phase c (its backlog waiting): from process
   launch and from its ``partitions_assigned`` log event to its first ``batch_committed``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import logging
import math
import os
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import aiokafka
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.passthrough import PassthroughResult, passthrough, precompute, raw_copy
from deploy.kafkatools import (
    WorkerProcess,
    claim_items,
    connection,
    create_topics,
    produce,
    read_outputs,
    read_topic,
)
from deploy.localkafka import LocalKafka, kafka_version
from schemas.examples import example_claim
from worker.committed_reader import start_reader
from worker.cpu_quota import available_cpus
from worker.topic_admin import ensure_topics
from worker.topology import LARGE_MESSAGE_BYTES, Topics, declare

PARTITIONS = 3
ALL_PHASES = "abcdef"
MIB = 1024 * 1024

# -- the worker's log ---------------------------------------------------------------------

_MESSAGE = re.compile(rb'"message": "([A-Za-z_]+)"')
_WANTED = {
    "deciding_pool_started",
    "processor_started",
    "partitions_assigned",
    "batch_committed",
    "batch_aborted",
    "producer_fenced",
    "stale_batch_dropped",
    "worker_stopped",
}


def at(event: dict[str, Any]) -> float:
    """A log event's timestamp, as epoch seconds."""
    return datetime.fromisoformat(str(event["timestamp"])).timestamp()


@dataclass
class LogTail:
    """A worker's JSON log, read as it grows: only the events named in ``_WANTED``."""

    path: Path
    offset: int = 0
    partial: bytes = b""
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    committed: int = 0  # records in batch_committed events

    def poll(self) -> None:
        with self.path.open("rb") as f:
            f.seek(self.offset)
            data = f.read()
        self.offset += len(data)
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        for line in lines:
            m = _MESSAGE.search(line)
            if m is None or m.group(1).decode() not in _WANTED:
                continue
            event = json.loads(line)
            name = m.group(1).decode()
            self.events.setdefault(name, []).append(event)
            if name == "batch_committed":
                self.committed += int(event["records"])

    def all(self, name: str) -> list[dict[str, Any]]:
        return self.events.get(name, [])

    def assigned(self) -> set[int]:
        return {int(p) for e in self.all("partitions_assigned") for p in e["partitions"]}


@dataclass
class Worker:
    process: WorkerProcess
    launched: float  # wall clock, just before the process was started
    tail: LogTail

    async def wait(self, done: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.tail.poll()
            if done():
                return
            if not self.process.alive():
                tail = "\n".join(self.process.log_lines()[-20:])
                raise RuntimeError(f"the worker ended before {what}:\n{tail}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {what} after {timeout:.0f}s")
            await asyncio.sleep(0.1)

    async def stop(self) -> int:
        code = await asyncio.to_thread(self.process.terminate)
        self.tail.poll()
        return code


def start_worker(
    bootstrap: str, topics: Topics, name: str, log_dir: Path, batch: int, installed: Path | None
) -> Worker:
    """``oncoscrub worker`` in the product's default configuration, with a group and
    transactional ids of its own; ``installed``: run the build installed there (the compiled
    engine) instead of this checkout."""
    launched = time.time()
    process = WorkerProcess(
        bootstrap,
        topics,
        name,
        log_dir,
        {
            "ONCOSCRUB_BATCH_MAX_RECORDS": str(batch),
            "ONCOSCRUB_GROUP_ID": f"g-{topics.audit}",
        },
        installed,
    )
    return Worker(process, launched, LogTail(process.log_path))


# -- memory (/proc) -----------------------------------------------------------------------


def _status_kib(pid: int, field_name: str, file: str = "status") -> int | None:
    try:
        text = Path(f"/proc/{pid}/{file}").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return None


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            tasks = list(Path(f"/proc/{current}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found.extend(children)
            stack.extend(children)
    return found


# -- CPU (/proc) ------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float | None:
    """User and system CPU seconds one process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK


def _broker_pids() -> list[int]:
    """Local Kafka brokers (their JVMs), found by their main class."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if b"kafka.Kafka" in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@dataclass(frozen=True)
class CpuSample:
    t: float  # epoch seconds
    main: float  # CPU seconds so far: the worker process
    pool: float  # its descendants (the deciding processes)
    broker: float  # local Kafka brokers
    busy: float  # the whole machine, every process
    idle: float


def sample_cpu(pid: int) -> CpuSample | None:
    main = _cpu_s(pid)
    if main is None:
        return None
    pool = sum(v for p in _descendants(pid) if (v := _cpu_s(p)) is not None)
    broker = sum(v for p in _broker_pids() if (v := _cpu_s(p)) is not None)
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = (ticks[3] + ticks[4]) / _TICK  # idle and waiting for I/O
    return CpuSample(time.time(), main, pool, broker, sum(ticks) / _TICK - idle, idle)


def cpu_line(samples: Sequence[CpuSample], begun: float, last: float, rate: float) -> str:
    """Where the machine's CPU went between ``begun`` and ``last`` (epoch seconds), while
    claims were decided at ``rate`` a second: cores, and milliseconds a claim."""
    window = [s for s in samples if begun <= s.t <= last]
    if len(window) < 2:
        return "  CPU: too few samples in the steady state"
    a, b = window[0], window[-1]
    span = b.t - a.t
    parts = {
        "worker": b.main - a.main,
        "its deciding processes": b.pool - a.pool,
        "broker": b.broker - a.broker,
    }
    parts["the rest"] = max(0.0, b.busy - a.busy - sum(parts.values()))
    said = ", ".join(
        f"{name} {used / span:.2f} cores ({used / span / rate * 1000:.2f} ms a claim)"
        for name, used in parts.items()
    )
    return f"  CPU in the steady state ({span:.0f} s): {said}; idle {(b.idle - a.idle) / span:.2f}"


@dataclass(frozen=True)
class MemorySample:
    t: float  # seconds since sampling began
    main_kib: int  # the worker process's VmRSS
    total_kib: int  # VmRSS of the worker and all its descendants (shared pages counted twice)
    pss_kib: int | None  # proportional set size of the same processes (shared pages split)
    processes: int


def sample_memory(pid: int, t: float) -> MemorySample | None:
    main = _status_kib(pid, "VmRSS")
    if main is None:
        return None
    pids = [pid, *_descendants(pid)]
    rss = [_status_kib(p, "VmRSS") for p in pids]
    pss = [_status_kib(p, "Pss", "smaps_rollup") for p in pids]
    known_pss = [v for v in pss if v is not None]
    return MemorySample(
        t,
        main,
        sum(v for v in rss if v is not None),
        sum(known_pss) if len(known_pss) == len(pids) else None,
        len(pids),
    )


def slope_per_min(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value), per minute."""
    if len(points) < 2:
        return math.nan
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return math.nan
    return sum((x - mx) * (y - my) for x, y in points) / sxx * 60


def _memory_line(label: str, samples: Sequence[MemorySample], value: str) -> str:
    series = [(s.t, getattr(s, value) / 1024) for s in samples if getattr(s, value) is not None]
    if not series:
        return f"  {label}: not readable"
    values = [v for _, v in series]
    half = [p for p in series if p[0] >= series[-1][0] / 2]
    return (
        f"  {label}: first {values[0]:.1f}, min {min(values):.1f}, max {max(values):.1f}, "
        f"last {values[-1]:.1f} MiB; slope {slope_per_min(series):+.2f} MiB/min "
        f"(second half {slope_per_min(half):+.2f} MiB/min); by quarter of the run: "
        + ", ".join(f"mean {m:.1f} MiB, slope {s:+.2f}" for m, s in _quarters(series))
    )


def _quarters(series: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Each quarter of the run's mean and slope (MiB/min): growth that levels off shows
    as quarters whose means stop rising and whose slopes fall to noise around zero."""
    end = series[-1][0] or 1.0
    parts: list[list[tuple[float, float]]] = [[], [], [], []]
    for t, v in series:
        parts[min(3, int(4 * t / end))].append((t, v))
    return [(sum(v for _, v in p) / len(p), slope_per_min(p)) for p in parts if p]


# -- figures -------------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest rank."""
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def _ms(value: float) -> str:
    return "not seen" if math.isinf(value) else f"{value:.0f} ms"


def _latency_line(label: str, values: Sequence[float], missing: int = 0) -> str:
    """Percentiles over every claim offered: one whose decision was never seen counts as
    slower than any seen."""
    if not values and not missing:
        return f"  {label}: none"
    s = [*sorted(values), *([math.inf] * missing)]
    return (
        f"  {label}: p50 {_ms(percentile(s, 0.50))}, p95 {_ms(percentile(s, 0.95))}, "
        f"p99 {_ms(percentile(s, 0.99))}, max {_ms(s[-1])} ({len(s):,} claims)"
    )


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


def heading(text: str) -> None:
    print(f"\n== {text} ({load()})", flush=True)


# -- the run -------------------------------------------------------------------------------


@dataclass
class Run:
    bootstrap: str
    prefix: str
    claims: int
    batch: int
    log_dir: Path
    shared: Topics
    input_tps: list[TopicPartition] = field(default_factory=list)
    bases: list[tuple[bytes, bytes]] = field(default_factory=list)  # (claim id, claim JSON)
    results: dict[str, float] = field(default_factory=dict)  # claims/s, by figure
    c_worker: Worker | None = None
    installed: Path | None = None  # the worker's build: None is this checkout

    def topics(self, tag: str, own_input: bool = False) -> Topics:
        """Fresh output topics for a phase; its input is the shared one unless ``own_input``."""
        fresh = Topics.prefixed(f"{self.prefix}{tag}.")
        return fresh if own_input else fresh.model_copy(update={"submitted": self.shared.submitted})


def _print_passthrough(label: str, r: PassthroughResult) -> None:
    txn = sorted(r.txn_ms)
    print(
        f"  {r.records:,} records in {r.transactions} transactions, {r.writes:,} records "
        f"written ({r.written_bytes / r.records / 1024:.1f} KiB per input), commit median "
        f"{percentile(txn, 0.5):.0f} ms, p95 {percentile(txn, 0.95):.0f} ms"
    )
    print(
        f"  {label} end to end (clients started to last commit, {r.setup_s:.2f} s set-up): "
        f"{r.end_to_end_s:.2f} s = {r.end_to_end_rate:,.0f} claims/s"
    )
    print(
        f"  {label} steady (first fetch to last commit): {r.steady_s:.2f} s "
        f"= {r.steady_rate:,.0f} claims/s"
    )


async def publish(run: Run) -> None:
    heading("claims")
    await create_topics(run.bootstrap, run.shared, partitions=PARTITIONS)
    items = claim_items(example_claim(n) for n in range(run.claims))
    run.bases = [(k or b"", v) for k, v in items[: min(len(items), 1000)]]
    size = sum(len(v) for _, v in items)
    began = time.perf_counter()
    await produce(run.bootstrap, run.shared.submitted, items)
    print(
        f"published {run.claims:,} example claims ({size / run.claims / 1024:.1f} KiB average, "
        f"{size / MIB:.1f} MiB) to {PARTITIONS} partitions in "
        f"{time.perf_counter() - began:.1f} s"
    )
    run.input_tps = [TopicPartition(run.shared.submitted, p) for p in range(PARTITIONS)]


async def phase_a(run: Run) -> None:
    copy = f"{run.prefix}a.copy"
    warm = f"{run.prefix}warm.copy"
    large = {"max.message.bytes": str(LARGE_MESSAGE_BYTES)}
    await ensure_topics(connection(run.bootstrap), {copy: large, warm: large}, PARTITIONS)
    # Not timed: the broker's transaction path runs once before the phases are compared.
    warmup = min(run.claims, 1000)
    await passthrough(
        run.bootstrap, run.input_tps, f"{run.prefix}warm", run.batch, warmup, raw_copy(warm)
    )
    heading("(a) raw transactional passthrough")
    print(
        f"  one read_committed consumer, one transactional producer per input partition "
        f"({PARTITIONS}), transactions of <= {run.batch} records per partition"
    )
    r = await passthrough(
        run.bootstrap, run.input_tps, f"{run.prefix}a", run.batch, run.claims, raw_copy(copy)
    )
    _print_passthrough("raw", r)
    run.results["a_e2e"] = r.end_to_end_rate
    run.results["a_steady"] = r.steady_rate


async def phase_b(run: Run) -> None:
    heading("(b) worker-shaped transactional passthrough")
    topics = run.topics("b")
    await create_topics(run.bootstrap, topics, partitions=PARTITIONS)
    records = await read_topic(run.bootstrap, run.shared.submitted)
    shaped = precompute(records, declare(topics), "bench-b")
    print(
        f"  precomputed {len(records):,} decisions with decide() before timing: "
        f"{len(records) / shaped.decide_s:,.0f} claims/s on one core of this process"
    )
    r = await passthrough(
        run.bootstrap,
        run.input_tps,
        f"{run.prefix}b",
        run.batch,
        run.claims,
        shaped.record,
        shaped.transaction,
    )
    _print_passthrough("worker-shaped", r)
    run.results["b_e2e"] = r.end_to_end_rate
    run.results["b_steady"] = r.steady_rate


async def phase_c(run: Run, report: bool) -> None:
    if report:
        heading("(c) the worker (oncoscrub worker subprocess, default settings)")
    topics = run.topics("c")
    await create_topics(run.bootstrap, topics, partitions=PARTITIONS)
    worker = start_worker(run.bootstrap, topics, "bench-c", run.log_dir, run.batch, run.installed)
    run.c_worker = worker
    pid = worker.process.proc.pid
    cpu = Sampler(lambda _: sample_cpu(pid), 0.5)
    cpu.start()
    try:
        await worker.wait(
            lambda: worker.tail.committed >= run.claims,
            max(180.0, run.claims / 50),
            f"{run.claims} decisions committed",
        )
    finally:
        await cpu.stop()
        code = await worker.stop()
    batches = worker.tail.all("batch_committed")
    last = max(at(b) for b in batches)
    begun = min(at(b) - (float(b["decide_ms"]) + float(b["txn_ms"])) / 1000 for b in batches)
    e2e = last - worker.launched
    steady = last - begun
    run.results["c_e2e"] = run.claims / e2e
    run.results["c_steady"] = run.claims / steady
    if not report:
        return
    txn = sorted(float(b["txn_ms"]) for b in batches)
    decide = sorted(float(b["decide_ms"]) for b in batches)
    out = await read_outputs(run.bootstrap, topics)
    aborted = len(worker.tail.all("batch_aborted"))
    print(
        f"  {worker.tail.committed:,} records in {len(batches)} transactions "
        f"({aborted} aborted), deciding median {percentile(decide, 0.5):.0f} ms, commit "
        f"median {percentile(txn, 0.5):.0f} ms, p95 {percentile(txn, 0.95):.0f} ms; "
        f"exit code {code}"
    )
    print(
        f"  read back (read_committed): {len(out.decisions):,} decisions, "
        f"{len(out.audit):,} audit events"
    )
    print(
        f"  worker end to end (process launch to last commit): {e2e:.2f} s "
        f"= {run.claims / e2e:,.0f} claims/s"
    )
    print(
        f"  worker steady (first batch begun to last commit): {steady:.2f} s "
        f"= {run.claims / steady:,.0f} claims/s"
    )
    print(cpu_line(cpu.samples, begun, last, run.claims / steady))


def print_ratios(run: Run) -> None:
    r = run.results
    if "c_e2e" not in r or not ({"a_e2e", "b_e2e"} & set(r)):
        return
    heading("ratios, same run")
    for kind, label in (("e2e", "end to end"), ("steady", "steady")):
        parts = [f"worker {r[f'c_{kind}']:,.0f}/s"]
        if f"b_{kind}" in r:
            parts.append(f"worker/(b) {r[f'c_{kind}'] / r[f'b_{kind}']:.0%}")
        if f"a_{kind}" in r:
            parts.append(f"worker/(a) {r[f'c_{kind}'] / r[f'a_{kind}']:.0%}")
        if f"a_{kind}" in r and f"b_{kind}" in r:
            parts.append(f"(b)/(a) {r[f'b_{kind}'] / r[f'a_{kind}']:.0%}")
        print(f"  {label}: " + ", ".join(parts))
    print("  targets: worker >= 5,000/s end to end, >= 50 % of (b), >= 25 % of (a)")


def phase_f(run: Run) -> None:
    heading("(f) start to first decision (the worker of (c), its backlog waiting)")
    worker = run.c_worker
    if worker is None:
        return
    tail = worker.tail
    pool = tail.all("deciding_pool_started")
    started = tail.all("processor_started")
    assigned = tail.all("partitions_assigned")
    batches = tail.all("batch_committed")
    if not (started and assigned and batches):
        print("  the worker's log lacks the events needed")
        return
    t0 = worker.launched
    first_by_partition: dict[int, float] = {}
    for b in batches:
        first_by_partition.setdefault(int(b["partition"]), at(b))
    first = min(first_by_partition.values())
    every = max(first_by_partition.values())
    a = at(assigned[0])
    if pool:
        print(f"  launch -> deciding pool started: {at(pool[0]) - t0:.2f} s")
    print(f"  launch -> processor started (group join begins): {at(started[0]) - t0:.2f} s")
    print(
        f"  launch -> partitions_assigned logged: {a - t0:.2f} s (logged at the end of the "
        f"assignment callback: producers opened, offsets read, chain heads restored; "
        f"{len(assigned)} assignment event(s))"
    )
    b0 = batches[0]
    print(
        f"  launch -> first decision committed: {first - t0:.2f} s; every partition's "
        f"first: {every - t0:.2f} s"
    )
    print(
        f"  partitions_assigned -> first decision committed: {first - a:.2f} s; every "
        f"partition's first: {every - a:.2f} s (first transaction: {b0['records']} records, "
        f"deciding {float(b0['decide_ms']):.0f} ms, commit {float(b0['txn_ms']):.0f} ms; "
        f"target <= 2 s)"
    )
    order = " ".join(f"p{b['partition']}:{b['records']}" for b in batches[:12])
    print(f"  first transactions in commit order (partition:records): {order}")


class DecisionTail:
    """A read_committed reader of the decision topics: when each decision (by key) became
    visible here, and its CreateTime."""

    def __init__(self, bootstrap: str, topics: Topics) -> None:
        self._consumer = AIOKafkaConsumer(
            **connection(bootstrap).options(),
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed",
            auto_offset_reset="earliest",
            fetch_max_wait_ms=20,
            max_partition_fetch_bytes=17 * MIB,
            fetch_max_bytes=64 * MIB,
        )
        self._tps = [
            TopicPartition(t, p)
            for t in (topics.scrubbed, topics.review, topics.dead_letter)
            for p in range(PARTITIONS)
        ]
        self.seen: dict[bytes, tuple[int, int, float]] = {}  # key: CreateTime, its type, seen
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await start_reader(self._consumer)
        self._consumer.assign(self._tps)
        for tp, first in (await self._consumer.beginning_offsets(self._tps)).items():
            self._consumer.seek(tp, first)
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=100)
            now = time.time()
            for records in batches.values():
                for r in records:
                    self.seen[r.key] = (r.timestamp, r.timestamp_type, now)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()


S = TypeVar("S")


class Sampler(Generic[S]):
    """``take(seconds since sampling began)`` every ``every`` seconds, on this loop (in a
    thread: it reads ``/proc``)."""

    def __init__(self, take: Callable[[float], S | None], every: float) -> None:
        self.take, self.every = take, every
        self.samples: list[S] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._sample())

    async def _sample(self) -> None:
        began = time.monotonic()
        while True:
            sample = await asyncio.to_thread(self.take, time.monotonic() - began)
            if sample is not None:
                self.samples.append(sample)
            await asyncio.sleep(self.every)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def _claim(run: Run, tag: str, i: int) -> tuple[bytes, bytes]:
    """The i-th offered claim: an example claim under an id of its own (same length)."""
    old, value = run.bases[i % len(run.bases)]
    new = f"CLM-{tag}{i:07d}".encode()
    return new, value.replace(b'"' + old + b'"', b'"' + new + b'"')


@dataclass
class Offered:
    total: int
    offering_s: float
    input_ms: dict[bytes, int]  # key: the input record's CreateTime
    t0: float  # wall clock when offering began


async def offer(run: Run, topic: str, tag: str, rate: float, seconds: float) -> Offered:
    """Publish ``rate`` claims a second for ``seconds``, paced every 5 ms, as a billing
    platform would (idempotent, acks=all, linger 5 ms)."""
    producer = AIOKafkaProducer(
        **connection(run.bootstrap).options(),
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        max_request_size=17 * MIB,
        max_batch_size=MIB,
    )
    await producer.start()
    total = int(rate * seconds)
    sent: list[tuple[bytes, asyncio.Future[Any]]] = []
    try:
        t0 = time.time()
        began = time.monotonic()
        i = 0
        while i < total:
            due = min(total, int((time.monotonic() - began) * rate) + 1)
            while i < due:
                key, value = _claim(run, tag, i)
                sent.append((key, await producer.send(topic, value, key=key)))
                i += 1
            await asyncio.sleep(0.005)
        offering_s = time.monotonic() - began
        metas = await asyncio.gather(*(f for _, f in sent))
    finally:
        await producer.stop()
    input_ms = {key: int(m.timestamp) for (key, _), m in zip(sent, metas, strict=True)}
    return Offered(total, offering_s, input_ms, t0)


@dataclass
class Paced:
    offered: Offered
    seen: dict[bytes, tuple[int, int, float]]
    samples: list[MemorySample]
    worker: Worker


async def paced_run(
    run: Run, tag: str, rate: float, seconds: float, drain_s: float, sample_every: float | None
) -> Paced:
    """A fresh worker on fresh topics, started and assigned, then ``rate``/s offered for
    ``seconds``; returns once every decision is seen, or ``drain_s`` after the offering.
    ``sample_every``: sample the worker's memory this often (None: not)."""
    topics = run.topics(tag, own_input=True)
    await create_topics(run.bootstrap, topics, partitions=PARTITIONS)
    worker = start_worker(
        run.bootstrap, topics, f"bench-{tag}", run.log_dir, run.batch, run.installed
    )
    tail = DecisionTail(run.bootstrap, topics)
    sampler = Sampler(
        functools.partial(sample_memory, worker.process.proc.pid), sample_every or 1.0
    )
    try:
        await worker.wait(
            lambda: worker.tail.assigned() >= set(range(PARTITIONS)), 120, "partitions assigned"
        )
        print(f"  worker assigned {time.time() - worker.launched:.1f} s after launch")
        await tail.start()
        if sample_every is not None:
            sampler.start()
        offered = await offer(run, topics.submitted, tag.upper(), rate, seconds)
        try:
            await worker.wait(
                lambda: len(tail.seen) >= offered.total, drain_s, "every decision seen"
            )
        except TimeoutError as exc:
            print(f"  {exc}: {len(tail.seen):,} of {offered.total:,} seen")
    finally:
        await sampler.stop()
        await tail.stop()
        await worker.stop()
    return Paced(offered, tail.seen, sampler.samples, worker)


def print_latency(p: Paced, rate: float) -> None:
    o = p.offered
    create: list[float] = []
    visible: list[float] = []
    types: Counter[int] = Counter()
    by_time: list[tuple[int, float]] = []
    for key, sent_ms in o.input_ms.items():
        got = p.seen.get(key)
        if got is None:
            continue
        created_ms, kind, seen_at = got
        types[kind] += 1
        create.append(created_ms - sent_ms)
        visible.append(seen_at * 1000 - sent_ms)
        by_time.append((sent_ms, seen_at * 1000 - sent_ms))
    last_seen = max((s for _, _, s in p.seen.values()), default=o.t0)
    kinds = ", ".join(
        f"{n:,} {'CreateTime' if k == 0 else 'LogAppendTime'}" for k, n in sorted(types.items())
    )
    aborted = len(p.worker.tail.all("batch_aborted"))
    print(
        f"  offered {o.total:,} claims in {o.offering_s:.1f} s ({o.total / o.offering_s:,.0f}/s, "
        f"target {rate:,.0f}/s); decisions seen {len(create):,} (missing "
        f"{o.total - len(create):,}), in {last_seen - o.t0:.1f} s from the first offer; "
        f"timestamps: {kinds}; {aborted} batches aborted"
    )
    missing = o.total - len(create)
    print(_latency_line("decision CreateTime - input CreateTime", create, missing))
    print(_latency_line("seen downstream (read_committed) - input CreateTime", visible, missing))
    if len(by_time) >= 8:
        by_time.sort()
        q = len(by_time) // 4
        quarters = [by_time[i * q : (i + 1) * q] for i in range(4)]
        p99s = [percentile(sorted(v for _, v in part), 0.99) for part in quarters]
        print(
            "  seen downstream p99 by quarter of the offering: "
            + ", ".join(f"{v:.0f} ms" for v in p99s)
        )


async def phase_d(run: Run, rate: float, seconds: float) -> None:
    heading(f"(d) latency at {rate:,.0f} claims/s offered for {seconds:.0f} s (fresh worker)")
    print_latency(await paced_run(run, "d", rate, seconds, max(60.0, seconds), None), rate)


async def phase_e(run: Run, rate: float, seconds: float, every: float) -> None:
    heading(f"(e) memory over {seconds:.0f} s at {rate:,.0f} claims/s offered (fresh worker)")
    # The drain is bounded: a worker that cannot keep up is seen in the latency line.
    paced = await paced_run(run, "e", rate, seconds, 60.0, every)
    print_latency(paced, rate)
    samples = paced.samples
    if not samples:
        print("  no memory samples")
        return
    print(
        f"  {len(samples)} samples every {every:.0f} s over {samples[-1].t:.0f} s, "
        f"{samples[-1].processes} processes (the worker and its descendants)"
    )
    print(_memory_line("worker process RSS", samples, "main_kib"))
    print(_memory_line("worker + descendants RSS (shared counted twice)", samples, "total_kib"))
    print(_memory_line("worker + descendants PSS", samples, "pss_kib"))


async def run_phases(bootstrap: str, args: argparse.Namespace, phases: str) -> None:
    with tempfile.TemporaryDirectory(prefix="oncoscrub-e2e-") as tmp:
        prefix = f"e2e{int(time.time())}."
        run = Run(bootstrap, prefix, args.claims, args.batch, Path(tmp), Topics.prefixed(prefix))
        run.installed = args.installed
        if set(phases) & set("abcf"):
            await publish(run)
        else:
            items = claim_items(example_claim(n) for n in range(min(args.claims, 1000)))
            run.bases = [(k or b"", v) for k, v in items]
        if "a" in phases:
            await phase_a(run)
        if "b" in phases:
            await phase_b(run)
        if "c" in phases or "f" in phases:
            await phase_c(run, report="c" in phases)
        print_ratios(run)
        if "f" in phases:
            phase_f(run)
        if "d" in phases:
            await phase_d(run, args.rate, args.seconds)
        if "e" in phases:
            long_rate = args.rate if args.long_rate is None else args.long_rate
            await phase_e(run, long_rate, args.long_seconds, args.sample_seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=10_000, help="for phases a, b, c, f")
    parser.add_argument("--batch", type=int, default=500, help="records per transaction")
    parser.add_argument("--rate", type=float, default=1000.0, help="claims/s offered (d, e)")
    parser.add_argument("--seconds", type=float, default=20.0, help="latency phase (d)")
    parser.add_argument("--long-seconds", type=float, default=90.0, help="memory phase (e)")
    parser.add_argument(
        "--long-rate", type=float, default=None, help="claims/s offered in (e) (default: --rate)"
    )
    parser.add_argument("--sample-seconds", type=float, default=3.0, help="memory sampling")
    parser.add_argument("--phases", default=",".join(ALL_PHASES))
    parser.add_argument(
        "--installed",
        type=Path,
        default=None,
        help="run the worker from this install (pip install --target DIR dist/*.whl, e.g. the "
        "compiled wheel of `make wheel-compiled`) instead of this checkout",
    )
    args = parser.parse_args()
    phases = "".join(p.strip() for p in args.phases.split(",") if p.strip())
    unknown = set(phases) - set(ALL_PHASES)
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    # The clients' retried errors (a starting broker, new topics without leaders yet) are
    # noise here; failures raise.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    began = time.monotonic()
    print(
        f"machine: {os.cpu_count()} CPUs ({len(os.sched_getaffinity(0))} usable, worker "
        f"decide processes {available_cpus()}); Python {sys.version.split()[0]}; "
        f"aiokafka {aiokafka.__version__}; {load()}"
    )
    print(f"phases {','.join(phases)}; {args.claims:,} claims; batch {args.batch}")
    engine = "this checkout (pure Python)" if args.installed is None else str(args.installed)
    print(f"worker build: {engine}")
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if configured:
        print(f"Kafka: the broker at {configured} (KAFKA_BOOTSTRAP_SERVERS)")
        asyncio.run(run_phases(configured, args, phases))
    else:
        with LocalKafka(topics={}) as kafka:
            print(
                f"Kafka {kafka_version()}: one local KRaft node on this machine, ready in "
                f"{kafka.startup_seconds:.1f} s"
            )
            asyncio.run(run_phases(kafka.bootstrap, args, phases))
    print(f"\ntotal {time.monotonic() - began:.0f} s; {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
