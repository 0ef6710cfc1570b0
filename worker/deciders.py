"""Deciding off the event loop: a pool of processes judges records, each within a budget.

The event loop heartbeats to the consumer group, answers rebalances and commits
transactions; a claim of 500 MAR entries takes a few hundred milliseconds to decide,
and a batch of them seconds. So ``judge`` (``worker.decide``) runs in a pool of
processes (pebble), not on the loop and not in threads: a process pool uses every core
(the rules are pure Python, so threads share one), and a record over its time budget
can be stopped, which a thread cannot: pebble ends that process and starts another.
``bench/decide_pool.py`` measures both.

Each process loads the rule pack once, when it starts (the initializer), and the pool
waits for every process to report its pack before the worker joins the group, so no
batch ever pays for loading it.

Handing a task to a process costs about half a millisecond, as much as deciding a
typical claim, so consecutive small records travel together (``CHUNK_BYTES``); a large
record travels alone. A chunk runs within the per-record budget; a chunk that does not
is judged again record by record, each within the budget, so only a record that alone
exceeds it gets the guarded decision (review, original bytes, ``over_time_budget``),
as does a record whose process died (``decider_lost``). Anything else is contained by
``judge`` itself.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import pebble

from rules.pack import RulePack, current_pack, load_pack_dir
from schemas.decision import ReasonCode, RulePackRef
from worker.decide import Judging, guarded, judge
from worker.ingest_judge import ClaimJudgement, judge_record
from worker.judgement import Judgement
from worker.logs import get_logger
from worker.patient_judge import PatientItem, PatientJudged, PatientOptions, judge_patient
from worker.repartition import SplitItem, by_patient, marked, split
from worker.topology import OutRecord

log = get_logger("worker.deciders")

# Input bytes per task: a chunk of typical claims (3 KiB) decides in about 10 ms; the
# slowest claims measured (3.4 µs a byte) in about 0.2 s, far inside any budget.
CHUNK_BYTES = 64 * 1024
CHUNK_RECORDS = 32

Item = tuple[bytes | None, bytes | None]  # a record's value and key
# A record's value, key and content-type header: X12 and FHIR records hold several claims.
RecordItem = tuple[bytes | None, bytes | None, bytes | None]
Records = tuple[ClaimJudgement, ...]
T = TypeVar("T")
I = TypeVar("I")  # noqa: E741


@dataclass(frozen=True, slots=True)
class PoolSpec:
    """What a pool process needs to judge exactly as the worker would (it pickles)."""

    max_claim_bytes: int
    max_decision_bytes: int
    pack_dir: Path | None = None  # None: the shipped pack
    patient: PatientOptions = field(default_factory=lambda: PatientOptions(False, False))
    by_patient_topic: str = "oncoscrub.claims-by-patient"  # where repartitioned copies go

    def judging(self, pack: RulePack | None = None) -> Judging:
        return Judging(self.max_claim_bytes, self.max_decision_bytes, pack)


# -- inside a pool process ----------------------------------------------------------------

_judging: Judging | None = None
_spec: PoolSpec | None = None


def _start_process(spec: PoolSpec) -> None:
    global _judging, _spec
    pack = load_pack_dir(spec.pack_dir) if spec.pack_dir else current_pack()
    _judging = spec.judging(pack)
    _spec = spec
    # The pack's tables live as long as the process: out of the collector's sight, so that
    # the collections deciding triggers do not walk them again and again.
    gc.collect()
    gc.freeze()


def _process_judging() -> Judging:
    if _judging is None or _judging.pack is None:
        raise RuntimeError("the pool process was not initialised")
    return _judging


def _process_spec() -> PoolSpec:
    if _spec is None:
        raise RuntimeError("the pool process was not initialised")
    return _spec


def _pack_ref() -> RulePackRef:
    pack = _process_judging().pack
    assert pack is not None
    return pack.ref


def _judge_chunk(items: Sequence[Item]) -> list[Judgement]:
    judging = _process_judging()
    return [judge(raw, key, judging) for raw, key in items]


def _judge_records_chunk(items: Sequence[RecordItem]) -> list[Records]:
    judging, ingest = _process_judging(), _process_spec().patient.ingest
    return [judge_record(raw, key, kind, judging, ingest) for raw, key, kind in items]


def _judge_patient_chunk(items: Sequence[PatientItem]) -> list[PatientJudged]:
    judging, options = _process_judging(), _process_spec().patient
    return [judge_patient(item, judging, options) for item in items]


def _split_chunk(items: Sequence[SplitItem]) -> list[tuple[OutRecord, ...]]:
    spec = _process_spec()
    return [split(spec.by_patient_topic, item, spec.patient.ingest) for item in items]


# -- in the worker --------------------------------------------------------------------------


async def finished(future: Future[Any], timeout: float | None = None) -> bool:
    """Wait for a pool future without tying its outcome to an asyncio future (whose
    exception, once nobody awaits it, would be reported as never retrieved)."""
    if future.done():
        return True
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    future.add_done_callback(lambda _: loop.call_soon_threadsafe(done.set))
    try:
        await asyncio.wait_for(done.wait(), timeout)
    except TimeoutError:
        return False
    return True


def _weight(item: object) -> int:
    if isinstance(item, PatientItem):
        return len(item.raw or b"") + len(item.course or b"") + len(item.mar or b"")
    if isinstance(item, SplitItem):
        return len(item.value or b"")
    assert isinstance(item, tuple)
    return sum(len(part or b"") for part in item)


def chunks(items: Sequence[object]) -> list[range]:
    """Consecutive items grouped by size: each range is one task."""
    out: list[range] = []
    start, size = 0, 0
    for i, item in enumerate(items):
        weight = _weight(item)
        if i > start and (size + weight > CHUNK_BYTES or i - start >= CHUNK_RECORDS):
            out.append(range(start, i))
            start, size = i, 0
        size += weight
    if start < len(items):
        out.append(range(start, len(items)))
    return out


class DecidingPool:
    def __init__(self, spec: PoolSpec, processes: int, budget_s: float) -> None:
        self.spec = spec
        self.processes = processes
        self.budget_s = budget_s
        self._parent = spec.judging()  # for the guarded decisions: no pack needed
        self._pool: pebble.ProcessPool | None = None
        self._pack_ref: RulePackRef | None = None
        self._restarting = asyncio.Lock()
        self.over_budget = 0
        self.lost = 0
        self.restarts = 0

    @property
    def pack_ref(self) -> RulePackRef:
        if self._pack_ref is None:
            raise RuntimeError("the deciding pool is not started")
        return self._pack_ref

    async def start(self) -> RulePackRef:
        """Start every process, each loading the pack, and wait until all have it."""
        # forkserver: processes start from a clean server, not by forking this one, whose
        # threads (pebble's own) may hold locks at the moment of a fork.
        pool = pebble.ProcessPool(
            max_workers=self.processes,
            initializer=_start_process,
            initargs=(self.spec,),
            context=multiprocessing.get_context("forkserver"),
        )
        refs = await asyncio.gather(
            *(asyncio.wrap_future(pool.schedule(_pack_ref)) for _ in range(self.processes))
        )
        if len(set(refs)) != 1 or (self._pack_ref not in (None, refs[0])):
            pool.stop()  # type: ignore[no-untyped-call]
            raise RuntimeError("the pool's processes loaded different rule packs")
        self._pool, self._pack_ref = pool, refs[0]
        return refs[0]

    async def _restart(self, broken: pebble.ProcessPool) -> None:
        """A new pool for one that broke (a process killed while it held the pool's shared
        channel, say): pebble then refuses every task. Once, whoever notices first."""
        async with self._restarting:
            if self._pool is not broken:
                return
            self._pool = None
            broken.stop()  # type: ignore[no-untyped-call]
            await asyncio.to_thread(broken.join, 10)
            self.restarts += 1
            log.warning("deciding_pool_restarted", restarts=self.restarts)
            await self.start()

    async def _schedule(
        self, task: Callable[[list[I]], list[T]], items: Sequence[I]
    ) -> pebble.ProcessFuture[list[T]]:
        for attempt in range(2):
            pool = self._pool
            if pool is None:
                raise RuntimeError("the deciding pool is not started")
            try:
                # The budget runs from when a process takes the task, not while queued.
                return pool.schedule(task, args=(list(items),), timeout=self.budget_s)
            except RuntimeError:  # pebble: "Unexpected error within the Pool"
                if attempt:
                    raise
                await self._restart(pool)
        raise AssertionError("unreachable")

    async def judge_prefix(self, items: Sequence[Item], deadline: float) -> list[Judgement]:
        """Judge the items in order: all of them, or the longest prefix judged when the
        ``deadline`` (``time.monotonic()``) passed, and always at least the first."""
        return await self._prefix(_Plain(self), items, deadline)

    async def judge_records(self, items: Sequence[RecordItem], deadline: float) -> list[Records]:
        """As ``judge_prefix``, each record with every claim it holds (X12, FHIR)."""
        return await self._prefix(_Records(self), items, deadline)

    async def judge_patients(
        self, items: Sequence[PatientItem], deadline: float
    ) -> list[PatientJudged]:
        """As ``judge_prefix``, each by-patient record with its patient's state (a guarded
        decision leaves the state as it was)."""
        return await self._prefix(_Patients(self), items, deadline)

    async def split(self, items: Sequence[SplitItem]) -> list[tuple[OutRecord, ...]]:
        """Each submitted record cut per patient (``worker.repartition.split``), all of them."""
        return await self._prefix(_Splits(self), items, float("inf"))

    async def _prefix(self, kind: _Kind[I, T], items: Sequence[I], deadline: float) -> list[T]:
        """At most two tasks per process are in flight: a task handed to pebble is sent to
        the processes at once and cannot be withdrawn (cancelling a task a process has
        taken ends the process), so what lies past a deadline is simply never sent.
        """
        groups = chunks(items)
        window = 2 * self.processes
        futures: list[Future[list[T]]] = []
        judged: list[T] = []
        for k, group in enumerate(groups):
            while len(futures) < min(len(groups), k + window) and (
                not judged or time.monotonic() < deadline
            ):
                chunk = [items[i] for i in groups[len(futures)]]
                futures.append(await self._schedule(kind.task, chunk))
            if k >= len(futures):
                break  # past the deadline: never sent
            future = futures[k]
            if judged and not await finished(future, max(0.0, deadline - time.monotonic())):
                break  # it runs out in its process; its result is not used
            await finished(future)
            try:
                judged += future.result()
            except (TimeoutError, pebble.ProcessExpired, RuntimeError):
                # A record of the chunk is slow or ends its process (or the pool broke under
                # it, which RuntimeError says): each alone, in budget, on a working pool.
                for i in group:
                    if judged and time.monotonic() > deadline:
                        return judged
                    judged.append(await self._alone(kind, items[i]))
            except Exception as exc:  # a result that did not pickle, say: contained
                judged += [kind.guarded(items[i], ReasonCode.ENGINE_ERROR,
                                        f"deciding failed: {type(exc).__name__}")
                           for i in group]  # fmt: skip
        return judged

    async def judge(self, raw: bytes | None, key: bytes | None) -> Judgement:
        """One record, alone, within the budget; over it or lost, the guarded decision.
        Never raises (but for the caller's cancellation)."""
        return await self._alone(_Plain(self), (raw, key))

    async def _alone(self, kind: _Kind[I, T], item: I) -> T:
        future = await self._schedule(kind.task, [item])
        await finished(future)
        try:
            [result] = future.result()
        except TimeoutError:
            self.over_budget += 1
            return kind.guarded(item, ReasonCode.OVER_TIME_BUDGET)
        except (pebble.ProcessExpired, RuntimeError):  # RuntimeError: the pool broke under it
            self.lost += 1
            return kind.guarded(item, ReasonCode.DECIDER_LOST)
        except Exception as exc:
            return kind.guarded(
                item, ReasonCode.ENGINE_ERROR, f"deciding failed: {type(exc).__name__}"
            )
        return result

    def _guarded(
        self, raw: bytes | None, key: bytes | None, code: ReasonCode, message: str | None = None
    ) -> Judgement:
        return guarded(raw or b"", key, self._parent, self.pack_ref, code, message)

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.stop()  # type: ignore[no-untyped-call]
            await asyncio.to_thread(pool.join)


class _Kind(Generic[I, T]):
    """What a pool judges: the task a process runs on a chunk, and the decision for an
    item the rules could not decide."""

    task: Callable[[list[I]], list[T]]

    def __init__(self, pool: DecidingPool) -> None:
        self.pool = pool

    def guarded(self, item: I, code: ReasonCode, message: str | None = None) -> T:
        raise NotImplementedError


class _Plain(_Kind[Item, Judgement]):
    task = staticmethod(_judge_chunk)

    def guarded(self, item: Item, code: ReasonCode, message: str | None = None) -> Judgement:
        raw, key = item
        return self.pool._guarded(raw, key, code, message)


class _Records(_Kind[RecordItem, Records]):
    task = staticmethod(_judge_records_chunk)

    def guarded(self, item: RecordItem, code: ReasonCode, message: str | None = None) -> Records:
        raw, key, _ = item
        return (ClaimJudgement(self.pool._guarded(raw, key, code, message), raw or b"", None),)


class _Patients(_Kind[PatientItem, PatientJudged]):
    task = staticmethod(_judge_patient_chunk)

    def guarded(
        self, item: PatientItem, code: ReasonCode, message: str | None = None
    ) -> PatientJudged:
        j = self.pool._guarded(item.raw, item.key, code, message)
        return PatientJudged((ClaimJudgement(j, item.raw or b"", None),), (False,), None,
                             False, None, ())  # fmt: skip


class _Splits(_Kind[SplitItem, tuple[OutRecord, ...]]):
    task = staticmethod(_split_chunk)

    def guarded(
        self, item: SplitItem, code: ReasonCode, message: str | None = None
    ) -> tuple[OutRecord, ...]:
        # Too slow or lost while cutting: copied whole; deciding it guards it the same way.
        copy = by_patient(
            self.pool.spec.by_patient_topic, item.value, item.key, item.headers, item.source
        )
        return (marked(copy) if item.is_mar else copy,)
