"""Deciding off the event loop: inline, a thread pool, a process pool. Prints figures.

    python -m bench.decide_pool [--claims 3000] [--heavy 40] [--workers 2]

For typical claims (1-12 MAR entries) and claims at the schema's limit (500 MAR entries,
450 lines), measures decisions per second and how late a 10 ms ticker on the event loop
runs while they are decided (the consumer's heartbeat is such a ticker):

* inline: ``judge`` on the event loop, as the worker did before issue 11;
* threads: ``judge`` in a ThreadPoolExecutor (the rules are pure Python: one core);
* processes: ``worker.deciders.DecidingPool`` (pebble, chunked, with a time budget).

Then the slowest claims found (500 entries in one encounter on one site) decided alone,
which is what the per-record budget must leave room for. Decisions are compared byte for
byte across the three ways. Figures depend on the machine's other load: run it idle.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from rules.pack import current_pack
from schemas.examples import crowded_claim, example_claim, max_size_claim
from worker.decide import Judging, judge
from worker.deciders import DecidingPool, PoolSpec
from worker.judgement import Judgement
from worker.topology import DEFAULT_MAX_DECISION_BYTES

Items = Sequence[tuple[bytes, None]]


Work = Callable[[], Awaitable[list[Judgement]]]


async def _lag_while(work: Work) -> tuple[float, float, list[Judgement]]:
    """Seconds the work took, and the worst lateness of a 10 ms ticker meanwhile."""
    worst = 0.0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal worst
        while not stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            worst = max(worst, time.perf_counter() - before - 0.01)

    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0.02)
    began = time.perf_counter()
    judged = await work()
    took = time.perf_counter() - began
    stop.set()
    await tick
    return took, worst, judged


async def _inline(items: Items, judging: Judging) -> list[Judgement]:
    out = []
    for raw, key in items:
        out.append(judge(raw, key, judging))
        await asyncio.sleep(0)  # the loop runs between records, never during one
    return out


async def _threads(items: Items, judging: Judging, executor: ThreadPoolExecutor) -> list[Judgement]:
    loop = asyncio.get_running_loop()
    return list(
        await asyncio.gather(
            *(loop.run_in_executor(executor, judge, raw, key, judging) for raw, key in items)
        )
    )


async def main_async(args: argparse.Namespace) -> None:
    judging = Judging(1_000_000, DEFAULT_MAX_DECISION_BYTES, current_pack())
    typical: Items = [(json.dumps(example_claim(n)).encode(), None) for n in range(args.claims)]
    heavy: Items = [(json.dumps(max_size_claim(n)).encode(), None) for n in range(args.heavy)]
    print(
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
        f"typical claims {sum(len(r) for r, _ in typical) / len(typical) / 1024:.1f} KiB, "
        f"claims of 500 MAR entries {sum(len(r) for r, _ in heavy) / len(heavy) / 1024:.0f} KiB"
    )
    pool = DecidingPool(
        PoolSpec(judging.max_claim_bytes, judging.max_decision_bytes), args.workers, 60.0
    )
    began = time.perf_counter()
    await pool.start()
    print(f"process pool of {args.workers}: started, pack loaded in each, "
          f"{time.perf_counter() - began:.1f} s")  # fmt: skip
    executor = ThreadPoolExecutor(args.workers)
    results: dict[str, list[Judgement]] = {}
    for label, items in (("typical", typical), ("500 MAR entries", heavy)):
        ways: list[tuple[str, Work]] = [
            ("inline (event loop)", functools.partial(_inline, items, judging)),
            (f"threads ({args.workers})", functools.partial(_threads, items, judging, executor)),
            (f"processes ({args.workers})",
             functools.partial(pool.judge_prefix, items, time.monotonic() + 3600)),
        ]  # fmt: skip
        for way, work in ways:
            took, lag, judged = await _lag_while(work)
            results[f"{label}/{way}"] = judged
            print(
                f"{label:<16} {way:<20} {len(items) / took:>8,.1f} claims/s   "
                f"event loop late by up to {lag * 1000:>7.1f} ms"
            )
        first, *others = (results[k] for k in results if k.startswith(label))
        assert all(o == first for o in others), "the three ways decided differently"
    print("decisions identical across inline, threads and processes")

    slow = json.dumps(crowded_claim(7)).encode()
    times = []
    for _ in range(5):
        began = time.perf_counter()
        judge(slow, None, judging)
        times.append(time.perf_counter() - began)
    single = [time.perf_counter()]
    judge(heavy[0][0], None, judging)
    single.append(time.perf_counter())
    print(
        f"slowest claim found (500 entries, one encounter, one site, {len(slow) // 1024} KiB): "
        f"{statistics.median(times) * 1000:.0f} ms median, {max(times) * 1000:.0f} ms worst; "
        f"one claim of 500 entries over 100 days: {(single[1] - single[0]) * 1000:.0f} ms"
    )
    executor.shutdown()
    await pool.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=3000)
    parser.add_argument("--heavy", type=int, default=40)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    asyncio.run(main_async(parser.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
