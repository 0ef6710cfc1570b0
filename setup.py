"""The compiled engine (issue 16), opt-in. Everything else about the build is in pyproject.toml.

``ONCOSCRUB_COMPILE=1`` compiles the pure engine with mypyc: every module under ``rules/`` and
the decision step, ``worker/decide.py`` (NOT_COMPILED says what is left out, and why). Without it
(``pip install -e .``, ``make wheel``, the Dockerfile) the build is pure Python, the fallback that
runs anywhere. A compiled wheel still carries the .py files; the import system prefers the
extension module beside each. tests/compiled proves that the compiled build decides the golden
inputs byte for byte as the pure one does and that ``audit replay`` agrees.

mypyc type-checks the code against the installed dependencies (pydantic and its mypy plugin
above all), so a compiled build runs without build isolation, in the venv: ``make
wheel-compiled``. ``MYPYC_OPT_LEVEL`` sets the C compiler's -O level (default below).
"""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # The venv's setuptools (65, from venv creation) ships no types.
    from setuptools import Extension  # type: ignore[import-untyped]

HERE = Path(__file__).resolve().parent

# Left out of the compiled build, each with the reason.
NOT_COMPILED = {
    # `class _Pairs(list[tuple[str, Any]])`: mypyc cannot compile a class that inherits from a
    # builtin ("Inheriting from most builtin types is unimplemented"). Compiling the module
    # needs a change there: `@mypy_extensions.mypyc_attr(native_class=False)` on the class
    # (mypy_extensions then a runtime dependency), or a _Pairs that holds its list.
    "worker/intake.py": "a class inheriting from list",
}
# worker/decide.py is compiled; its Judgement lives in worker/judgement.py, which is not: a
# frozen dataclass compiled as a native class cannot be unpickled (FrozenInstanceError: pickle
# restores the fields by setattr), and every judgement crosses from a pool process by pickle.

# -O1: the wheel builds in ~55 s instead of ~80 s at mypyc's default -O3 on two cores (the C of
# the checks alone is ~180,000 lines), and bench/engine_throughput.py shows no difference between
# the two beyond its noise.
DEFAULT_OPT_LEVEL = "1"

# Commands that only describe the project (pip asks for the metadata first): nothing to compile.
METADATA_ONLY = {"egg_info", "dist_info", "sdist", "--version", "--name"}


def compiled_modules(root: Path = HERE) -> list[str]:
    """The paths mypyc compiles, relative to ``root`` and sorted (a stable build)."""
    rules = sorted(p.relative_to(root).as_posix() for p in (root / "rules").rglob("*.py"))
    return [m for m in [*rules, "worker/decide.py", "worker/intake.py"] if m not in NOT_COMPILED]


def module_name(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".").removesuffix(".__init__")


def _imports(path: str, known: set[str]) -> set[str]:
    """The modules of ``known`` that a module imports at its top level."""
    found: set[str] = set()
    for node in ast.parse((HERE / path).read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found.update(n for n in names if n in known)
    return found


def groups(paths: list[str]) -> list[tuple[list[str], str | None]]:
    """Two shared libraries: the pipeline with every module that imports it (the engine, the
    package, the decision step), and all the others (the checks and what they use).

    One library for all is mypyc's default, but mypyc makes each module of a library depend on
    every other: the checks and the pipeline then form one import cycle, in which mypy
    type-checks ``rules/pipeline.py`` before the check modules whose decorated functions its
    PIPELINE lists ("Cannot determine type of ..."). Split this way the checks come first, as
    in plain mypy. (``separate=True``, a library per module, also works but builds slower.)
    """
    names = {module_name(p): p for p in paths}
    imports = {name: _imports(path, set(names)) for name, path in names.items()}
    upper = {"rules.pipeline"}
    while grown := {n for n, deps in imports.items() if n not in upper and deps & upper}:
        upper |= grown
    return [
        ([p for n, p in names.items() if n not in upper], "oncoscrub_checks"),
        ([p for n, p in names.items() if n in upper], "oncoscrub_engine"),
    ]


def extensions() -> list[Extension]:
    if os.environ.get("ONCOSCRUB_COMPILE", "") != "1" or METADATA_ONLY & set(sys.argv[1:]):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        sys.exit(
            "ONCOSCRUB_COMPILE=1 needs mypy and the project's dependencies in the build "
            "environment: build without isolation from the venv (make wheel-compiled)"
        )
    # mypyc resolves the paths and reads pyproject.toml's [tool.mypy] from the working
    # directory; its mypy cache stays in build/, away from the one `make typecheck` uses.
    os.chdir(HERE)
    paths = compiled_modules()
    return mypycify(
        ["--cache-dir", "build/mypy-cache", *paths],
        opt_level=os.environ.get("MYPYC_OPT_LEVEL", DEFAULT_OPT_LEVEL),
        separate=groups(paths),
    )


if __name__ == "__main__":  # as setuptools runs it; tests/compiled imports the lists above
    from setuptools import setup

    setup(
        ext_modules=extensions(),
        # The two libraries and the modules' stubs compile in parallel.
        options={"build_ext": {"parallel": os.cpu_count() or 1}},
    )
