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
  submitted-claim contract) and ``assess`` (the rules alone, on validated claims); the
  rest of ``judge`` is building and serialising the decision.

``--installed DIR`` counts the build installed there (the compiled one of ``make
wheel-compiled``, ``pip install --target DIR``) instead of this checkout. Needs valgrind
(``apt-get install valgrind``); runs ~50 times slower than native, about a minute.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The loop is driven by itertools.starmap, which nothing in the engine or pydantic uses:
# callgrind collects from its entry to its exit.
TOGGLE = "starmap_next"


def _measured(what: str, n: int) -> None:
    """Runs inside valgrind: warm up, then the measured loop through ``starmap``."""
    from rules import assess
    from schemas.claim import SubmittedClaim
    from schemas.examples import example_claim
    from worker import intake
    from worker.decide import Judging, judge

    raws = [json.dumps(example_claim(i)).encode() for i in range(n)]
    judging = Judging(max_claim_bytes=1 << 20)
    for raw in raws:  # the pack loads, caches fill
        judge(raw, None, judging)
    if what == "judge":
        list(itertools.starmap(judge, ((r, None, judging) for r in raws)))
    elif what == "read":
        list(itertools.starmap(intake.read_object, ((r,) for r in raws)))
    elif what == "validate":
        list(itertools.starmap(SubmittedClaim.model_validate_json, ((r,) for r in raws)))
    else:
        claims = [SubmittedClaim.model_validate_json(r) for r in raws]
        list(itertools.starmap(assess, ((c,) for c in claims)))


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
    for what in ("judge", "read", "validate", "assess"):
        total = _count(what, args.claims, args.installed)
        print(f"{what:<8} {total / args.claims:>12,.0f} instructions per claim")
    return 0


if __name__ == "__main__":
    sys.exit(main())
