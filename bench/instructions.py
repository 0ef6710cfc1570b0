"""Machine instructions per claim, counted by valgrind (callgrind). Prints figures; asserts
nothing.

    python -m bench.instructions [--claims 100] [--installed DIR]

Timings on a shared two-core machine vary by ±20 % from run to run, which hides a change
of a few per cent. The instructions a claim costs do not vary: callgrind counts them while
the measured loop runs, and only then (``--toggle-collect`` on the one C function that
drives the loop), so loading the pack and warming up are left out. Measured:

* ``judge``: what a pool process does per claim (read the bytes, validate, assess, build
  and serialise the decision): ``worker.decide.judge``;
* its parts: ``read`` (the bounded JSON read, ``worker.intake``), ``validate`` (the
  submitted-claim contract), ``assess`` (the rules alone, on validated claims) and
  ``serialise`` (the decision's JSON, from its model); and, inside ``serialise``, ``echo``
  (the submitted claim's JSON, which the decision carries). What ``judge`` spends beyond
  the four parts is printed as the rest: building the decision and the glue between;
* ``link``: what the worker's main process then does per claim, the audit event chained
  (``worker.decide.link``; not part of ``judge``).

``--installed DIR`` counts the build installed there (the compiled one of ``make
wheel-compiled``, ``pip install --target DIR``) instead of this checkout. Needs valgrind
(``apt-get install valgrind``); runs ~50 times slower than native: each part a minute or two.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

ROOT = Path(__file__).resolve().parent.parent
# The loop is driven by itertools.starmap, which nothing in the engine or pydantic uses:
# callgrind collects from its entry to its exit.
TOGGLE = "starmap_next"
PARTS = ("judge", "read", "validate", "assess", "serialise", "echo", "link")


def _drop(results: Iterable[Any]) -> None:
    """Makes each result and lets it go (a deque that keeps none)."""
    deque(results, maxlen=0)


def _measured(what: str, n: int) -> None:
    """Runs inside valgrind: warm up, then the measured loop through ``starmap``. As in a
    pool process (``worker.deciders``), the loaded pack is frozen out of the collector's
    sight and each result is dropped once made: a loop that kept its results would make
    the collector walk them again and again, a cost no pool process pays (it was half of
    what ``validate`` counted before)."""
    from rules import assess
    from schemas.claim import SubmittedClaim
    from schemas.examples import example_claim
    from worker import intake
    from worker.decide import Judging, judge, link

    raws = [json.dumps(example_claim(i)).encode() for i in range(n)]
    judging = Judging(max_claim_bytes=1 << 20)
    for raw in raws:  # the pack loads, caches fill
        judge(raw, None, judging)
    claims = [SubmittedClaim.model_validate_json(r) for r in raws]
    decisions = [_decision_model(judge(r, None, judging).body) for r in raws]
    gc.collect()
    gc.freeze()
    if what == "judge":
        _drop(itertools.starmap(judge, ((r, None, judging) for r in raws)))
    elif what == "read":
        _drop(itertools.starmap(intake.read_object, ((r,) for r in raws)))
    elif what == "validate":
        _drop(itertools.starmap(SubmittedClaim.model_validate_json, ((r,) for r in raws)))
    elif what == "assess":
        _drop(itertools.starmap(assess, ((c,) for c in claims)))
    elif what == "serialise":
        _drop(itertools.starmap(BaseModel.model_dump_json, ((d,) for d in decisions)))
    elif what == "echo":
        _drop(itertools.starmap(BaseModel.model_dump_json, ((c,) for c in claims)))
    else:
        _drop(itertools.starmap(link, _linked(raws, judging)))


def _linked(raws: list[bytes], judging: Any) -> list[tuple[Any, ...]]:
    """``link``'s arguments for each claim, as the worker's main process passes them."""
    from datetime import UTC, datetime

    from schemas.audit import SourceRef
    from worker.audit.chain import GENESIS
    from worker.decide import judge
    from worker.topology import declare

    topology = declare()
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    return [
        (judge(r, None, judging), r, SourceRef(topic="claims", partition=0, offset=i),
         topology, "bench", at, GENESIS, at)
        for i, r in enumerate(raws)
    ]  # fmt: skip


def _decision_model(body: bytes) -> BaseModel:
    """A decision's model, from the bytes ``judge`` made of it (the same bytes again)."""
    from schemas.decision import ReviewRequest, ScrubbedClaim

    scrubbed = json.loads(body).get("reasons") is None
    model = ScrubbedClaim if scrubbed else ReviewRequest
    made = model.model_validate_json(body)
    if made.model_dump_json().encode() != body:
        raise SystemExit("a decision did not serialise to the bytes judge made")
    return made


def _count(what: str, n: int, installed: Path | None) -> int:
    env = dict(os.environ)
    # The build measured: the one installed there, else this checkout.
    env["PYTHONPATH"] = str(installed or ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        run = subprocess.run(
            [
                "valgrind", "--tool=callgrind", "--collect-atstart=no",
                f"--toggle-collect={TOGGLE}", f"--callgrind-out-file={out}",
                sys.executable, __file__, "--measure", what, "--claims", str(n),
            ],
            env=env, cwd=tmp, capture_output=True, text=True,
        )  # fmt: skip
        summary = re.search(r"^summary:\s*(\d+)", out.read_text() if out.exists() else "", re.M)
        if run.returncode != 0 or summary is None:
            raise SystemExit(f"callgrind run failed ({run.returncode}):\n{run.stderr[-2000:]}")
        return int(summary.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=100)
    parser.add_argument("--installed", type=Path, help="count the build installed there")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # inside valgrind
    args = parser.parse_args()
    if args.measure:
        _measured(args.measure, args.claims)
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    build = f"installed at {args.installed}" if args.installed else "this checkout (pure)"
    print(f"{args.claims} example claims; build: {build}")
    counts: dict[str, float] = {}
    for what in PARTS:
        counts[what] = _count(what, args.claims, args.installed) / args.claims
        print(f"{what:<10} {counts[what]:>12,.0f} instructions per claim")
    rest = counts["judge"] - sum(counts[p] for p in ("read", "validate", "assess", "serialise"))
    print(f"{'the rest':<10} {rest:>12,.0f} (judge less read, validate, assess and serialise)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
