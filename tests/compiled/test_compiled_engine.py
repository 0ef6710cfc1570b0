"""The compiled engine (issue 16) decides as the pure one does, byte for byte.

A session fixture builds the mypyc-compiled wheel (``ONCOSCRUB_COMPILE=1``, setup.py) as
``make wheel-compiled`` does, from a snapshot of the packaged sources, and installs it with
``pip install --no-deps --target``. The tests then run it in subprocesses whose working
directory is outside the repository and whose PYTHONPATH is that target alone (dependencies come
from the venv). The build is cached under ``~/.cache/oncoscrub/compiled/<key>``, the key hashing
everything the wheel is built from (the packaged files, setup.py, pyproject.toml) and the
compiler (mypy's version, the interpreter, the setuptools pin, MYPYC_OPT_LEVEL). A build that
fails fails the tests: nothing here is skipped.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.golden.record import AUDIT, DECISIONS

ROOT = Path(__file__).resolve().parents[2]
RECORD = ROOT / "tests" / "golden" / "record.py"
DRIVER = Path(__file__).resolve().parent / "driver.py"
PACKAGED = ("pyproject.toml", "setup.py", "README.md", "schemas", "rules", "worker", "review")
CACHE = Path.home() / ".cache" / "oncoscrub"
KEPT_BUILDS = 3


@dataclass(frozen=True)
class CompiledBuild:
    target: Path  # the wheel installed with --target
    modules: tuple[str, ...]  # the modules setup.py compiles
    cwd: Path  # outside the repository

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "ONCOSCRUB_COMPILE")}
        env["PYTHONPATH"] = str(self.target)
        return subprocess.run(
            [sys.executable, "-P", *args],
            cwd=self.cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


def _setup_module(src: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("oncoscrub_setup", src / "setup.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _setuptools_pin() -> str:
    found = re.search(r"^BUILD_SETUPTOOLS_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M)
    assert found, "the Makefile pins the setuptools the wheels build with"
    return found.group(1)


def _build_tools(version: str) -> Path:
    """The setuptools the build runs with, installed once beside the venv (as the Makefile
    does): the venv's own predates pyproject.toml's license field."""
    tools = CACHE / "build-tools" / f"setuptools-{version}"
    if not tools.is_dir():
        tools.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=tools.parent))
        try:
            _pip("install", "--target", str(staging), f"setuptools=={version}")
            if not tools.exists():
                os.replace(staging, tools)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return tools


def _pip(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        pytest.fail(f"pip {args[0]} failed:\n{(done.stdout + done.stderr)[-6000:]}")
    return done.stdout + done.stderr


def _snapshot(dest: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.so")
    for name in PACKAGED:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, dest / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, dest / name)


def _key(src: Path, setuptools: str) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in src.rglob("*") if p.is_file()):
        digest.update(path.relative_to(src).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    compiler = (
        f"mypy {importlib.metadata.version('mypy')}; python {sys.version}; "
        f"setuptools {setuptools}; MYPYC_OPT_LEVEL={os.environ.get('MYPYC_OPT_LEVEL', '')}"
    )
    digest.update(compiler.encode())
    return digest.hexdigest()[:20]


def _build(src: Path, into: Path, tools: Path) -> None:
    """The compiled wheel, as ``make wheel-compiled`` builds it, installed into ``into/target``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONHOME"}
    env |= {"ONCOSCRUB_COMPILE": "1", "PYTHONPATH": str(tools)}
    began = time.monotonic()
    log = _pip(
        *("wheel", "-v", "--no-deps", "--no-build-isolation", "-w", str(into / "dist"), "."),
        cwd=src,
        env=env,
    )
    seconds = time.monotonic() - began
    (wheel,) = (into / "dist").glob("oncoscrub-*.whl")
    assert "-cp3" in wheel.name, f"{wheel.name}: ONCOSCRUB_COMPILE=1 built no extension"
    _pip("install", "--no-deps", "--no-compile", "--target", str(into / "target"), str(wheel))
    (into / "build.log").write_text(f"{wheel.name} built in {seconds:.0f} s\n{log}")


def _prune(builds: Path, keep: Path) -> None:
    old = sorted(
        (p for p in builds.iterdir() if p.is_dir() and p != keep and not p.name.startswith("tmp")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for stale in old[KEPT_BUILDS - 1 :]:
        shutil.rmtree(stale, ignore_errors=True)


@pytest.fixture(scope="session")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> CompiledBuild:
    work = tmp_path_factory.mktemp("compiled")
    src = work / "src"
    src.mkdir()
    _snapshot(src)
    setuptools = _setuptools_pin()
    builds = CACHE / "compiled"
    builds.mkdir(parents=True, exist_ok=True)
    build = builds / _key(src, setuptools)
    if not (build / "target").is_dir():
        staging = Path(tempfile.mkdtemp(dir=builds))
        try:
            _build(src, staging, _build_tools(setuptools))
            if not build.exists():
                os.replace(staging, build)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    os.utime(build)
    _prune(builds, build)
    setup = _setup_module(src)
    modules = tuple(setup.module_name(p) for p in setup.compiled_modules(src))
    cwd = work / "elsewhere"
    cwd.mkdir()
    return CompiledBuild(build / "target", modules, cwd)


@pytest.fixture(scope="session")
def golden_run(compiled: CompiledBuild) -> tuple[dict[str, Any], Path]:
    out = compiled.cwd / "golden"
    out.mkdir()
    done = compiled.run(str(DRIVER), str(RECORD), str(out), *compiled.modules)
    assert done.returncode == 0, done.stderr[-6000:]
    report: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return report, out


def _first_difference(got: bytes, want: bytes) -> str:
    got_lines, want_lines = got.splitlines(), want.splitlines()
    for n, (g, w) in enumerate(zip(got_lines, want_lines, strict=False), start=1):
        if g != w:
            return f"line {n} differs:\n  compiled: {g[:300]!r}\n  recorded: {w[:300]!r}"
    return f"{len(got_lines)} lines where {len(want_lines)} were recorded"


def test_the_engine_modules_are_compiled(
    compiled: CompiledBuild, golden_run: tuple[dict[str, Any], Path]
) -> None:
    report, _ = golden_run
    suffixes = tuple(report["extension_suffixes"])
    assert "rules.engine" in compiled.modules and "rules.pipeline" in compiled.modules
    assert len(compiled.modules) >= 30, compiled.modules
    pure = {m: f for m, f in report["compiled"].items() if not f.endswith(suffixes)}
    assert not pure, f"not compiled: {pure}"
    # Every module of the project in the run came from the installed build, none from the repo.
    elsewhere = {
        m: f for m, f in report["loaded"].items() if not f.startswith(f"{compiled.target}/")
    }
    assert not elsewhere, elsewhere
    assert set(report["compiled"]) <= set(report["loaded"])


def test_the_compiled_build_gives_the_golden_decisions_byte_for_byte(
    golden_run: tuple[dict[str, Any], Path],
) -> None:
    report, out = golden_run
    assert report["inputs"] > 400
    for name, recorded in (("decisions.jsonl", DECISIONS), ("audit.jsonl", AUDIT)):
        got, want = (out / name).read_bytes(), recorded.read_bytes()
        assert got == want, f"{name}: {_first_difference(got, want)}"


def test_the_deciding_pool_of_the_compiled_build_decides_as_in_process(
    golden_run: tuple[dict[str, Any], Path],
) -> None:
    """The worker decides in pool processes: each judgement is pickled back to it."""
    report, _ = golden_run
    assert report["pool_differing"] == 0, report["pool_differing"]


def test_audit_replay_through_the_compiled_build_is_identical(compiled: CompiledBuild) -> None:
    done = compiled.run("-m", "worker.cli", "audit", "replay", "--file", str(AUDIT), "--json")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["replayed"] > 400 and not report["differing"], report
