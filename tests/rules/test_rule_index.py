"""The rule index: every rule applied anywhere is in the catalogue, every rule in the catalogue
is applied somewhere, and each has a positive and a negative case in the test file the
catalogue names for it. Rule ids are never written as strings in the engine's logic."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path
from types import ModuleType

from rules.catalogue import FAMILIES, RULES, case_file, module_of
from rules.checks.check import checks_of
from rules.pipeline import PIPELINE
from rules.rule import Rule

ROOT = Path(__file__).resolve().parents[2]
RULE_ID = re.compile(r"(ADM|DX|NCCI|BND|CODE|RO|COV|PACK|MAR)-[A-Z0-9]+")


def _sources() -> dict[Path, ast.Module]:
    return {p: ast.parse(p.read_text()) for p in sorted((ROOT / "rules").rglob("*.py"))}


def _declared() -> dict[str, Path]:
    """Rule id -> the file with its ``NAME = Rule(id=...)`` declaration."""
    out: dict[str, Path] = {}
    for path, tree in _sources().items():
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call)
                and getattr(node.value.func, "id", None) == "Rule"
            ):
                rule_id = next(k.value for k in node.value.keywords if k.arg == "id")
                assert isinstance(rule_id, ast.Constant)
                assert rule_id.value not in out, f"{rule_id.value} declared twice"
                out[rule_id.value] = path.relative_to(ROOT)
    return out


def test_every_declared_rule_is_in_the_catalogue_with_the_file_that_declares_it() -> None:
    declared = _declared()
    assert set(declared) == set(RULES)
    for rule_id, path in declared.items():
        assert module_of(rule_id) == str(path)


def test_every_rule_constant_is_named_after_its_id_and_is_the_catalogue_one() -> None:
    for module in FAMILIES:
        for name, value in vars(module).items():
            if isinstance(value, Rule):
                assert name == value.id.replace("-", "_")
                assert RULES[value.id] is value


def test_no_rule_id_is_written_as_a_string_in_the_engine() -> None:
    """A finding or a line names its rule through the rule object, so a typo is a NameError
    at import, not a finding nobody can look up."""
    strays = []
    for path, tree in _sources().items():
        declaration_ids = {
            id(k.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Rule"
            for k in node.keywords
            if k.arg == "id"
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and RULE_ID.fullmatch(node.value)
                and id(node) not in declaration_ids
            ):
                strays.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value}")
    assert not strays


def _used_in_logic() -> set[str]:
    """Rules a function of the engine refers to (fires, cites or checks)."""
    names = {r.id.replace("-", "_"): r.id for r in RULES.values()}
    used: set[str] = set()
    for tree in _sources().values():
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef):
                used |= {
                    names[n.id] for n in ast.walk(fn) if isinstance(n, ast.Name) and n.id in names
                }
    return used


def test_every_rule_in_the_catalogue_is_applied_somewhere() -> None:
    in_pipeline = {c.rule.id for step in PIPELINE for c in checks_of(step)}
    assert set(RULES) == in_pipeline | _used_in_logic()
    for step in PIPELINE:
        for c in checks_of(step):
            assert c.rule.id in {n for n in _names_in(c.run)}, (
                f"{c.run.__name__} never fires {c.rule.id}"
            )


def _names_in(fn: object) -> set[str]:
    code = getattr(fn, "__code__", None)
    assert code is not None
    return {n.replace("_", "-", 1) for n in code.co_names}


def _test_module(rule_id: str) -> ModuleType:
    return importlib.import_module(case_file(rule_id).removesuffix(".py").replace("/", "."))


def test_every_rule_has_a_positive_and_a_negative_case_where_the_catalogue_says() -> None:
    missing = [r for r in RULES if r not in _test_module(r).CASES]
    assert not missing


def test_every_case_belongs_to_a_rule_of_the_module_its_file_mirrors() -> None:
    for rule_id in RULES:
        module = _test_module(rule_id)
        for case_id in module.CASES:
            assert case_file(case_id) == case_file(rule_id), f"{case_id} in {module.__name__}"
