"""The lock files pin what pyproject.toml asks for: the image installs requirements.lock, CI and
`make test` requirements-dev.lock, and byte-identical replay depends on both holding the same
versions. A dependency added to pyproject.toml without `make lock` fails here."""

from __future__ import annotations

import importlib.metadata
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.markers import Marker, default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.deploy.kit import DOCKERFILE, ROOT

RUNTIME_LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
# The lock is universal; these are the interpreters the project supports and the image runs.
PYTHONS = ("3.11", "3.12", "3.13")
RUNNING = f"{sys.version_info.major}.{sys.version_info.minor}"
REGENERATE = "pyproject.toml and the lock files disagree: run `make lock` and commit both locks"


@dataclass(frozen=True)
class Pin:
    name: str
    version: Version
    marker: Marker | None
    hashes: int


def pins(path: Path) -> list[Pin]:
    """Each `name==version [; marker]` entry with the number of hashes that follow it."""
    out: list[Pin] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("--hash="):
            out[-1] = Pin(out[-1].name, out[-1].version, out[-1].marker, out[-1].hashes + 1)
        elif stripped and not stripped.startswith("#") and not line[0].isspace():
            req = Requirement(stripped.rstrip("\\").strip())
            [spec] = req.specifier
            assert spec.operator == "==", f"{path.name}: {req} is not pinned"
            out.append(Pin(canonicalize_name(req.name), Version(spec.version), req.marker, 0))
    return out


def environment(python: str) -> dict[str, str]:
    env = default_environment()
    env.update(
        python_version=python,
        python_full_version=f"{python}.0",
        sys_platform="linux",
        platform_system="Linux",
        os_name="posix",
        platform_python_implementation="CPython",
        implementation_name="cpython",
    )
    return env


def applies(marker: Marker | None, env: dict[str, str], extra: str = "") -> bool:
    return marker is None or marker.evaluate({**env, "extra": extra})


def resolved(path: Path, env: dict[str, str]) -> dict[str, Version]:
    chosen: dict[str, Version] = {}
    for pin in pins(path):
        if applies(pin.marker, env):
            assert pin.name not in chosen, f"{path.name}: two pins of {pin.name} apply"
            chosen[pin.name] = pin.version
    return chosen


def unmet(requirements: list[str], lock: dict[str, Version], env: dict[str, str]) -> list[str]:
    problems = []
    for text in requirements:
        req = Requirement(text)
        if not applies(req.marker, env):
            continue
        got = lock.get(canonicalize_name(req.name))
        if got is None:
            problems.append(f"{req} is not in the lock")
        elif not req.specifier.contains(got, prereleases=True):
            problems.append(f"{req} but the lock pins {got}")
    return problems


@pytest.mark.parametrize("python", PYTHONS)
def test_runtime_lock_satisfies_pyprojects_dependencies(python: str) -> None:
    lock = resolved(RUNTIME_LOCK, environment(python))
    assert unmet(PYPROJECT["dependencies"], lock, environment(python)) == [], REGENERATE


@pytest.mark.parametrize("python", PYTHONS)
def test_dev_lock_satisfies_dependencies_and_the_dev_extra(python: str) -> None:
    wanted = PYPROJECT["dependencies"] + PYPROJECT["optional-dependencies"]["dev"]
    lock = resolved(DEV_LOCK, environment(python))
    assert unmet(wanted, lock, environment(python)) == [], REGENERATE


@pytest.mark.parametrize("python", PYTHONS)
def test_the_image_and_ci_run_the_same_versions(python: str) -> None:
    runtime = resolved(RUNTIME_LOCK, environment(python))
    dev = resolved(DEV_LOCK, environment(python))
    differ = {name: (v, dev.get(name)) for name, v in runtime.items() if dev.get(name) != v}
    assert differ == {}, REGENERATE


def test_every_pin_carries_hashes_for_a_hash_checked_install() -> None:
    for path in (RUNTIME_LOCK, DEV_LOCK):
        unhashed = [p.name for p in pins(path) if p.hashes == 0]
        assert unhashed == [], f"{path.name}: no --hash for {unhashed}"


def test_the_lock_is_closed_under_the_locked_packages_own_requirements() -> None:
    """Every requirement of every locked package (with the extras asked for) is locked too,
    read from the installed packages' metadata: a lock missing a transitive dependency would
    make `pip install --require-hashes` fail on a fresh machine."""
    env = environment(RUNNING)
    lock = resolved(DEV_LOCK, env)
    wanted = PYPROJECT["dependencies"] + PYPROJECT["optional-dependencies"]["dev"]
    queue = [Requirement(t) for t in wanted]
    seen: set[tuple[str, frozenset[str]]] = set()
    problems: list[str] = []
    while queue:
        req = queue.pop()
        name = canonicalize_name(req.name)
        if (name, frozenset(req.extras)) in seen:
            continue
        seen.add((name, frozenset(req.extras)))
        for text in importlib.metadata.requires(name) or []:
            child = Requirement(text)
            if not any(applies(child.marker, env, extra) for extra in {"", *req.extras}):
                continue
            got = lock.get(canonicalize_name(child.name))
            if got is None or not child.specifier.contains(got, prereleases=True):
                problems.append(f"{name} needs {child}; the lock has {got}")
            else:
                queue.append(child)
    assert problems == [], REGENERATE


def test_this_environment_runs_the_locked_versions() -> None:
    """The tests prove what they prove for the locked versions only."""
    env = environment(RUNNING)
    differ = {}
    for name, version in resolved(DEV_LOCK, env).items():
        installed = Version(importlib.metadata.version(name))
        if installed != version:
            differ[name] = f"installed {installed}, locked {version}"
    assert differ == {}, "run `make test` (it installs from requirements-dev.lock)"


def test_make_and_the_image_install_from_the_locks_with_hashes() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"pip install .*--require-hashes -r requirements-dev\.lock", makefile)
    assert re.search(r"pip install .*--no-deps -e \.", makefile)
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"pip install .*--require-hashes.*\\\n\s*-r requirements\.lock", dockerfile)
    assert re.search(r"pip install .*--no-deps \.", dockerfile)
