"""A decision in a coder's words: its findings (what, why, what to do, the authority), the
corrections applied or proposed, and each computed line's derivation (which MAR entries, which
rules, how many minutes, why that code).

``explain_decision`` reads a decision as the worker wrote it (a scrubbed claim or a review
request); ``explain_event`` re-derives an audit event's decision from its recorded input with the
rule pack the event names (decide is pure, so this is the decision that was made) and says
whether it is byte-identical to the one recorded. Both return plain text lines with no markup:
print them with ``markup=False``. No claim content beyond what the decision itself carries (codes,
dates, MAR entry ids, rule ids): the patient reference and the diagnoses' context stay out.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from rules.catalogue import RULES
from rules.pack import RulePack, current_pack
from schemas.audit import AuditEvent, Outcome
from schemas.decision import (
    ComputedLine,
    Correction,
    CorrectionAction,
    Finding,
    ReviewReason,
    ReviewRequest,
    ScrubbedClaim,
)
from worker.audit.chain import sha256_hex
from worker.decide import DecisionContext, decide
from worker.topology import Topology, declare

INDENT = "    "


def _rule_title(rule_id: str) -> str:
    rule = RULES.get(rule_id)
    return f"{rule_id} ({rule.title})" if rule else rule_id


def line_derivation(line: ComputedLine) -> list[str]:
    """How one computed line was derived."""
    modifiers = f"-{'-'.join(line.modifiers)}" if line.modifiers else ""
    head = f"{line.code}{modifiers} x{line.units.normalize():f} on {line.date_of_service}"
    out = [f"{head}: {line.reason}"]
    if line.admin_ids:
        out.append(f"{INDENT}from MAR entries {', '.join(line.admin_ids)}")
    if line.minutes is not None:
        out.append(f"{INDENT}{line.minutes} minutes counted")
    if line.rule_ids:
        out.append(f"{INDENT}rules: {'; '.join(_rule_title(r) for r in line.rule_ids)}")
    return out


def finding_lines(f: Finding) -> list[str]:
    """One finding: severity, rule, confidence, message, what it concerns, its authority."""
    out = [f"{f.severity.value.upper()} {f.rule_id} (confidence {f.confidence.value}): {f.message}"]
    concerns = []
    if f.line_numbers:
        concerns.append(f"lines {', '.join(str(n) for n in f.line_numbers)}")
    if f.codes:
        concerns.append(f"codes {', '.join(f.codes)}")
    if f.admin_ids:
        concerns.append(f"MAR entries {', '.join(f.admin_ids)}")
    if concerns:
        out.append(f"{INDENT}concerns {'; '.join(concerns)}")
    if f.suggested_correction:
        out.append(f"{INDENT}suggested: {f.suggested_correction}")
    if f.citations:
        lead = f.citations[0]
        section = f", {lead.section}" if lead.section else ""
        url = f" <{lead.url}>" if lead.url else ""
        out.append(f"{INDENT}authority: {lead.source}{section}{url}")
    return out


def correction_lines(c: Correction, applied: bool) -> list[str]:
    state = "applied" if applied else "proposed"
    if c.action is CorrectionAction.REMOVE_LINE:
        what = f"remove line {', '.join(str(n) for n in c.line_numbers)} ({', '.join(c.codes)})"
    else:
        what = f"diagnoses in the order {', '.join(c.diagnoses)}"
    policy = f" under payer policy {c.policy_id}" if c.policy_id else ""
    return [f"{state} by {c.rule_id}{policy}: {what}", f"{INDENT}{c.reason}"]


def _reason_lines(r: ReviewReason) -> list[str]:
    where = f" [{r.location}]" if r.location else ""
    rule = f" {r.rule_id}" if r.rule_id else ""
    return [f"{r.code.value}{rule}{where}: {r.message}"]


def _section(title: str, items: list[list[str]]) -> list[str]:
    if not items:
        return []
    return [f"{title}:", *(f"{INDENT}{line}" for item in items for line in item)]


def explain_decision(decision: ScrubbedClaim | ReviewRequest) -> list[str]:
    """A scrubbed claim or a review request as text lines."""
    applied = isinstance(decision, ScrubbedClaim)
    out = [
        f"rule pack {decision.rule_pack.name} {decision.rule_pack.version}, "
        f"engine {decision.engine_version}"
    ]
    if isinstance(decision, ReviewRequest):
        out += _section("why it needs review", [_reason_lines(r) for r in decision.reasons])
    out += _section("computed lines", [line_derivation(x) for x in decision.computed_lines])
    out += _section("findings", [finding_lines(f) for f in decision.findings])
    out += _section("corrections", [correction_lines(c, applied) for c in decision.corrections])
    return out


def explain_body(body: bytes, topic: str, topology: Topology | None = None) -> list[str]:
    """A decision record's value, read by the topic it was written to."""
    topology = topology or declare()
    if topic == topology.scrubbed.name:
        return explain_decision(ScrubbedClaim.model_validate_json(body))
    if topic == topology.review.name:
        return explain_decision(ReviewRequest.model_validate_json(body))
    return ["dead-lettered: the input could not be read as a claim (kept whole on its topic)"]


def explain_event(
    event: AuditEvent, packs: Sequence[RulePack] = (), topology: Topology | None = None
) -> list[str]:
    """An audit event's decision, re-derived from its recorded input with the pack it names
    (the shipped pack or one of ``packs``), as text lines."""
    topology = topology or declare()
    if event.outcome is Outcome.DEAD_LETTER or event.input_b64 is None:
        why = ", ".join(r.value for r in event.reasons) or "unreadable input"
        return [f"dead-lettered ({why}): the input is kept whole on {event.output_topic}"]
    known = {(p.ref.version, p.ref.content_sha256): p for p in (current_pack(), *packs)}
    pack = known.get((event.rule_pack.version, event.rule_pack.content_sha256))
    if pack is None:
        return [
            f"rule pack {event.rule_pack.version} ({event.rule_pack.content_sha256[:12]}) is "
            "not available here: give its directory to re-derive the findings; recorded rules: "
            + (", ".join(event.rule_ids) or "-")
        ]
    raw = base64.b64decode(event.input_b64)
    ctx = DecisionContext(
        topology=topology, worker_id=event.worker_id, max_claim_bytes=len(raw) + 1, pack=pack
    )
    again = decide(raw, None, event.source, ctx, event.decided_at, event_time=event.event_time)
    same = sha256_hex(again.decision.value) == event.output_sha256
    check = (
        "re-derived from the recorded input: identical to the recorded decision"
        if same
        else "re-derived from the recorded input: DIFFERS from the recorded decision"
    )
    return [check, *explain_body(bytes(again.decision.value), again.decision.topic, topology)]
