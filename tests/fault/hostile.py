"""Hostile inputs, deterministic in a seed: random bytes, deep nesting, boundary sizes, and
valid claims mutated where the published JSON Schema draws a line (types, lengths,
patterns, bounds, enums, formats, required and unknown fields, duplicate keys), with
patient-like marker strings seeded where a careless log line would pick them up."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from schemas.examples import example_claim

SCHEMA: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "schemas/json/submitted-claim.v1.json").read_text()
)

# Patient-like strings: none may ever reach a log line. An SSN-shaped and an MRN-shaped
# claim id are valid identifiers, so they travel all the way to a decision.
MARKERS = ("078-05-1120", "MRN-00912345", "Zelda Markerson", "PATIENT-MARKER-7731")


@dataclass(frozen=True)
class Hostile:
    kind: str
    value: bytes
    key: bytes | None = None
    headers: tuple[tuple[str, bytes], ...] = ()


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SCHEMA["$defs"][schema["$ref"].rsplit("/", 1)[1]]
    if "anyOf" in schema:
        branches = [b for b in schema["anyOf"] if b.get("type") != "null"]
        return _resolve(branches[0])
    return schema


def _places(value: Any, schema: dict[str, Any], path: tuple[Any, ...] = ()) -> Iterator[Any]:
    """(path, schema) of every value in a claim, containers included."""
    schema = _resolve(schema)
    yield path, schema
    if isinstance(value, dict):
        for name, child in value.items():
            sub = schema.get("properties", {}).get(name)
            if sub is not None:
                yield from _places(child, sub, (*path, name))
    elif isinstance(value, list):
        items = schema.get("items", {})
        for i, child in enumerate(value):
            yield from _places(child, items, (*path, i))


def _wrong_values(schema: dict[str, Any], rnd: random.Random) -> list[Any]:
    kind = schema.get("type")
    out: list[Any] = [None, [], {}, True, "", 10**60, -1, 1.5, "x" * 5000]
    if kind == "string":
        length = schema.get("maxLength", 64)
        out += ["a" * (length + 1), "a" * length, "\x00", "a\u202eb", "a\u2066b", "\ud800",
                "line\nbreak", MARKERS[rnd.randrange(len(MARKERS))]]  # fmt: skip
        if schema.get("format") == "date":
            out += ["0001-01-01", "9999-12-31", "2026-02-30", "1989-12-31", "2100-01-01"]
        if schema.get("format") == "date-time":
            out += ["9999-01-01T00:00:00Z", "2026-01-01T00:00:00", "0001-01-01T00:00:00+00:00",
                    "2026-01-01T25:00:00Z", "2026-01-01T00:00:00+25:00"]  # fmt: skip
    if kind in ("integer", "number"):
        for bound in ("maximum", "minimum", "exclusiveMinimum"):
            if bound in schema:
                out += [schema[bound], schema[bound] + 1, schema[bound] - 1]
        out += [2**63, -(2**63), "7", 1e308]
    if "enum" in schema:
        out += ["NOT-AN-ENUM", schema["enum"][0].lower()]
    if kind == "array":
        out += [[None] * (schema.get("maxItems", 4) + 1), "not-a-list"]
    return out


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    for step in path[:-1]:
        doc = doc[step]
    doc[path[-1]] = value


@cache
def _base(n: int) -> tuple[str, tuple[tuple[tuple[Any, ...], dict[str, Any]], ...]]:
    claim = example_claim(n)
    return json.dumps(claim), tuple(p for p in _places(claim, SCHEMA) if p[0])


def mutated_claim(n: int, rnd: random.Random) -> Hostile:
    text, places = _base(n % 300)
    claim = json.loads(text)
    claim["patient_ref"] = rnd.choice(("MRN-00912345", claim["patient_ref"]))
    if rnd.random() < 0.2:
        claim["claim_id"] = rnd.choice(MARKERS[:2])
    for _ in range(rnd.randint(1, 3)):
        path, schema = rnd.choice(places)
        action = rnd.random()
        try:
            if action < 0.75:
                _set(claim, path, rnd.choice(_wrong_values(schema, rnd)))
            elif action < 0.85:
                parent: Any = claim
                for step in path[:-1]:
                    parent = parent[step]
                if isinstance(parent, dict):
                    parent.pop(path[-1], None)
            else:
                _set(claim, (*path[:-1], MARKERS[2]), "unexpected")
        except (KeyError, IndexError, TypeError):
            continue
    text = json.dumps(claim, ensure_ascii=rnd.random() < 0.5)
    if rnd.random() < 0.1:  # a duplicate key, which a last-wins parser would hide
        text = text[:-1] + ', "patient_ref": "PATIENT-MARKER-7731"}'
    return Hostile("mutated", text.encode("utf-8", "surrogatepass"))


def random_bytes(rnd: random.Random) -> Hostile:
    size = rnd.choice((0, 1, 2, 7, 64, 1000, 4000))
    data = rnd.randbytes(size)
    if rnd.random() < 0.3:
        data = b'{"claim_id": "078-05-1120", ' + data
    return Hostile("random", data)


def deep(rnd: random.Random) -> Hostile:
    depth = rnd.choice((150, 199, 201, 202, 250, 1_000, 10_000))
    if rnd.random() < 0.02:
        depth = 150_000  # near the size limit
    opener, closer = rnd.choice(((b"[", b"]"), (b'{"a":', b"}")))
    middle = b"1" if opener == b'{"a":' else b""
    value = opener * depth + middle + closer * depth
    if rnd.random() < 0.5:
        value = b'{"claim_id": "PATIENT-MARKER-7731", "x": ' + value + b"}"
    return Hostile("deep", value)


def _padded(size: int) -> bytes:
    """A JSON object that is not a claim, of exactly ``size`` bytes."""
    head = b'{"claim_id": "MRN-00912345", "pad": "'
    return head + b"x" * (size - len(head) - 2) + b'"}'


def boundary(limit: int) -> list[Hostile]:
    """Inputs at the worker's claim size limit and either side of it."""
    valid = json.dumps(example_claim(999)).encode()
    return [
        Hostile("boundary", valid[:-1] + b" " * (limit - len(valid)) + b"}"),  # valid, exactly
        Hostile("boundary", _padded(limit)),  # invalid at exactly the limit: review carries it
        Hostile("boundary", _padded(limit + 1)),  # one byte over: dead-lettered whole
        Hostile("boundary", b"{" * limit),
    ]


def with_hostile_envelope(item: Hostile, rnd: random.Random) -> Hostile:
    """Bad keys and headers: the worker ignores headers and bounds what it keys by."""
    key = item.key
    headers: list[tuple[str, bytes]] = []
    if rnd.random() < 0.1:
        key = rnd.choice((b"\xff\xfe", MARKERS[0].encode(), b"k" * 100_000, b""))
    if rnd.random() < 0.2:
        headers = [
            ("x-reason", b"forged"),
            ("x-reason", b"twice"),
            ("\u202ebidi", rnd.randbytes(16)),
            ("patient", MARKERS[3].encode()),
            ("big", b"h" * rnd.choice((10, 50_000))),
        ]
    return Hostile(item.kind, item.value, key, tuple(headers))


def hostile_inputs(count: int, limit: int, seed: int = 11) -> list[Hostile]:
    rnd = random.Random(seed)
    out = boundary(limit)
    while len(out) < count:
        roll = rnd.random()
        if roll < 0.15:
            item = random_bytes(rnd)
        elif roll < 0.25:
            item = deep(rnd)
        else:
            item = mutated_claim(len(out), rnd)
        out.append(with_hostile_envelope(item, rnd))
    return out
