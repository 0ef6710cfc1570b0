"""The CMS and payer tables of a rule pack: parsing (text in, tables out) and dated look-ups.

Every row carries the dates it is in force, so a claim is checked with the rows of its
date of service. CMS files are read in the layout CMS publishes (or the I/OCE extract the
pack ships), so a billing team can drop in the current quarter's file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

OPEN_END = date(9999, 12, 31)


def csv_rows(text: str) -> Iterator[dict[str, str]]:
    yield from csv.DictReader(io.StringIO(text))


def parse_day(value: str) -> date:
    value = value.strip()
    if not value or value == "*":
        return OPEN_END
    if len(value) == 8 and value.isdigit():  # CMS files write YYYYMMDD
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    return date.fromisoformat(value)


Span = tuple[date, date]


def _in(span: Span, on: date) -> bool:
    return span[0] <= on <= span[1]


# -- NCCI procedure-to-procedure edits --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PtpEdit:
    column1: str  # payable
    column2: str  # not payable beside column1 on the same date
    modifier_indicator: str  # "0" never bypassed, "1" an NCCI-bypass modifier allows both


@dataclass(frozen=True)
class PtpTable:
    edits: dict[tuple[str, str], tuple[tuple[Span, str], ...]]
    # code -> every code it has an edit with, either column: most pairs on a claim have none,
    # so the hot path intersects sets instead of looking up every pair.
    partners: dict[str, frozenset[str]] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.edits and not self.partners:
            index: dict[str, set[str]] = {}
            for c1, c2 in self.edits:
                index.setdefault(c1, set()).add(c2)
                index.setdefault(c2, set()).add(c1)
            object.__setattr__(self, "partners", {k: frozenset(v) for k, v in index.items()})

    def __len__(self) -> int:
        return len(self.edits)

    def edit(self, a: str, b: str, on: date) -> PtpEdit | None:
        for c1, c2 in ((a, b), (b, a)):
            for span, indicator in self.edits.get((c1, c2), ()):
                if _in(span, on) and indicator != "9":
                    return PtpEdit(c1, c2, indicator)
        return None


def _header_index(lines: list[list[str]], first_cell: tuple[str, ...]) -> int:
    """Row index of the header in a CMS file, after its copyright preamble."""
    for i, row in enumerate(lines):
        if row and row[0].strip().strip('"').lower().replace(" ", "") in first_cell:
            return i
    raise ValueError(f"no header row starting with one of {first_cell}")


def _table(text: str) -> list[list[str]]:
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = "\t" if "\t" in text[: max(len(first), 4096)] else ","
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def parse_ptp(text: str) -> PtpTable:
    """The pack's extract (column1,column2,modifier_indicator,effective_from,effective_through)
    or a CMS practitioner / hospital PTP file (Column 1, Column 2, *, Effective Date,
    Deletion Date, Modifier, Rationale), tab- or comma-separated."""
    rows = _table(text)
    edits: dict[tuple[str, str], list[tuple[Span, str]]] = {}
    if not rows:
        return PtpTable({})
    head = _header_index(rows, ("column1",))
    names = [c.strip().lower().replace(" ", "") for c in rows[head]]
    if "modifier_indicator" in names:
        c1, c2, mod, start, end = (
            names.index(n)
            for n in ("column1", "column2", "modifier_indicator", "effective_from",
                      "effective_through")
        )  # fmt: skip
    else:  # CMS layout: positional, the header cells carry explanations
        c1, c2, start, end, mod = 0, 1, 3, 4, 5
    for row in rows[head + 1 :]:
        # CMS files may repeat header text on a second row: only rows starting with a code count
        if len(row) <= max(c1, c2, mod, start, end) or not row[c1].strip()[:1].isalnum():
            continue
        code1, code2 = row[c1].strip(), row[c2].strip()
        if code1.lower() == "column":
            continue
        span = (parse_day(row[start]), parse_day(row[end]))
        edits.setdefault((code1, code2), []).append((span, row[mod].strip()))
    return PtpTable({k: tuple(sorted(v)) for k, v in edits.items()})


# -- Medically unlikely edits --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mue:
    code: str
    value: int
    adjudication: int  # 1 line edit, 2 date of service (policy), 3 date of service (clinical)
    rationale: str


def parse_mue(text: str) -> dict[str, Mue]:
    """A CMS MUE file (practitioner, outpatient hospital or DME) in its published CSV layout:
    copyright preamble, then ``HCPCS/CPT Code, ... MUE Values, MUE Adjudication Indicator,
    MUE Rationale``."""
    rows = _table(text)
    head = _header_index(rows, ("hcpcs/cptcode", "hcpcs/cpt"))
    out: dict[str, Mue] = {}
    for row in rows[head + 1 :]:
        if len(row) < 3 or not row[0].strip() or not row[1].strip().isdigit():
            continue
        mai = row[2].strip()[:1]
        out[row[0].strip()] = Mue(
            code=row[0].strip(),
            value=int(row[1]),
            adjudication=int(mai) if mai in ("1", "2", "3") else 1,
            rationale=row[3].strip() if len(row) > 3 else "",
        )
    return out


# -- Dated code lists -----------------------------------------------------------------------


@dataclass(frozen=True)
class HcpcsQuarters:
    """Which codes the CMS HCPCS table carries in each quarter, with the OPPS status."""

    rows: dict[str, tuple[tuple[Span, str], ...]]

    def known(self, code: str) -> bool:
        return code in self.rows

    def status(self, code: str, on: date) -> str | None:
        """The status indicator on ``on``; None when the code is not in force that quarter."""
        for (first, last), si in self.rows.get(code, ()):
            if first <= on <= last:
                return si
        return None


def parse_hcpcs_quarters(text: str) -> HcpcsQuarters:
    rows: dict[str, list[tuple[Span, str]]] = {}
    for r in csv_rows(text):
        span = (parse_day(r["effective_from"]), parse_day(r["effective_through"]))
        rows.setdefault(r["hcpcs"], []).append((span, r["status_indicator"]))
    return HcpcsQuarters({k: tuple(sorted(v)) for k, v in rows.items()})


@dataclass(frozen=True)
class DatedPairs:
    """(key, value) rows in force by date: IMRT conflicts, add-on maps, bypass modifiers."""

    rows: dict[str, tuple[tuple[Span, str], ...]]

    def values(self, key: str, on: date) -> frozenset[str]:
        return frozenset(v for span, v in self.rows.get(key, ()) if _in(span, on))

    def keys(self) -> frozenset[str]:
        return frozenset(self.rows)


def parse_dated_pairs(
    text: str, key: str | None, value: str, where: dict[str, str] | None = None
) -> DatedPairs:
    """Rows keyed by the ``key`` column (all under "*" when None: a dated set of values)."""
    rows: dict[str, list[tuple[Span, str]]] = {}
    for r in csv_rows(text):
        if where and any(r[k] not in v.split("|") for k, v in where.items()):
            continue
        span = (parse_day(r["effective_from"]), parse_day(r["effective_through"]))
        rows.setdefault(r[key] if key else "*", []).append((span, r[value]))
    return DatedPairs({k: tuple(v) for k, v in rows.items()})


def parse_g_code_map(text: str) -> dict[str, frozenset[str]]:
    """Freestanding G-code -> the hospital CPT codes it stands for (spec 7.4)."""
    return {r["g_code"]: frozenset(r["hospital_codes"].split("|")) for r in csv_rows(text)}


# -- ICD-10-CM -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Icd10Set:
    billable: dict[str, bool]  # dotted code -> is a leaf (billable)
    unacceptable_pdx: dict[str, bool]  # code -> an I/OCE exclusion may make it acceptable

    @staticmethod
    def dotted(code: str) -> str:
        code = code.upper()
        return code if "." in code or len(code) <= 3 else f"{code[:3]}.{code[3:]}"


def parse_icd10(codes_text: str, pdx_text: str) -> Icd10Set:
    billable = {r["code"]: r["billable"] == "1" for r in csv_rows(codes_text)}
    pdx = {r["code"]: r["exclusion"] == "1" for r in csv_rows(pdx_text)}
    return Icd10Set(billable, pdx)


# -- The pack's releases -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Release:
    """One data release in the pack (an I/OCE quarter, an ICD-10-CM release) and the dates it
    covers; a date of service outside them is decided with it anyway, visibly (PACK-Q1)."""

    release: str
    files: tuple[str, ...]
    description: str
    url: str
    covers_from: date | None
    covers_through: date | None

    def covers(self, on: date) -> bool:
        if self.covers_from is None or self.covers_through is None:
            return True
        return self.covers_from <= on <= self.covers_through


def parse_releases(text: str) -> tuple[Release, ...]:
    return tuple(
        Release(
            release=r["release"],
            files=tuple(r["files"].split()),
            description=r["description"],
            url=r["url"],
            covers_from=date.fromisoformat(r["covers_from"]) if r["covers_from"] else None,
            covers_through=date.fromisoformat(r["covers_through"]) if r["covers_through"] else None,
        )
        for r in csv_rows(text)
    )


# -- Add-on code maps ----------------------------------------------------------------------


def parse_addon_map(
    text: str, on: date | None = None, table: str | None = None
) -> dict[str, frozenset[str]]:
    """Add-on code -> allowed primary codes (rows of ``table`` in force on ``on``; all if None)."""
    allowed: dict[str, set[str]] = {}
    for row in csv_rows(text):
        if table is not None and row["table"] != table:
            continue
        if on is not None and not (
            date.fromisoformat(row["effective_from"])
            <= on
            <= date.fromisoformat(row["effective_through"])
        ):
            continue
        allowed.setdefault(row["addon"], set()).add(row["primary"])
    return {k: frozenset(v) for k, v in allowed.items()}
