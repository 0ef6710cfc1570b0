"""An 837 transaction set split into its claims, each a transaction set of its own.

A claim (loop 2300 with its 2400 lines) sits under a billing provider (HL 20), a
subscriber (HL 22) and, for a dependent, a patient (HL 23). Each claim is cut out with
that context and the transaction's header into a one-claim transaction set (HL ids
renumbered 1-3, SE recounted). That is what x12sdk then validates, so one bad claim
fails alone while the others in the interchange proceed, and it is what the corrected
837 is written from: a one-claim 837 is valid and any clearinghouse takes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from worker.ingest.reasons import LocatedReason
from worker.ingest.x12_envelope import (
    Delimiters,
    Interchange,
    Segment,
    Transaction,
    X12EnvelopeError,
)

PROVIDER, SUBSCRIBER, PATIENT = "20", "22", "23"


@dataclass(frozen=True, slots=True)
class ClaimSource:
    """One claim's segments with the context needed to read it alone and to write it out.

    Positions stay those of the original interchange, so a location points into what
    the platform sent.
    """

    delimiters: Delimiters
    isa: Segment
    gs: Segment
    st: Segment
    version: str  # the implementation guide
    head: tuple[Segment, ...]  # BHT .. the last HL block before the claim
    claim: tuple[Segment, ...]  # CLM .. the claim's last 2400 segment
    index: int  # the claim's place in the interchange, from 1
    in_transaction: int  # its place in its transaction set, from 1
    dependent: bool  # the patient is a dependent (loop 2000C)

    @property
    def location(self) -> str:
        first, last = self.claim[0].position, self.claim[-1].position
        return f"ST {self.st.get(2)} claim {self.in_transaction} (segments {first}-{last})"

    def segments(self) -> tuple[Segment, ...]:
        """ST to SE of the one-claim transaction set, SE counted."""
        body = (*self.head, *self.claim)
        se = Segment(0, ("SE", str(len(body) + 2), self.st.get(2)))
        return (self.st, *body, se)


def _hl(seg: Segment, number: int, parent: int | None, level: str, children: bool) -> Segment:
    fields = ("HL", str(number), str(parent) if parent else "", level, "1" if children else "0")
    return Segment(seg.position, fields)


def _structure_error(seg: Segment, message: str) -> X12EnvelopeError:
    return X12EnvelopeError(
        "the interchange fails its syntax checks", [LocatedReason(seg.where(), message)]
    )


@dataclass
class _Open:
    provider: list[Segment] | None = None
    subscriber: list[Segment] | None = None
    patient: list[Segment] | None = None
    current: list[Segment] | None = None


def split(interchange: Interchange) -> tuple[ClaimSource, ...]:
    """Every claim of the interchange, in order. A broken HL hierarchy (a claim outside a
    subscriber, an unknown level) is a syntax error of the whole interchange."""
    out: list[ClaimSource] = []
    for group in interchange.groups:
        for tx in group.transactions:
            out.extend(_split_transaction(interchange, group.gs, tx, len(out)))
    return tuple(out)


def _split_transaction(
    interchange: Interchange, gs: Segment, tx: Transaction, before: int
) -> list[ClaimSource]:
    header: list[Segment] = []
    state = _Open()
    claims: list[tuple[list[Segment], list[Segment], list[Segment] | None, list[Segment]]] = []
    claim: list[Segment] | None = None
    for seg in tx.body:
        if seg.id == "HL":
            claim = None
            level = seg.get(3)
            if level == PROVIDER:
                state = _Open(provider=[seg])
                state.current = state.provider
            elif level == SUBSCRIBER and state.provider is not None:
                state.subscriber, state.patient = [seg], None
                state.current = state.subscriber
            elif level == PATIENT and state.subscriber is not None:
                state.patient = [seg]
                state.current = state.patient
            else:
                raise _structure_error(
                    seg,
                    "HL03 is not a billing provider (20), subscriber "
                    "(22) or patient (23) level in its place",
                )
        elif seg.id == "CLM":
            if state.provider is None or state.subscriber is None:
                raise _structure_error(seg, "a claim (CLM) outside a subscriber loop (HL 22)")
            claim = [seg]
            claims.append((state.provider, state.subscriber, state.patient, claim))
        elif claim is not None:
            claim.append(seg)
        elif state.current is not None:
            state.current.append(seg)
        else:
            header.append(seg)
    if not claims:
        raise _structure_error(tx.st, "the transaction set holds no claim (CLM)")
    sources = []
    for n, (provider, subscriber, patient, segs) in enumerate(claims, start=1):
        head = [
            *header,
            _hl(provider[0], 1, None, PROVIDER, True),
            *provider[1:],
            _hl(subscriber[0], 2, 1, SUBSCRIBER, patient is not None),
            *subscriber[1:],
        ]
        if patient is not None:
            head += [_hl(patient[0], 3, 2, PATIENT, False), *patient[1:]]
        sources.append(
            ClaimSource(
                delimiters=interchange.delimiters,
                isa=interchange.isa,
                gs=gs,
                st=tx.st,
                version=tx.version,
                head=tuple(head),
                claim=tuple(segs),
                index=before + n,
                in_transaction=n,
                dependent=patient is not None,
            )
        )
    return sources
