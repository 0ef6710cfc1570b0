"""An ASC X12 5010 interchange's envelopes, read and checked: ISA/IEA, GS/GE, ST/SE.

x12sdk models a transaction set from ST to SE and skips the envelopes without looking
at them (a truncated interchange reads as no claims at all), so the envelopes are read
here: delimiters from the fixed-width ISA, then every control number and count. Problems
are reported by position ("segment 17 (SE) SE01"), never with the values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from x12sdk.v5010.segments import SEGMENT_LOOKUP

from worker.ingest.reasons import IngestError, LocatedReason

ISA_LENGTH = 106
# ISA element widths (ISA01..ISA16), fixed by the standard.
_ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
VERSION_5010 = "00501"
# Segment ids of the X12 5010 dictionary: only these are echoed in a location. Anything
# else in id position may be data (a name cut by a stray terminator).
X12_SEGMENT_IDS = frozenset(SEGMENT_LOOKUP)


class X12EnvelopeError(IngestError):
    """The interchange fails an envelope or syntax check: it is dead-lettered whole."""


@dataclass(frozen=True, slots=True)
class Delimiters:
    element: str
    repetition: str
    component: str
    segment: str


@dataclass(frozen=True, slots=True)
class Segment:
    position: int  # 1-based, in the interchange
    elements: tuple[str, ...]  # elements[0] is the segment id

    @property
    def id(self) -> str:
        return self.elements[0]

    def get(self, n: int) -> str:
        """Element ``n`` (1-based, as XXnn in the guides), empty when absent."""
        return self.elements[n] if n < len(self.elements) else ""

    def where(self, n: int | None = None) -> str:
        if self.id not in X12_SEGMENT_IDS:
            return f"segment {self.position}"
        element = f" {self.id}{n:02d}" if n is not None else ""
        return f"segment {self.position} ({self.id}){element}"


@dataclass(frozen=True, slots=True)
class Transaction:
    st: Segment
    body: tuple[Segment, ...]  # between ST and SE
    se: Segment
    version: str  # the implementation guide (GS08, or ST03 when present)

    @property
    def control_number(self) -> str:
        return self.st.get(2)


@dataclass(frozen=True, slots=True)
class Group:
    gs: Segment
    transactions: tuple[Transaction, ...]


@dataclass(frozen=True, slots=True)
class Interchange:
    delimiters: Delimiters
    isa: Segment
    groups: tuple[Group, ...]

    @property
    def transactions(self) -> tuple[Transaction, ...]:
        return tuple(t for g in self.groups for t in g.transactions)


def _text(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise X12EnvelopeError(
            "not an X12 interchange",
            [LocatedReason("<interchange>", "the bytes are not UTF-8 (X12 character set) text")],
        ) from None


def _delimiters(text: str) -> Delimiters:
    if len(text) < ISA_LENGTH or not text.startswith("ISA"):
        raise X12EnvelopeError(
            "not an X12 interchange",
            [
                LocatedReason(
                    "segment 1 (ISA)",
                    f"an interchange starts with a {ISA_LENGTH}-character ISA segment",
                )
            ],
        )
    element = text[3]
    fields = text[:ISA_LENGTH].split(element)
    if len(fields) != 17:
        raise X12EnvelopeError(
            "ISA is malformed",
            [LocatedReason("segment 1 (ISA)", "ISA does not have 16 elements of fixed width")],
        )
    return Delimiters(
        element=element,
        repetition=fields[11],
        component=fields[16][0],
        segment=text[ISA_LENGTH - 1],
    )


def tokenize(text: str, d: Delimiters) -> list[Segment]:
    out: list[Segment] = []
    for n, raw in enumerate(text.split(d.segment), start=1):
        raw = raw.strip("\r\n")  # line breaks between segments are common and not data
        if not raw and n > 1:
            continue
        out.append(Segment(len(out) + 1, tuple(raw.split(d.element))))
    return out


def _isa_reasons(isa: Segment) -> list[LocatedReason]:
    reasons = []
    for n, width in enumerate(_ISA_WIDTHS, start=1):
        if len(isa.get(n)) != width:
            reasons.append(LocatedReason(isa.where(n), f"ISA{n:02d} must be {width} characters"))
    if isa.get(12) != VERSION_5010:
        reasons.append(
            LocatedReason(
                isa.where(12),
                "wrong version: the interchange control "
                f"version is not {VERSION_5010} (ASC X12 5010)",
            )
        )
    if not isa.get(13).isdigit():
        reasons.append(
            LocatedReason(isa.where(13), "the interchange control number is not 9 digits")
        )
    return reasons


def _same_number(a: str, b: str) -> bool:
    """Control numbers compare as numbers: ``1`` and ``000000001`` are the same."""
    return a == b or (a.isdigit() and b.isdigit() and int(a) == int(b))


class _Reader:
    def __init__(
        self, segments: list[Segment], versions: Callable[[str], frozenset[str] | None]
    ) -> None:
        self.segments = segments
        self.versions = versions  # implementation guide -> its segment ids (None: unsupported)
        self.i = 1  # past ISA
        self.reasons: list[LocatedReason] = []

    def problem(self, location: str, message: str) -> None:
        self.reasons.append(LocatedReason(location, message))

    def peek(self) -> Segment | None:
        return self.segments[self.i] if self.i < len(self.segments) else None

    def end(self) -> str:
        return f"segment {len(self.segments) + 1} (end of the interchange)"

    def group(self, gs: Segment) -> Group:
        version = gs.get(8)
        known = self.versions(version)
        if gs.get(1) != "HC":
            self.problem(gs.where(1), "GS01 is not HC (health care claim)")
        if known is None:
            self.problem(
                gs.where(8),
                "wrong version: GS08 is not an 837 5010 implementation "
                "guide this reader supports (005010X222A1 professional, "
                "005010X223A2 institutional and their errata)",
            )
        transactions = []
        while (seg := self.peek()) is not None and seg.id == "ST":
            self.i += 1
            transactions.append(self.transaction(seg, version, known))
        ge = self.peek()
        if ge is None or ge.id != "GE":
            self.problem(
                ge.where() if ge else self.end(), "GE expected: the functional group is not closed"
            )
            return Group(gs, tuple(transactions))
        self.i += 1
        if ge.get(1) != str(len(transactions)):
            self.problem(ge.where(1), "GE01 does not equal the number of transaction sets")
        if not _same_number(ge.get(2), gs.get(6)):
            self.problem(ge.where(2), "GE02 does not match GS06")
        return Group(gs, tuple(transactions))

    def transaction(self, st: Segment, version: str, known: frozenset[str] | None) -> Transaction:
        if st.get(1) != "837":
            self.problem(st.where(1), "ST01 is not 837 (health care claim)")
        if st.get(3) and st.get(3) != version:
            self.problem(st.where(3), "ST03 does not match GS08")
        body = []
        while (seg := self.peek()) is not None and seg.id not in ("SE", "ST", "GE", "GS", "IEA"):
            self.i += 1
            if known is not None and seg.id not in known:
                self.problem(
                    f"segment {seg.position}",
                    "unknown segment: its id is not a segment of the 837 implementation guide",
                )
            body.append(seg)
        se = self.peek()
        if se is None or se.id != "SE":
            where = se.where() if se else self.end()
            self.problem(where, "SE expected: the transaction set is not closed")
            return Transaction(st, tuple(body), Segment(0, ("SE",)), version)
        self.i += 1
        if se.get(1) != str(len(body) + 2):
            self.problem(se.where(1), "SE01 does not equal the number of segments from ST to SE")
        if se.get(2) != st.get(2):
            self.problem(se.where(2), "SE02 does not match ST02")
        return Transaction(st, tuple(body), se, version)


def read_interchange(
    data: bytes | str, versions: Callable[[str], frozenset[str] | None]
) -> Interchange:
    """The interchange's envelopes, checked; raises ``X12EnvelopeError`` with every problem.

    ``versions`` names, for an implementation guide (GS08), the segment ids its
    transaction sets may hold, or None if the guide is not supported.
    """
    text = _text(data).lstrip("\ufeff \r\n\t")
    d = _delimiters(text)
    segments = tokenize(text, d)
    isa = segments[0]
    reader = _Reader(segments, versions)
    reader.reasons.extend(_isa_reasons(isa))
    groups = []
    while (seg := reader.peek()) is not None and seg.id == "GS":
        reader.i += 1
        groups.append(reader.group(seg))
    iea = reader.peek()
    if iea is None or iea.id != "IEA":
        reader.problem(
            iea.where() if iea else reader.end(),
            "IEA expected: the interchange is "
            "not closed (truncated, or a segment outside its envelope)",
        )
    else:
        reader.i += 1
        if iea.get(1) != str(len(groups)):
            reader.problem(iea.where(1), "IEA01 does not equal the number of functional groups")
        if iea.get(2) != isa.get(13):
            reader.problem(iea.where(2), "IEA02 does not match ISA13")
        if reader.i < len(segments):
            reader.problem(segments[reader.i].where(), "data after IEA")
    if not groups:
        reader.problem("segment 2", "the interchange holds no functional group (GS)")
    elif not any(g.transactions for g in groups):
        reader.problem(groups[0].gs.where(), "the interchange holds no transaction set (ST)")
    if reader.reasons:
        raise X12EnvelopeError("the interchange fails its envelope checks", reader.reasons)
    return Interchange(d, isa, tuple(groups))
