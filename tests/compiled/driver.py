"""Run by test_compiled_engine in a subprocess whose only project code is the installed compiled
build: ``python -P driver.py RECORD OUT MODULE...`` from a directory outside the repository.

Imports each MODULE and reports the file it came from, then decides the golden inputs as
``tests/golden/record.py``'s ``decide_all`` does (that very function, loaded from RECORD) and
writes the decisions and audit bytes to OUT; then decides them again through the worker's
deciding pool (real processes: what a judgement pickles to must cross back) and reports whether
every pooled decision equals the in-process one. Build tools cannot be imported meanwhile: the
compiled build must run with the runtime dependencies alone (the image has no mypy).
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

BUILD_ONLY = frozenset({"mypy", "mypyc", "librt", "mypy_extensions"})
PROJECT = frozenset({"rules", "schemas", "worker", "review"})


class _BuildOnly(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] in BUILD_ONLY:
            raise ModuleNotFoundError(f"{fullname} is a build tool here", name=fullname)
        return None


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("golden_record", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _origin(module: ModuleType) -> str:
    """Where a module came from: its file, or a namespace package's first directory."""
    file = getattr(module, "__file__", None)
    return str(file) if file else str(next(iter(getattr(module, "__path__", [])), None))


async def _pooled_as_in_process(lines: list[bytes]) -> int:
    """How many golden inputs the deciding pool decides differently from ``decide``."""
    from datetime import UTC, datetime

    from schemas import SourceRef
    from worker.audit.chain import GENESIS
    from worker.decide import DecisionContext, decide, link
    from worker.deciders import DecidingPool, PoolSpec
    from worker.topology import DEFAULT_MAX_DECISION_BYTES, declare

    topology, at = declare(), datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    pool = DecidingPool(PoolSpec(1_000_000, DEFAULT_MAX_DECISION_BYTES), 1, budget_s=60.0)
    await pool.start()
    try:
        judged = await pool.judge_prefix([(raw, None) for raw in lines], time.monotonic() + 600)
    finally:
        await pool.close()
    ctx = DecisionContext(topology=topology, worker_id="w", max_claim_bytes=1_000_000)
    differing = len(lines) - len(judged)
    for offset, (raw, judgement) in enumerate(zip(lines, judged, strict=False)):
        source = SourceRef(topic="golden", partition=0, offset=offset)
        pooled = link(judgement, raw, source, topology, "w", at, GENESIS)
        differing += pooled != decide(raw, None, source, ctx, at, GENESIS)
    return differing


def main(argv: list[str]) -> int:
    sys.meta_path.insert(0, _BuildOnly())
    record_path, out, *names = argv
    compiled = {name: str(importlib.import_module(name).__file__) for name in names}
    record = _load(Path(record_path))
    lines = Path(record.INPUTS).read_bytes().splitlines()
    decisions, audit = record.decide_all(lines)
    Path(out, "decisions.jsonl").write_bytes(decisions)
    Path(out, "audit.jsonl").write_bytes(audit)
    loaded = {
        name: _origin(module)
        for name, module in sorted(sys.modules.items())
        if name.partition(".")[0] in PROJECT
    }
    report = {
        "compiled": compiled,
        "loaded": loaded,
        "extension_suffixes": importlib.machinery.EXTENSION_SUFFIXES,
        "inputs": len(lines),
        "pool_differing": asyncio.run(_pooled_as_in_process(lines)),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
