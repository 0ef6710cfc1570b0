"""Reading an input's bytes as a JSON object, bounded, before any recursive work.

jiter (pydantic's own JSON parser, in Rust) parses with a fixed nesting bound of 200
levels and without Python recursion, and can refuse duplicate keys; so an input nested
a million levels deep costs one linear scan and a reason, never a ``RecursionError``.
Only an input jiter has read is ever walked in Python, and then without recursion.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

import jiter
from pydantic import BaseModel, TypeAdapter, ValidationError

from schemas.base import MAX_CLAIM_VERSION, Identifier
from schemas.claim import SubmittedClaim
from schemas.decision import ReasonCode

_identifier: TypeAdapter[str] = TypeAdapter(Identifier)

# jiter's nesting bound (a claim nests 5 levels).
MAX_DEPTH = 200
MAX_LOCATIONS = 20


@dataclass(frozen=True, slots=True)
class Unreadable:
    """Why the bytes are not a JSON object the worker will read: dead-lettered whole."""

    code: ReasonCode
    message: str


@dataclass(frozen=True, slots=True)
class DuplicateKeys:
    """A JSON object that names a key twice: which value is meant is ambiguous."""

    doc: dict[str, Any]  # the last value of each key, for the claim's id only
    locations: tuple[str, ...]


def read_object(value: bytes) -> dict[str, Any] | Unreadable | DuplicateKeys:
    try:
        doc = jiter.from_json(value, catch_duplicate_keys=True, cache_mode="keys")
    except ValueError as exc:
        if str(exc).startswith("Detected duplicate key"):
            return _duplicates(value)
        return _unreadable(exc)
    if not isinstance(doc, dict):
        return Unreadable(ReasonCode.NOT_AN_OBJECT, "the message is JSON but not an object")
    return doc


def _unreadable(exc: ValueError) -> Unreadable:
    if str(exc).startswith("recursion limit exceeded"):
        return Unreadable(
            ReasonCode.NESTED_TOO_DEEP, f"the message nests JSON deeper than {MAX_DEPTH} levels"
        )
    return Unreadable(ReasonCode.NOT_UTF8_JSON, "the message is not UTF-8 JSON")


def _duplicates(value: bytes) -> dict[str, Any] | Unreadable | DuplicateKeys:
    # jiter stopped at the first duplicate, perhaps before a part nested too deep: read
    # the whole once more, bounded, before Python's parser walks it.
    try:
        doc = jiter.from_json(value, cache_mode="keys")
    except ValueError as exc:
        return _unreadable(exc)
    if not isinstance(doc, dict):
        return Unreadable(ReasonCode.NOT_AN_OBJECT, "the message is JSON but not an object")
    return DuplicateKeys(doc, duplicate_locations(value))


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as its key/value pairs in order, duplicates kept."""


def duplicate_locations(value: bytes) -> tuple[str, ...]:
    """Where a key repeats, as field paths (``service_lines.0.units``). A key the schema
    does not know comes from the input and is not echoed. Call only on bytes jiter read
    (nesting bounded)."""
    doc = json.loads(value, object_pairs_hook=_Pairs)
    found: list[str] = []
    stack: list[tuple[tuple[str, ...], Any]] = [((), doc)]
    while stack and len(found) < MAX_LOCATIONS:
        path, node = stack.pop()
        if isinstance(node, _Pairs):
            seen: set[str] = set()
            for name, child in node:
                shown = name if name in _field_names() else "<unexpected field>"
                if name in seen:
                    found.append(".".join((*path, shown)))
                seen.add(name)
                stack.append(((*path, shown), child))
        elif isinstance(node, list):
            stack.extend(((*path, str(i)), child) for i, child in enumerate(node))
    return tuple(sorted(set(found)))


@cache
def _field_names() -> frozenset[str]:
    """Every field name of the submitted claim and the models inside it."""
    names: set[str] = set()
    todo: list[type[BaseModel]] = [SubmittedClaim]
    seen: set[type[BaseModel]] = set()
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, info in model.model_fields.items():
            names.add(name)
            todo.extend(_models_in(info.annotation))
    return frozenset(names)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    out: list[type[BaseModel]] = []
    todo = [annotation]
    while todo:
        a = todo.pop()
        if isinstance(a, type) and issubclass(a, BaseModel):
            out.append(a)
        todo.extend(getattr(a, "__args__", ()))
        origin = getattr(a, "__origin__", None)
        if origin is not None:
            todo.append(origin)
    return out


def identity(doc: dict[str, Any]) -> tuple[str | None, int | None]:
    """Best-effort claim id and version of an object that is not a valid claim, for keying
    and review: only values that are valid as such."""
    try:
        claim_id: str | None = _identifier.validate_python(doc.get("claim_id"))
    except ValidationError:
        claim_id = None
    version = doc.get("claim_version")
    if isinstance(version, bool) or not isinstance(version, int):
        return claim_id, None
    return claim_id, version if 1 <= version <= MAX_CLAIM_VERSION else None


def identity_of(value: bytes) -> tuple[str | None, int | None]:
    """``identity`` of raw bytes; (None, None) for anything that is not a JSON object."""
    try:
        doc = jiter.from_json(value, cache_mode="keys")
    except ValueError:
        return None, None
    return identity(doc) if isinstance(doc, dict) else (None, None)
