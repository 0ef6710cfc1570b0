"""A rule: id, what it checks, why, confidence and citations; the only way to make a finding.

Findings are made only through ``Rule.finding`` so that each one carries its
rule's citation and confidence. A rule marked NC (needs confirmation) always
produces an error-severity finding, which sends the claim to review, and never a
correction: NC rules never decide silently (spec §0.1).

Source ids (S1…) are those of the coding specification §0.3; the others name the
CMS data files of the rule pack.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from schemas.decision import Citation, Confidence, Correction, CorrectionAction, Finding, Severity

_SOURCES: dict[str, str] = {
    "S1": "https://med.noridianmedicare.com/web/jea/topics/drugs-biologicals-injections/chemotherapy-administration-billing",
    "S2": "https://med.noridianmedicare.com/web/jea/topics/drugs-biologicals-injections/initial-drug-administration",
    "S3": "https://med.noridianmedicare.com/web/jea/topics/drugs-biologicals-injections/hydration",
    "S5": "https://med.noridianmedicare.com/web/jeb/policies/coverage-articles/chemotherapy-administration",
    "S8": "https://www.cms.gov/Research-Statistics-Data-and-Systems/Monitoring-Programs/Medicare-FFS-Compliance-Programs/Recovery-Audit-Program/Approved-RAC-Topics-Items/0071-Initial-Hydration-Infusion-and-Chemotherapy-Administration.html",
    "S10": "https://cms.gov/medicare-coverage-database/view/article.aspx?articleid=52732",
    "S11": "https://aapc.com/codes/coding-newsletters/my-oncology-hematology-coding-alert/reader-questions-nix-reporting-ns-concurrent-with-chemo-article",
    "S12": "https://www.aapc.com:443/discuss/threads/billing-hydration-and-chemotherapy.196971/post-539772",
    "S13": "https://aapc.com/discuss/threads/iv-hydration-question.110083",
    "S15": "https://aapc.com/codes/coding-newsletters/my-oncology-hematology-coding-alert/you-be-the-coder-size-up-this-infusion-scenario-131995-article",
    "S17": "http://medicalcodingnews.org/oncology-coding-day-1-of-folfox4-regimen/",
    "S18": "https://www.aapc.com/codes/coding-newsletters/my-oncology-hematology-coding-alert/infusions-for-infusions-primary-purpose-not-medication-sequence-matters-most-157703-article",
    "S19": "https://aapc.com/codes/coding-newsletters/my-oncology-hematology-coding-alert/you-be-the-coder-do-2-trips-allow-2-initial-codes-136211-article",
    "S20": "https://www.aapc.com/discuss/threads/coding-for-iv-push-of-same-substance-for-physician-office.108863/post-313223",
    "S22": "http://www.obc.med.miami.edu/awareness/obc-tips/administration-charges",
    "S23": "https://webhooks.codingahead.com/cpt/codes/96368",
    "S24": "https://www.aapc.com/codes/coding-newsletters/my-oncology-hematology-coding-alert/heres-why-simultaneous-infusions-dont-always-equal-concurrent-code-article",
    "S25": "http://pubmedcentralcanada.ca/pmcc/articles/PMC2900877/",
    "S26": "https://aapc.com/codes/coding-newsletters/my-oncology-hematology-coding-alert/stay-compliant-get-paid-properly-for-pump-maintenance-and-port-flushes-article",
    "S27": "https://hcpcsdata.vercel.app/codes/G0498",
    "S28": "https://cms.gov/medicare-coverage-database/view/article.aspx?articleId=55134",
    "S29": "https://medicare-faqs.com/what-will-medicare-pay-for-96523",
    "S31": "https://www.regence.com/web/regence_provider/injection-and-infusion-services",
    "S32": "https://revenuecycleadvisor.com/node/4136",
    "S33": "https://medlearn.com/general-question-for-the-week-of-june-10-2024",
    "S34": "https://www.thehaugengroup.com/hydration-infusion-coding-at-midnight-the-orphaned-service-interval/",
    "S38": "HCPCS Level II J-code table (~2020), GitHub wamuir/hcpcs groups/j.md",
    "S61": "https://docslib.org/doc/9492712/uwhc-iv-infusion-mini-manual",
    "S62": "https://libmaneducation.com/learning-to-code-injections-and-infusions/",
    "S63": "http://medpdffinder.com/c/compliance.uclahealth.org1.html",
    "S64": "https://legalclarity.org/cpt-96375-additional-iv-push-billing-and-coding/",
    "S65": "https://webhooks.codingahead.com/cpt/codes/96405",
    "IOCE": "CMS I/OCE reference tables, drug administration add-on map (rules/data/addon_primary_map.csv)",
    "S6": "https://med.noridianmedicare.com/web/jfa/policies/coverage-articles/em-services-and-drug-administration-billing",
    "S7": "https://hhs.gov/guidance/document/payment-office-or-other-outpatient-evaluation-and-management-em-visits-codes-99201-99215",
    "S30": "https://grokipedia.com/page/CPT_codes_36591_and_36592",
    "S39": "https://icd10codingpro.com/codes/Z51.12",
    "S40": "https://www.aapc.com/blog/50508-anemia-icd-10-cm-guidelines-update-clarification/",
    "S41": "https://www.aapc.com/codes/coding-newsletters/my-oncology-hematology-coding-alert/reader-questions-pay-attention-to-neoplasm-sign-and-symptoms-sequencing-173432-article",
    "S42": "https://aapc.com/codes/coding-newsletters/my-oncology-hematology-coding-alert/oncologyhematology-coding-know-the-difference-between-these-inactive-cancer-codes-180315-article/rci",
    "S43": "https://www.aapc.com/discuss/threads/encounter-for-chemo-radio-or-immunotherapy-code-sequencing.182363/latest",
    "S44": "https://providerlibrary.healthnetcalifornia.com/news/20-1026-check-diagnosis-codes-to-avoid-claim-denials.html",
    "S45": "https://aapc.com/codes/coding-newsletters/my-oncology-hematology-coding-alert/reader-questions-stay-immune-to-this-antineoplastic-coding-error-169806-article",
    "S46": "https://www.astro.org/Daily-Practice/Coding/Coding-Guidance/Coding-FAQ-39;s-and-Tips/FAQ-Treatment-Delivery",
    "S47": "https://www.astro.org/Daily-Practice/Coding/Coding-Guidance/Coding-FAQ-39;s-and-Tips/FAQ-Treatment-Planning",
    "S49": "https://med.noridianmedicare.com/web/jeb/specialties/radiation-oncology",
    "S50": "https://bluecrossnc.com/providers/policies-guidelines-codes/commercial/reimbursement/updates/radiation-therapy-services",
    "S52": "https://radiologybillingcoding.com/2010/10/billing-cpt-77427-weekly-radiation.html",
    "S53": "https://studylib.net/doc/14255495/2015-cpt-code-changes-eight--8--new-codes-four--4--revise...",
    "S54": "https://www.aapc.com/blog/31336-radiation-oncology-everything-old-is-new-again/",
    "S55": "https://www.openpayer.com/billing-codes/hcpcs-g6004-radiation-treatment-6-10-mev-single-port-simple-blocks",
    "S56": "https://verity.backworkai.com/policy/EVICORE-RADIATION_ONCOLOGY-56D5ACA0",
    "S57": "https://www.openpayer.com/policy-updates/unitedhealthcare/clinical-medical/radiation-oncology/unitedhealthcare-015ee3a3-640",
    "S58": "https://www.cms.gov/medicare-coverage-database/view/lcd.aspx?lcdId=33937&ver=18",
    "S59": "https://aapc.com/codes/coding-newsletters/my-oncology-hematology-coding-alert/reader-questions-deliver-this-code-to-medicare-for-sbrt-treatments-172119-article",
    "S60": "https://www.ascopost.com/issues/june-25-2020/extended-fraction-radiation-therapy-for-bone-metastases-represents-low-value-care-but-continues-to-be-widely-practiced/",
    "S67": "https://www.palmettogba.com/palmetto/jma.nsf/DID/A44KL34718",
    "PTP": "CMS NCCI procedure-to-procedure edits, hospital outpatient, as carried by the I/OCE (rules/data/ncci_ptp_hospital.csv); practitioner edits when the pack has them",
    "MUE": "CMS NCCI medically unlikely edits in the CMS published layout (rules/data/mue_facility.csv, mue_practitioner.csv)",
    "HCPCS-Q": "CMS I/OCE HCPCS table by quarter, status indicator (rules/data/hcpcs_quarters.csv)",
    "IMRT": "CMS I/OCE list of codes not billed with IMRT planning 77301 (rules/data/imrt_conflicts.csv)",
    "ADDON": "CMS I/OCE add-on code maps, types 1-3 (rules/data/addon_primary_map.csv)",
    "ICD10CM": "ICD-10-CM code set, CMS/NCHS April 1, 2026 release (rules/data/icd10cm_codes.csv)",
    "IOCE-DX": "CMS I/OCE diagnosis table, unacceptable principal diagnosis (rules/data/icd10cm_unacceptable_pdx.csv)",
    "PACK": "Rule pack manifest: each data release and the dates it covers (rules/data/sources.csv)",
}


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    checks: str  # what the rule checks or does
    why: str  # why a careful coder does it
    confidence: Confidence
    section: str  # where in the coding specification
    sources: tuple[str, ...]
    severity: Severity = Severity.INFO
    example: str = ""  # a claim that triggers it, in a coder's words

    @property
    def citations(self) -> tuple[Citation, ...]:
        return _citations(self)

    def finding(
        self,
        message: str,
        admin_ids: Sequence[str] = (),
        line_numbers: Sequence[int] = (),
        severity: Severity | None = None,
        suggested_correction: str | None = None,
        codes: Sequence[str] = (),
        cite: Sequence[Citation] = (),
    ) -> Finding:
        nc = self.confidence is Confidence.NEEDS_CONFIRMATION
        return Finding(
            rule_id=self.id,
            # NC never decides silently: it always sends the claim to a person.
            severity=Severity.ERROR if nc else (severity or self.severity),
            message=message,
            citations=(*self.citations, *cite),
            confidence=self.confidence,
            admin_ids=tuple(admin_ids),
            line_numbers=tuple(line_numbers),
            codes=tuple(codes),
            suggested_correction=None if nc else suggested_correction,
        )

    def correction(
        self,
        action: CorrectionAction,
        reason: str,
        line_numbers: Sequence[int] = (),
        codes: Sequence[str] = (),
        diagnoses: Sequence[str] = (),
        policy_id: str | None = None,
    ) -> Correction:
        if self.confidence is Confidence.NEEDS_CONFIRMATION:
            raise ValueError(f"{self.id} needs confirmation and may not correct a claim")
        return Correction(
            rule_id=self.id,
            action=action,
            line_numbers=tuple(line_numbers),
            codes=tuple(codes),
            diagnoses=tuple(diagnoses),
            reason=reason,
            policy_id=policy_id,
        )


@cache
def _citations(r: Rule) -> tuple[Citation, ...]:
    # Built once per rule: findings are made on the hot path and citations never change.
    spec = Citation(source="Oncology coding rules specification", section=r.section)
    cited = tuple(
        Citation(
            source=s,
            url=_SOURCES[s] if _SOURCES[s].startswith("http") else None,
            section=None if _SOURCES[s].startswith("http") else _SOURCES[s],
        )
        for s in r.sources
    )
    return (spec, *cited)


H, M, L, NC = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW, Confidence.NEEDS_CONFIRMATION
ERR, WARN, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
