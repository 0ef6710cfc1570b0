"""837 out: the corrected claim for the clearinghouse, and where each finding points.

``corrected_837`` writes a decided claim back as a one-claim interchange, from the
segments it arrived in (``ClaimSource``), so everything the v1 claim does not hold
(provider, subscriber, payer, addresses, references) travels unchanged:

* lines a correction removes are left out; when the claim carries a MAR, the submitted
  drug-administration lines (96360-96549, C8957, G0498) are replaced by the computed
  ones, as the engine judged them (``rules.claim_view``);
* a resequencing rewrites the diagnosis composites (HI, ABK then ABF) in the new order
  and remaps every SV107 pointer to it;
* computed administration lines are added after the kept lines; the lines are numbered
  again from 1 (LX01), CLM02 is the sum of the line charges, SE01 counts the segments and
  ISA13/GS06 carry the caller's control number.

The submitter's delimiters are kept and untouched segments are copied element for
element. x12sdk's writer is not used: it re-serialises every segment from its model and
writes only its default delimiters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from rules.codegroups import DRUG_ADMIN
from schemas.claim import ClaimType, ServiceLine, SubmittedClaim
from schemas.decision import ComputedLine, Correction, CorrectionAction, Finding
from worker.ingest.x12 import dotted
from worker.ingest.x12_envelope import Segment
from worker.ingest.x12_split import ClaimSource

MAX_LINES = 50  # loop 2400 repeats at most 50 times in both guides
MAX_POINTERS = 4

# Default revenue codes (NUBC UB-04 categories) for computed lines on an 837I: 026X IV
# therapy, 033X chemotherapy administration (1 injected, 5 IV, 9 other). A facility's
# chargemaster decides in the end: pass ``revenue_code``.
_REVENUE = (
    (("96401", "96406"), "0331"),
    (("96409", "96425"), "0335"),
    (("96440", "96450"), "0339"),
    (("96521", "96522"), "0335"),
    (("96542", "96549"), "0339"),
)


class X12WriteError(ValueError):
    """The decided claim cannot be written as one 837 claim (says why, never a value)."""


@dataclass(frozen=True, slots=True)
class OutEnvelope:
    """What the caller decides about the interchange written: its control number (ISA13,
    GS06) and its creation time (ISA09/10, GS04/05; passed in so writing stays pure)."""

    control_number: int
    created: datetime

    def __post_init__(self) -> None:
        if not 1 <= self.control_number <= 999_999_999:
            raise ValueError("an interchange control number has 1 to 9 digits")


@dataclass(frozen=True, slots=True)
class X12Location:
    """Where in the 837 a finding points: loop, segment id, segment position, element."""

    loop: str
    segment: str
    position: int | None  # in the interchange as received; None: not in the 837
    element: str | None = None

    def __str__(self) -> str:
        where = f"loop {self.loop} {self.segment}"
        if self.position is not None:
            where += f" (segment {self.position})"
        return f"{where} {self.element}" if self.element else where


def default_revenue_code(code: str) -> str:
    for (low, high), revenue in _REVENUE:
        if low <= code <= high and code.isdigit():
            return revenue
    if code == "G0498":
        return "0335"
    return "0260"


def _removed(corrections: Sequence[Correction]) -> set[int]:
    return {
        n for c in corrections if c.action is CorrectionAction.REMOVE_LINE for n in c.line_numbers
    }


def _new_diagnoses(claim: SubmittedClaim, corrections: Sequence[Correction]) -> tuple[str, ...]:
    order = claim.diagnoses
    for c in corrections:
        if c.action is CorrectionAction.RESEQUENCE_DIAGNOSES and c.diagnoses:
            order = c.diagnoses
    return tuple(dotted(d) for d in order)


def _superseded(claim: SubmittedClaim, line: ServiceLine) -> bool:
    """A submitted drug-administration line the MAR's computed codes replace."""
    return bool(claim.administrations) and line.code in DRUG_ADMIN


def _kept(claim: SubmittedClaim, corrections: Sequence[Correction]) -> list[ServiceLine]:
    gone = _removed(corrections)
    return [
        x for x in claim.service_lines if x.line_number not in gone and not _superseded(claim, x)
    ]


def _remap(pointers: Sequence[int], old: Sequence[str], new: Sequence[str]) -> tuple[int, ...]:
    """SV107 pointers into ``old`` diagnoses -> pointers into ``new`` (both dotted)."""
    out = []
    for p in pointers:
        if 1 <= p <= len(old) and old[p - 1] in new:
            n = new.index(old[p - 1]) + 1
            if n not in out:
                out.append(n)
    return tuple(out[:MAX_POINTERS]) or (1,)


def _computed_pointers(claim: SubmittedClaim, line: ComputedLine) -> tuple[int, ...]:
    """The pointers of the drug lines given in the administrations the code comes from."""
    drugs = {a.drug.hcpcs for a in claim.administrations if a.admin_id in line.admin_ids}
    out: list[int] = []
    for x in claim.service_lines:
        if x.code in drugs and x.date_of_service.isoformat() == line.date_of_service:
            out += [p for p in x.diagnosis_pointers if p not in out]
    return tuple(out[:MAX_POINTERS]) or (1,)


def corrected_claim(
    claim: SubmittedClaim,
    computed_lines: Sequence[ComputedLine],
    corrections: Sequence[Correction],
    revenue_code: Callable[[str], str] = default_revenue_code,
) -> SubmittedClaim:
    """The claim as the corrected 837 carries it (no MAR: an 837 has none). Reading the
    corrected 837 gives this claim back (line numbers included when every line carries a
    HCPCS code: a revenue-code-only 837I line is kept and numbered, but not read)."""
    old = tuple(dotted(d) for d in claim.diagnoses)
    new = _new_diagnoses(claim, corrections)
    professional = claim.claim_type is ClaimType.PROFESSIONAL
    lines: list[ServiceLine] = []
    for x in _kept(claim, corrections):
        pointers = _remap(x.diagnosis_pointers, old, new) if professional else ()
        lines.append(
            x.model_copy(update={"line_number": len(lines) + 1, "diagnosis_pointers": pointers})
        )
    for c in computed_lines:
        lines.append(
            ServiceLine(
                line_number=len(lines) + 1,
                code=c.code,
                modifiers=c.modifiers[:4],
                units=c.units,
                revenue_code=None if professional else revenue_code(c.code),
                date_of_service=date.fromisoformat(c.date_of_service),
                diagnosis_pointers=_remap(_computed_pointers(claim, c), old, new)
                if professional
                else (),
            )
        )
    return claim.model_copy(
        update={
            "diagnoses": new,
            "service_lines": tuple(lines),
            "administrations": (),
            "encounters": (),
        }
    )


# --- writing -----------------------------------------------------------------------------


def _number(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text if text not in ("-0", "") else "0"


def _money(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.01")), "f")


class _Writer:
    def __init__(self, source: ClaimSource, claim: SubmittedClaim) -> None:
        self.source = source
        self.claim = claim
        self.d = source.delimiters
        self.professional = claim.claim_type is ClaimType.PROFESSIONAL
        self.sv = "SV1" if self.professional else "SV2"

    def split_claim(self) -> tuple[list[Segment], list[list[Segment]]]:
        """Loop 2300's own segments, and each 2400 line's segments (from LX)."""
        head: list[Segment] = []
        lines: list[list[Segment]] = []
        for seg in self.source.claim:
            if seg.id == "LX":
                lines.append([seg])
            elif lines:
                lines[-1].append(seg)
            else:
                head.append(seg)
        return head, lines

    def charge(self, line: list[Segment]) -> Decimal:
        sv = next((s for s in line if s.id == self.sv), None)
        raw = sv.get(2 if self.professional else 3) if sv else ""
        try:
            return Decimal(raw or "0")
        except InvalidOperation:
            return Decimal(0)

    def comp(self, *parts: str) -> str:
        return self.d.component.join(parts).rstrip(self.d.component)

    def diagnosis_segments(self, hi: list[Segment], new: Sequence[str]) -> list[Segment]:
        """The claim's HI segments with the ABK/ABF composites written in the new order;
        other HI composites (condition, value, occurrence codes ...) are left as they are."""
        extra: dict[str, list[str]] = {}  # a code's components after the code (POA ...)
        others: list[list[str]] = []
        for seg in hi:
            kept = []
            for element in seg.elements[1:]:
                parts = element.split(self.d.component)
                if parts[0] in ("ABK", "ABF") and len(parts) > 1:
                    extra.setdefault(dotted(parts[1]), parts[2:])
                else:
                    kept.append(element)
            if kept:
                others.append(kept)
        composites = [
            self.comp("ABK" if i == 0 else "ABF", code.replace(".", ""), *extra.get(code, []))
            for i, code in enumerate(new)
        ]
        first = hi[0].position if hi else 0
        out: list[Segment] = []
        if self.professional:
            out.append(Segment(first, ("HI", *composites[:12])))
        else:
            out.append(Segment(first, ("HI", composites[0])))
            for i in range(1, len(composites), 12):
                out.append(Segment(first, ("HI", *composites[i : i + 12])))
        return out + [Segment(first, ("HI", *o)) for o in others]

    def sv_line(self, line: list[Segment], number: int, pointers: tuple[int, ...]) -> list[Segment]:
        out = [Segment(line[0].position, ("LX", str(number)))]
        for seg in line[1:]:
            if seg.id == "SV1" and self.professional:
                e = list(seg.elements) + [""] * (8 - len(seg.elements))
                e[7] = self.comp(*(str(p) for p in pointers))
                seg = Segment(seg.position, _trim(e))
            out.append(seg)
        return out

    def computed(self, number: int, line: ServiceLine, charge: Decimal) -> list[Segment]:
        procedure = self.comp("HC", line.code, *line.modifiers)
        fields: tuple[str, ...]
        if self.professional:
            pointers = self.comp(*(str(p) for p in line.diagnosis_pointers))
            fields = ("SV1", procedure, _money(charge), "UN", _number(line.units), "", "", pointers)
        else:
            fields = (
                "SV2",
                line.revenue_code or "",
                procedure,
                _money(charge),
                "UN",
                _number(line.units),
            )
        day = line.date_of_service.strftime("%Y%m%d")
        return [
            Segment(0, ("LX", str(number))),
            Segment(0, _trim(fields)),
            Segment(0, ("DTP", "472", "D8", day)),
        ]


def _trim(elements: Sequence[str]) -> tuple[str, ...]:
    out = list(elements)
    while out and out[-1] == "":
        out.pop()
    return tuple(out)


def _unit_price(claim: SubmittedClaim, code: str, charges: dict[int, Decimal]) -> Decimal:
    """A superseded submitted line's charge per unit for the same code, else zero."""
    for x in claim.service_lines:
        if x.code == code and x.line_number in charges and x.units:
            return charges[x.line_number] / x.units
    return Decimal(0)


def corrected_837(
    source: ClaimSource,
    claim: SubmittedClaim,
    computed_lines: Sequence[ComputedLine],
    corrections: Sequence[Correction],
    envelope: OutEnvelope,
    price: Callable[[str, Decimal], Decimal] | None = None,
    revenue_code: Callable[[str], str] = default_revenue_code,
) -> str:
    """The corrected claim as a complete one-claim interchange (ISA to IEA).

    ``claim`` is the claim as decided (with its MAR, if one was joined), ``source`` the
    segments it was read from. ``price(code, units)`` prices a computed line; without it a
    computed line takes the charge per unit of a submitted line it replaces, else 0.00:
    the scrubber does not know a chargemaster. Raises ``X12WriteError``.
    """
    w = _Writer(source, claim)
    head2300, line_segments = w.split_claim()
    by_number: dict[int, list[Segment]] = {}
    for segs in line_segments:
        lx = segs[0].get(1)
        if lx.isdigit():
            by_number[int(lx)] = segs
    target = corrected_claim(claim, computed_lines, corrections, revenue_code)
    gone = _removed(corrections)
    mapped = {x.line_number for x in claim.service_lines}
    keep = {x.line_number for x in _kept(claim, corrections)}
    charges = {n: w.charge(segs) for n, segs in by_number.items()}

    old = tuple(dotted(d) for d in claim.diagnoses)
    submitted = {x.line_number: x for x in claim.service_lines}
    kept_lines = [
        (n, segs)
        for n, segs in by_number.items()
        if n in keep or (n not in mapped and n not in gone)  # unmapped: revenue-code only
    ]
    body: list[Segment] = []
    total = Decimal(0)
    number = 0
    for n, segs in sorted(kept_lines, key=lambda item: item[1][0].position):
        number += 1
        total += charges[n]
        pointers = (
            _remap(submitted[n].diagnosis_pointers, old, target.diagnoses)
            if (w.professional and n in submitted)
            else ()
        )
        body += w.sv_line(segs, number, pointers)
    for line in target.service_lines[len(keep) :]:
        number += 1
        charge = (
            price(line.code, line.units)
            if price is not None
            else _unit_price(claim, line.code, charges) * line.units
        )
        total += charge
        body += w.computed(number, line, charge)
    if number == 0:
        raise X12WriteError("the corrected claim has no service line left")
    if number > MAX_LINES:
        raise X12WriteError(f"the corrected claim has more than {MAX_LINES} service lines")

    clm, *rest = head2300
    clm_fields = list(clm.elements)
    clm_fields[2] = _money(total)
    hi = [s for s in rest if s.id == "HI"]
    before = [s for s in rest if s.id != "HI" and s.position < (hi[0].position if hi else 0)]
    after = [s for s in rest if s.id != "HI" and s not in before]
    claim_segments = [
        Segment(clm.position, tuple(clm_fields)),
        *before,
        *w.diagnosis_segments(hi, target.diagnoses),
        *after,
        *body,
    ]
    return _interchange(source, claim_segments, envelope)


def _interchange(source: ClaimSource, claim_segments: list[Segment], env: OutEnvelope) -> str:
    isa = list(source.isa.elements)
    control = f"{env.control_number:09d}"
    isa[9], isa[10], isa[13] = env.created.strftime("%y%m%d"), env.created.strftime("%H%M"), control
    gs = list(source.gs.elements)
    gs[4], gs[5], gs[6] = (
        env.created.strftime("%Y%m%d"),
        env.created.strftime("%H%M"),
        str(env.control_number),
    )
    return _written(source, claim_segments, tuple(isa), tuple(gs))


def _written(
    source: ClaimSource,
    claim_segments: Sequence[Segment],
    isa: tuple[str, ...],
    gs: tuple[str, ...],
) -> str:
    d = source.delimiters
    body = [*source.head, *claim_segments]
    st = source.st.elements
    records = [
        isa,
        gs,
        st,
        *(s.elements for s in body),
        ("SE", str(len(body) + 2), st[2]),
        ("GE", "1", gs[6] if len(gs) > 6 else ""),
        ("IEA", "1", isa[13] if len(isa) > 13 else ""),
    ]
    return "".join(d.element.join(r) + d.segment + "\n" for r in records)


def source_interchange(source: ClaimSource) -> str:
    """The claim as it came, alone: a one-claim interchange of its own segments, with the
    envelopes as received (ISA, GS and their control numbers). What the audit keeps; reading
    it gives back the claim's ``ClaimSource`` (positions counted in it)."""
    return _written(source, source.claim, source.isa.elements, source.gs.elements)


# --- where findings point ----------------------------------------------------------------


def finding_locations(source: ClaimSource, findings: Sequence[Finding]) -> tuple[X12Location, ...]:
    """For each finding, in order, where it points in the 837 as received: the procedure
    of the first line it names (loop 2400, SV101 or SV202), the diagnoses (loop 2300 HI)
    for a diagnosis rule, else the claim (CLM). A finding on codes computed from the MAR
    alone points at the claim: the 837 does not hold them."""
    professional = source.version.startswith("005010X222")
    sv, element = ("SV1", "SV101") if professional else ("SV2", "SV202")
    clm = source.claim[0]
    hi = next((s for s in source.claim if s.id == "HI"), None)
    lines: dict[int, Segment] = {}
    current: int | None = None
    for seg in source.claim:
        if seg.id == "LX":
            current = int(seg.get(1)) if seg.get(1).isdigit() else None
        elif seg.id == sv and current is not None:
            lines.setdefault(current, seg)
    out = []
    for f in findings:
        line = next((lines[n] for n in f.line_numbers if n in lines), None)
        if line is not None:
            out.append(X12Location("2400", sv, line.position, element))
        elif f.rule_id.startswith("DX") and hi is not None:
            out.append(X12Location("2300", "HI", hi.position, "HI01"))
        else:
            out.append(X12Location("2300", "CLM", clm.position, None))
    return tuple(out)
