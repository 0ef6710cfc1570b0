"""Machine instructions per claim, counted by valgrind (callgrind). Prints figures; asserts
nothing.

    python -m bench.instructions [--claims 100] [--installed DIR]

Timings on a shared two-core machine vary by ±20 % from run to run, which hides a change
of a few per cent. The instructions a claim costs do not vary: callgrind counts them while
the measured loop runs, and only then (``--toggle-collect`` on the one C function that
drives the loop), so loading the pack and warming up are left out. Measured:

* ``judge``: what a pool process does per claim (read the bytes, validate, assess, build
  and serialise the decision): ``worker.decide.judge``;
* ``assess``: the rules alone, on validated claims.

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
    from schemas.claim import SubmittedClaim
    from schemas.examples import example_claim
    from worker.decide import Judging, judge

    raws = [json.dumps(example_claim(i)).encode() for i in range(n)]
    judging = Judging(max_claim_bytes=1 << 20)
    for raw in raws:  # the pack loads, caches fill
        judge(raw, None, judging)
    if what == "judge":
        list(itertools.starmap(judge, ((r, None, judging) for r in raws)))
    else:
        from rules import assess

        claims = [SubmittedClaim.model_validate_json(r) for r in raws]
        list(itertools.starmap(assess, ((c,) for c in claims)))


def _count(what: str, n: int, installed: Path | None) -> int:
    env = dict(os.environ)
    if installed is not None:
        env["PYTHONPATH"] = str(installed)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        script = (
            "import sys; sys.path.append(sys.argv[1]); "
            "from bench.instructions import _measured; _measured(sys.argv[2], int(sys.argv[3]))"
        )
        subprocess.run(
            [
                "valgrind", "--tool=callgrind", "--collect-atstart=no",
                f"--toggle-collect={TOGGLE}", f"--callgrind-out-file={out}",
                sys.executable, "-c", script, str(ROOT), what, str(n),
            ],
            env=env, cwd=tmp, check=True, capture_output=True,
        )  # fmt: skip
        summary = re.search(r"^summary:\s*(\d+)", out.read_text(), re.MULTILINE)
        if summary is None:
            raise SystemExit("callgrind wrote no summary")
        return int(summary.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=100)
    parser.add_argument("--installed", type=Path, help="count the build installed there")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    build = f"installed at {args.installed}" if args.installed else "this checkout (pure)"
    print(f"{args.claims} example claims; build: {build}")
    for what in ("judge", "assess"):
        total = _count(what, args.claims, args.installed)
        print(f"{what:<8} {total / args.claims:>12,.0f} instructions per claim")
    return 0


if __name__ == "__main__":
    sys.exit(main())
