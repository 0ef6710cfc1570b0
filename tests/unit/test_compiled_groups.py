"""setup.py's split of the compiled build into two libraries, checked without building it.

mypyc type-checks a library's modules as one import cycle; with the checks and the pipeline
in one, mypy reaches ``rules/pipeline.py`` before the checks its PIPELINE lists and the build
fails ("Cannot determine type of ..."). A check module lands in the pipeline's library as soon
as it imports the ``rules`` package itself (``from rules import x``, not ``from rules.x
import y``): this test says so in a second, where the build (tests/compiled) says so in a
minute with mypy's words.
"""

from __future__ import annotations

import setup


def test_the_checks_and_what_they_use_compile_apart_from_the_pipeline() -> None:
    paths = setup.compiled_modules()
    libraries = {name: set(group) for group, name in setup.groups(paths)}
    by_name = {setup.module_name(p): p for p in paths}
    # What the pipeline imports (the check modules, the claim view, Rule), and what the
    # checks make their findings and lines with.
    used = {by_name[m] for m in setup._imports("rules/pipeline.py", set(by_name))}
    used |= {"rules/rule.py", "rules/outputs.py", "rules/administration/coding.py"}
    assert "rules/pipeline.py" in libraries["oncoscrub_engine"]
    assert "rules/checks/diagnoses.py" in used
    assert not used & libraries["oncoscrub_engine"], sorted(used & libraries["oncoscrub_engine"])
