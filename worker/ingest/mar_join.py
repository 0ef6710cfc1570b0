"""The join of an 837's claim with its patient's MAR, pure: the worker keeps the MAR.

A claim read from an 837 has no administrations. The worker keeps each patient's recent
MAR entries (from ``parse_mar_bundle``) by patient reference; ``join_mar`` gives the claim
the entries given on its service dates, with their visits.
"""

from __future__ import annotations

from collections.abc import Iterable

from schemas.claim import Administration, Encounter, SubmittedClaim
from worker.ingest.patient_mar import PatientMar


def join_mar(claim: SubmittedClaim, mar: Iterable[PatientMar]) -> SubmittedClaim:
    """``claim`` with the administrations of its patient given from ``statement_from`` to
    ``statement_to`` (the MAR's own local dates). An entry sent again (same ``admin_id``)
    replaces the earlier one; the claim's own administrations, if any, are kept first."""
    chosen: dict[str, Administration] = {a.admin_id: a for a in claim.administrations}
    visits: dict[str, Encounter] = {e.encounter_id: e for e in claim.encounters}
    for batch in mar:
        if batch.patient_ref != claim.patient_ref:
            continue
        for e in batch.encounters:
            visits[e.encounter_id] = e
        for a in batch.administrations:
            if claim.statement_from <= a.start.date() <= claim.statement_to:
                chosen[a.admin_id] = a
    admins = tuple(chosen.values())
    used = {a.encounter_id for a in admins}
    # the claim validates administrations against its encounters only when it lists some
    encounters = (
        tuple(visits[v] for v in sorted(used) if v in visits) if used <= set(visits) else ()
    )
    return claim.model_copy(update={"administrations": admins, "encounters": encounters})
