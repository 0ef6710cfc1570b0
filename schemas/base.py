"""What every wire message shares: strictness, immutability, identifier shapes and the
plausible ranges of free text, dates and versions."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Annotated, Any, Literal, Self, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticUndefined

SCHEMA_VERSION: Literal["1"] = "1"

M = TypeVar("M", bound=BaseModel)


class WireModel(BaseModel):
    """Base of every message: unknown fields are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    @classmethod
    def trusted(cls, **values: Any) -> Self:
        """An instance of values the engine assembled from parts already validated (codes from
        the pack, identifiers from the validated claim), without validating them again.

        Serialises and compares exactly as the validated instance would, provided every value
        is given as the type validation would have made it (a ``Decimal``, a tuple). Validating
        a computed line or a finding cost as much as deciding it in several rules did
        (docs/performance.md), so the engine's hot outputs use this; input never does.
        """
        template, required = _TEMPLATES.get(cls) or _template(cls)
        # In field order, as validation would have stored them; C-level checks only.
        fields = {**template, **values}
        if len(fields) != len(template) or not values.keys() >= required:
            raise TypeError(f"{cls.__name__}: unknown or missing fields")
        return assembled(cls, fields, set(values))


_new = object.__new__
_set = object.__setattr__


def assembled(cls: type[M], fields: dict[str, Any], fields_set: set[str] | None = None) -> M:
    """An instance of ``cls`` holding ``fields`` (every field, in declared order), made as
    pydantic's validation makes one, without validating: the same four attributes that
    ``model_construct`` sets, without its per-field loop. ``fields_set``: the fields given
    (default: all). For values already valid (``WireModel.trusted``, ``rules.outputs``)."""
    made: M = _new(cls)
    _set(made, "__dict__", fields)
    _set(made, "__pydantic_fields_set__", set(fields) if fields_set is None else fields_set)
    _set(made, "__pydantic_extra__", None)
    _set(made, "__pydantic_private__", None)
    return made


_REQUIRED = object()  # in a template: a field without a default
# Per model: every field in order with its default (or _REQUIRED), and the required names.
_TEMPLATES: dict[type[BaseModel], tuple[dict[str, Any], frozenset[str]]] = {}


def _template(cls: type[BaseModel]) -> tuple[dict[str, Any], frozenset[str]]:
    """Every field of a model in order, with its default or ``_REQUIRED``; and the names
    of the fields without a default."""
    template: dict[str, Any] = {}
    for name, info in cls.__pydantic_fields__.items():
        if info.default_factory is not None:
            raise TypeError(f"{cls.__name__}.{name}: a default factory is not supported")
        template[name] = _REQUIRED if info.default is PydanticUndefined else info.default
    spec = (template, frozenset(k for k, v in template.items() if v is _REQUIRED))
    _TEMPLATES[cls] = spec
    return spec


# Identifiers are opaque tokens chosen by the billing platform. The character set
# keeps them safe to log (they are not patient identifiers) and to use as keys.
Identifier = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
]
HcpcsCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][0-9]{3}[A-Z0-9]$")]
Modifier = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{2}$")]
Icd10Code = Annotated[str, StringConstraints(pattern=r"^[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?$")]

# Characters no person typed into a claim: C0 and C1 controls (NUL among them) and the
# Unicode bidirectional formatting characters, which reorder what a reviewer sees
# ("Trojan Source"). Free text may still hold tab, line feed and carriage return.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_TEXT_FORBIDDEN = f"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}"
_CODE_FORBIDDEN = f"\x00-\x1f\x7f-\x9f{_BIDI}"
_TEXT_BAD = re.compile(f"[{_TEXT_FORBIDDEN}]")
_CODE_BAD = re.compile(f"[{_CODE_FORBIDDEN}]")


def _escaped(chars: str) -> str:
    """A character class as an ECMA-262 pattern with \\uXXXX escapes (published schemas)."""
    return "".join(c if c == "-" else f"\\u{ord(c):04x}" for c in chars)


SHORT_TEXT_MAX = 500


def is_short_text(value: str) -> bool:
    """Whether ``value`` is valid ShortText (1 to SHORT_TEXT_MAX characters, no control or
    bidirectional formatting character), for text assembled where validation is skipped
    (``WireModel.trusted``): rule packs may bring their own text."""
    return 0 < len(value) <= SHORT_TEXT_MAX and _clean(value, _TEXT_BAD)


# Printable ASCII holds no forbidden character of either kind (they are controls, DEL, C1
# controls and bidirectional formatting), and most text is that: two C calls instead of a
# regex search (the searches were ~2 % of what a pool process spends on a claim;
# docs/performance.md).
def _clean(value: str, bad: re.Pattern[str]) -> bool:
    return (value.isascii() and value.isprintable()) or not bad.search(value)


def _free_text(value: str) -> str:
    if not _clean(value, _TEXT_BAD):
        raise ValueError("text holds a control or bidirectional formatting character")
    return value


def _code_text(value: str) -> str:
    if not _clean(value, _CODE_BAD):
        raise ValueError("a code holds a control or bidirectional formatting character")
    return value


ShortText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=SHORT_TEXT_MAX),
    AfterValidator(_free_text),
    Field(json_schema_extra={"pattern": f"^[^{_escaped(_TEXT_FORBIDDEN)}]*$"}),
]
# A short code in free form (a dose unit): printable characters only, no line breaks.
CodeText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=16),
    AfterValidator(_code_text),
    Field(json_schema_extra={"pattern": f"^[^{_escaped(_CODE_FORBIDDEN)}]*$"}),
]

# Dates a claim can plausibly carry: year 1 or 9999 is a typo or an attack, never a
# date of service. The range is wide enough for any claim a platform can still bill.
EARLIEST = date(1990, 1, 1)
LATEST = date(2099, 12, 31)
MAX_CLAIM_VERSION = 9_999  # resubmissions of one claim; a 60-digit version is not one


def _plausible_instant(value: datetime) -> datetime:
    if not EARLIEST <= value.date() <= LATEST:
        raise ValueError(f"the time lies outside {EARLIEST.year}-{LATEST.year}")
    offset = value.utcoffset()
    if offset is None:  # not for an AwareDatetime; typed so
        return value
    # One shared tzinfo per offset: two times with the same tzinfo object compare and
    # subtract field by field, while pydantic's own tzinfo (one per parsed time) makes
    # CPython call utcoffset() on both sides of every comparison the engine makes (a tenth
    # of deciding a claim; docs/performance.md). The instant and its offset are unchanged.
    zone = _ZONES.get(offset)
    if zone is None:
        zone = timezone(offset)
        if len(_ZONES) < 1_000:  # real offsets are a few dozen; input cannot grow it further
            _ZONES[offset] = zone
    if value.fold:  # never from JSON; the constructor below would drop it
        return value.replace(tzinfo=zone)
    # The same time built by position: replace(tzinfo=...) matches its keyword against
    # every name it takes, each made a str first (~4,500 instructions; this ~1,500).
    return datetime(
        value.year, value.month, value.day, value.hour, value.minute, value.second,
        value.microsecond, zone,
    )  # fmt: skip


_ZONES: dict[timedelta, timezone] = {timedelta(0): UTC}


# formatMinimum/formatMaximum: the bounds as JSON Schema validators (ajv's keywords) read them.
_RANGE = {"formatMinimum": EARLIEST.isoformat(), "formatMaximum": LATEST.isoformat()}
PlausibleDate = Annotated[date, Field(ge=EARLIEST, le=LATEST, json_schema_extra=_RANGE)]
PlausibleInstant = Annotated[AwareDatetime, AfterValidator(_plausible_instant)]
ClaimVersion = Annotated[int, Field(ge=1, le=MAX_CLAIM_VERSION)]
