"""Where findings point.

Three kinds of reference, cited in this order by every finding (``Rule.citations``):

1. **Authorities** (``AUTHORITIES``, cited with ``authority(key, section)``): the documents a
   coder acts on: the ICD-10-CM Official Guidelines, the CMS manuals, the NCCI Policy Manual
   and edit files, CMS coverage articles and LCDs, the CMS code sets and the CPT guidelines by
   name. Each rule names at least one, with its section; a payer policy row's own document
   leads the findings it drives.
2. **Supporting sources** (``SOURCES``): the specification's sources (S1…, §0.3), each with
   its title and address, and the CMS data files of the rule pack.
3. **The coding specification** itself, last.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.decision import Citation


@dataclass(frozen=True, slots=True)
class Document:
    title: str
    url: str


_CMS_MANUALS = "https://www.cms.gov/Regulations-and-Guidance/Guidance/Manuals/Downloads"
_NCCI = "https://www.cms.gov/medicare/coding-billing/national-correct-coding-initiative-ncci-edits"
_ICD10 = "https://www.cms.gov/medicare/coding-billing/icd-10-codes"
_IOCE = "https://www.cms.gov/medicare/coding-billing/outpatient-code-editor-oce"
_HCPCS = "https://www.cms.gov/medicare/coding-billing/healthcare-common-procedure-system"
_MCD = "https://www.cms.gov/medicare-coverage-database/view"
_CPT = "https://www.ama-assn.org/practice-management/cpt"

AUTHORITIES: dict[str, Document] = {
    "ICD10-GUIDELINES": Document(
        "ICD-10-CM Official Guidelines for Coding and Reporting (CMS and NCHS), FY 2026", _ICD10
    ),
    "ICD10-CODES": Document("ICD-10-CM code set (CMS and NCHS), April 1, 2026 release", _ICD10),
    "IOM-12": Document(
        "CMS Medicare Claims Processing Manual (Pub. 100-04), chapter 12 Physicians/"
        "Nonphysician Practitioners",
        f"{_CMS_MANUALS}/clm104c12.pdf",
    ),
    "IOM-4": Document(
        "CMS Medicare Claims Processing Manual (Pub. 100-04), chapter 4 Part B Hospital "
        "(Including Inpatient Hospital Part B and OPPS)",
        f"{_CMS_MANUALS}/clm104c04.pdf",
    ),
    "IOM-13": Document(
        "CMS Medicare Claims Processing Manual (Pub. 100-04), chapter 13 Radiology Services",
        f"{_CMS_MANUALS}/clm104c13.pdf",
    ),
    "IOM-17": Document(
        "CMS Medicare Claims Processing Manual (Pub. 100-04), chapter 17 Drugs and Biologicals",
        f"{_CMS_MANUALS}/clm104c17.pdf",
    ),
    "NCCI-POLICY-MANUAL": Document(
        "CMS National Correct Coding Initiative Policy Manual for Medicare Services",
        f"{_NCCI}/medicare-ncci-policy-manual",
    ),
    "NCCI-PTP-EDITS": Document(
        "CMS NCCI procedure-to-procedure (PTP) edits, quarterly files",
        f"{_NCCI}/medicare-ncci-procedure-procedure-ptp-edits",
    ),
    "NCCI-MUE-EDITS": Document(
        "CMS NCCI medically unlikely edits (MUE), quarterly files",
        f"{_NCCI}/medicare-ncci-medically-unlikely-edits",
    ),
    "NCCI-ADDON-EDITS": Document("CMS NCCI add-on code edits, quarterly files", _NCCI),
    "IOCE": Document(
        "CMS Integrated Outpatient Code Editor (I/OCE) specifications and quarterly tables",
        _IOCE,
    ),
    "HCPCS": Document(
        "CMS HCPCS Level II code set, quarterly update (descriptors, billing units, dates)",
        f"{_HCPCS}/quarterly-update",
    ),
    "CPT-DRUG-ADMIN": Document(
        "AMA CPT guidelines, Hydration, Therapeutic, Prophylactic, Diagnostic Injections and "
        "Infusions, and Chemotherapy and Other Highly Complex Drug or Highly Complex Biologic "
        "Agent Administration (96360-96549)",
        _CPT,
    ),
    "CPT-RADIATION": Document("AMA CPT guidelines, Radiation Oncology (77261-77799)", _CPT),
    "CPT-EM": Document("AMA CPT guidelines, Evaluation and Management, modifier 25", _CPT),
    "CPT-VASCULAR": Document(
        "AMA CPT guidelines, Vascular Injection Procedures (36000-36598)", _CPT
    ),
    "CMS-EM-2005": Document(
        "CMS guidance of October 28, 2005: payment for office E/M visits (99201-99215) with "
        "drug administration",
        "https://hhs.gov/guidance/document/payment-office-or-other-outpatient-evaluation-and-management-em-visits-codes-99201-99215",
    ),
    "LCD-L33937": Document(
        "CMS Local Coverage Determination L33937, Proton Beam Radiotherapy",
        f"{_MCD}/lcd.aspx?lcdid=33937",
    ),
    "A55134": Document(
        "CMS Medicare Coverage Database article A55134 (G0498, provider-supplied chemotherapy "
        "pumps; reported retired 2025-12-11)",
        f"{_MCD}/article.aspx?articleId=55134",
    ),
    "CW-ASTRO": Document(
        "ASTRO, Choosing Wisely recommendations (ABIM Foundation): single-fraction palliative "
        "radiation for bone metastases",
        "https://www.choosingwisely.org/societies/american-society-for-radiation-oncology/",
    ),
}


def authority(key: str, section: str | None = None) -> Citation:
    """A citation of an authoritative document, with the section that says it."""
    doc = AUTHORITIES[key]
    return Citation(source=doc.title, section=section, url=doc.url)


# The specification's sources (§0.3) and the pack's CMS data files: id -> (title, address).
SOURCES: dict[str, Document] = {
    "S1": Document(
        "Noridian JE Part A, Chemotherapy Administration Billing",
        "https://med.noridianmedicare.com/web/jea/topics/drugs-biologicals-injections/chemotherapy-administration-billing",
    ),
    "S2": Document(
        "Noridian JE Part A, Initial Drug Administration (quotes IOM 100-04 ch.4 §230.2(B))",
        "https://med.noridianmedicare.com/web/jea/topics/drugs-biologicals-injections/initial-drug-administration",
    ),
    "S3": Document(
        "Noridian JE Part A, Hydration",
        "https://med.noridianmedicare.com/web/jea/topics/drugs-biologicals-injections/hydration",
    ),
    "S5": Document(
        "Noridian JE Part B article A52953, Chemotherapy Administration",
        "https://med.noridianmedicare.com/web/jeb/policies/coverage-articles/chemotherapy-administration",
    ),
    "S6": Document(
        "Noridian JF, E/M Services and Drug Administration Billing",
        "https://med.noridianmedicare.com/web/jfa/policies/coverage-articles/em-services-and-drug-administration-billing",
    ),
    "S7": Document(
        "CMS guidance (Oct 28 2005) on E/M with drug administration, 99211",
        "https://hhs.gov/guidance/document/payment-office-or-other-outpatient-evaluation-and-management-em-visits-codes-99201-99215",
    ),
    "S8": Document(
        "CMS RAC approved issue 0071, initial hydration, infusion and chemotherapy",
        "https://www.cms.gov/Research-Statistics-Data-and-Systems/Monitoring-Programs/Medicare-FFS-Compliance-Programs/Recovery-Audit-Program/Approved-RAC-Topics-Items/0071-Initial-Hydration-Infusion-and-Chemotherapy-Administration.html",
    ),
    "S10": Document(
        "CMS Medicare Coverage Database article 52732 (hydration)",
        "https://cms.gov/medicare-coverage-database/view/article.aspx?articleid=52732",
    ),
    "S11": Document(
        "AAPC Oncology Coding Alert, reporting NS concurrent with chemo (quotes NCCI ch.XI)",
        "https://aapc.com/codes/coding-newsletters/my-oncology-hematology-coding-alert/reader-questions-nix-reporting-ns-concurrent-with-chemo-article",
    ),
    "S12": Document(
        "AAPC forum, billing hydration and chemotherapy (payer denial; CPT Assistant June 2007)",
        "https://www.aapc.com:443/discuss/threads/billing-hydration-and-chemotherapy.196971/post-539772",
    ),
    "S13": Document(
        "AAPC forum, IV hydration time example",
        "https://aapc.com/discuss/threads/iv-hydration-question.110083",
    ),
    "S15": Document(
        "AAPC alert, size up this infusion scenario (levoleucovorin)",
        "https://aapc.com/codes/coding-newsletters/my-oncology-hematology-coding-alert/you-be-the-coder-size-up-this-infusion-scenario-131995-article",
    ),
    "S17": Document(
        "Medical Coding News, oncology coding: day 1 of FOLFOX4",
        "http://medicalcodingnews.org/oncology-coding-day-1-of-folfox4-regimen/",
    ),
    "S18": Document(
        "AAPC alert, for infusions primary purpose matters most",
        "https://www.aapc.com/codes/coding-newsletters/my-oncology-hematology-coding-alert/infusions-for-infusions-primary-purpose-not-medication-sequence-matters-most-157703-article",
    ),
    "S19": Document(
        "AAPC alert, do 2 trips allow 2 initial codes? (quotes NCCI ch.XI)",
        "https://aapc.com/codes/coding-newsletters/my-oncology-hematology-coding-alert/you-be-the-coder-do-2-trips-allow-2-initial-codes-136211-article",
    ),
    "S20": Document(
        "AAPC forum, IV push of the same substance in a physician office",
        "https://www.aapc.com/discuss/threads/coding-for-iv-push-of-same-substance-for-physician-office.108863/post-313223",
    ),
    "S22": Document(
        "University of Miami OBC tips, administration charges",
        "http://www.obc.med.miami.edu/awareness/obc-tips/administration-charges",
    ),
    "S23": Document(
        "Coding Ahead quick reference, 96368 and 96361",
        "https://webhooks.codingahead.com/cpt/codes/96368",
    ),
    "S24": Document(
        "AAPC alert, simultaneous infusions and concurrent codes (quotes CPT Assistant)",
        "https://www.aapc.com/codes/coding-newsletters/my-oncology-hematology-coding-alert/heres-why-simultaneous-infusions-dont-always-equal-concurrent-code-article",
    ),
    "S25": Document(
        "ASCO, J Oncol Pract 2010;6(4):218, billing for infusion pumps (PMC2900877)",
        "http://pubmedcentralcanada.ca/pmcc/articles/PMC2900877/",
    ),
    "S26": Document(
        "AAPC alert, pump maintenance and port flushes",
        "https://aapc.com/codes/coding-newsletters/my-oncology-hematology-coding-alert/stay-compliant-get-paid-properly-for-pump-maintenance-and-port-flushes-article",
    ),
    "S27": Document("HCPCS G0498 descriptor", "https://hcpcsdata.vercel.app/codes/G0498"),
    "S28": Document(
        "CMS Medicare Coverage Database article A55134",
        "https://cms.gov/medicare-coverage-database/view/article.aspx?articleId=55134",
    ),
    "S29": Document(
        "IOM 100-04 ch.12 §30.5 on 96523 and the NCCI flush policy, as quoted",
        "https://medicare-faqs.com/what-will-medicare-pay-for-96523",
    ),
    "S30": Document(
        "36591/36592 NCCI restriction, summary",
        "https://grokipedia.com/page/CPT_codes_36591_and_36592",
    ),
    "S31": Document(
        "Regence reimbursement policy 109, Injection and Infusion Services",
        "https://www.regence.com/web/regence_provider/injection-and-infusion-services",
    ),
    "S32": Document(
        "HCPro Revenue Cycle Advisor, multiple infusions of the same substance",
        "https://revenuecycleadvisor.com/node/4136",
    ),
    "S33": Document(
        "MedLearn Q&A, stop time and calculated time",
        "https://medlearn.com/general-question-for-the-week-of-june-10-2024",
    ),
    "S34": Document(
        "Haugen Group, hydration infusion coding at midnight (quotes CMS R1702CP)",
        "https://www.thehaugengroup.com/hydration-infusion-coding-at-midnight-the-orphaned-service-interval/",
    ),
    "S39": Document(
        "ICD-10-CM Official Guidelines I.C.2.e.2, as reproduced",
        "https://icd10codingpro.com/codes/Z51.12",
    ),
    "S40": Document(
        "AAPC blog, anemia ICD-10-CM guidelines",
        "https://www.aapc.com/blog/50508-anemia-icd-10-cm-guidelines-update-clarification/",
    ),
    "S41": Document(
        "AAPC alert, neoplasm signs and symptoms sequencing",
        "https://www.aapc.com/codes/coding-newsletters/my-oncology-hematology-coding-alert/reader-questions-pay-attention-to-neoplasm-sign-and-symptoms-sequencing-173432-article",
    ),
    "S42": Document(
        "AAPC alert, inactive cancer codes (Z08/Z85)",
        "https://aapc.com/codes/coding-newsletters/my-oncology-hematology-coding-alert/oncologyhematology-coding-know-the-difference-between-these-inactive-cancer-codes-180315-article/rci",
    ),
    "S43": Document(
        "AAPC forum, chemotherapy encounter code sequencing (payer requests)",
        "https://www.aapc.com/discuss/threads/encounter-for-chemo-radio-or-immunotherapy-code-sequencing.182363/latest",
    ),
    "S44": Document(
        "Health Net California provider update 20-1026",
        "https://providerlibrary.healthnetcalifornia.com/news/20-1026-check-diagnosis-codes-to-avoid-claim-denials.html",
    ),
    "S45": Document(
        "AAPC alert, Z51.12 scope",
        "https://aapc.com/codes/coding-newsletters/my-oncology-hematology-coding-alert/reader-questions-stay-immune-to-this-antineoplastic-coding-error-169806-article",
    ),
    "S46": Document(
        "ASTRO coding FAQ, treatment delivery",
        "https://www.astro.org/Daily-Practice/Coding/Coding-Guidance/Coding-FAQ-39;s-and-Tips/FAQ-Treatment-Delivery",
    ),
    "S47": Document(
        "ASTRO coding FAQ, treatment planning",
        "https://www.astro.org/Daily-Practice/Coding/Coding-Guidance/Coding-FAQ-39;s-and-Tips/FAQ-Treatment-Planning",
    ),
    "S48": Document(
        "ASTRO coding FAQ, treatment management",
        "https://astro.org/practice-support/reimbursement/coding/coding-guidance/coding-faqs-and-tips/treatment-management",
    ),
    "S49": Document(
        "Noridian JE Part B, radiation oncology",
        "https://med.noridianmedicare.com/web/jeb/specialties/radiation-oncology",
    ),
    "S50": Document(
        "Blue Cross NC radiation therapy reimbursement policy (cites IOM 100-04 ch.4 §200.3)",
        "https://bluecrossnc.com/providers/policies-guidelines-codes/commercial/reimbursement/updates/radiation-therapy-services",
    ),
    "S52": Document(
        "Weekly treatment management unit rule (CMS manual text reproduced)",
        "https://radiologybillingcoding.com/2010/10/billing-cpt-77427-weekly-radiation.html",
    ),
    "S53": Document(
        "2015 CPT radiation oncology code changes, summary",
        "https://studylib.net/doc/14255495/2015-cpt-code-changes-eight--8--new-codes-four--4--revise...",
    ),
    "S54": Document(
        "AAPC blog, radiation oncology: everything old is new again (2015)",
        "https://www.aapc.com/blog/31336-radiation-oncology-everything-old-is-new-again/",
    ),
    "S55": Document(
        "G-code descriptors (G6004)",
        "https://www.openpayer.com/billing-codes/hcpcs-g6004-radiation-treatment-6-10-mev-single-port-simple-blocks",
    ),
    "S56": Document(
        "eviCore radiation therapy coding guideline, summary",
        "https://verity.backworkai.com/policy/EVICORE-RADIATION_ONCOLOGY-56D5ACA0",
    ),
    "S57": Document(
        "UnitedHealthcare EBRT fractionation policy, summary",
        "https://www.openpayer.com/policy-updates/unitedhealthcare/clinical-medical/radiation-oncology/unitedhealthcare-015ee3a3-640",
    ),
    "S58": Document(
        "CMS LCD L33937, Proton Beam Radiotherapy",
        "https://www.cms.gov/medicare-coverage-database/view/lcd.aspx?lcdId=33937&ver=18",
    ),
    "S59": Document(
        "AAPC alert, SBRT codes for Medicare",
        "https://aapc.com/codes/coding-newsletters/my-oncology-hematology-coding-alert/reader-questions-deliver-this-code-to-medicare-for-sbrt-treatments-172119-article",
    ),
    "S60": Document(
        "ASCO Post, single-fraction palliation of bone metastases (ASTRO Choosing Wisely)",
        "https://www.ascopost.com/issues/june-25-2020/extended-fraction-radiation-therapy-for-bone-metastases-represents-low-value-care-but-continues-to-be-widely-practiced/",
    ),
    "S61": Document(
        "UW Health IV infusion mini manual",
        "https://docslib.org/doc/9492712/uwhc-iv-infusion-mini-manual",
    ),
    "S62": Document(
        "Libman Education, facility hierarchy",
        "https://libmaneducation.com/learning-to-code-injections-and-infusions/",
    ),
    "S63": Document(
        "UCLA Health compliance drug administration guideline CY2009 (OPPS, C8957)",
        "http://medpdffinder.com/c/compliance.uclahealth.org1.html",
    ),
    "S64": Document(
        "Legal Clarity, 96375 additional IV push (cites CMS article A53778)",
        "https://legalclarity.org/cpt-96375-additional-iv-push-billing-and-coding/",
    ),
    "S65": Document(
        "Code descriptors for 96405/96406/96450/96369-96371/96377",
        "https://webhooks.codingahead.com/cpt/codes/96405",
    ),
    "S67": Document(
        "Palmetto GBA, MUE adjudication indicators",
        "https://www.palmettogba.com/palmetto/jma.nsf/DID/A44KL34718",
    ),
    # The rule pack's CMS data files.
    "PTP": Document(
        "CMS NCCI PTP edits, hospital outpatient as carried by the I/OCE "
        "(rules/data/ncci_ptp_hospital.csv); practitioner edits when the pack has them",
        f"{_NCCI}/medicare-ncci-procedure-procedure-ptp-edits",
    ),
    "MUE": Document(
        "CMS NCCI MUE files in the CMS published layout (rules/data/mue_facility.csv, "
        "mue_practitioner.csv)",
        f"{_NCCI}/medicare-ncci-medically-unlikely-edits",
    ),
    "HCPCS-Q": Document(
        "CMS I/OCE HCPCS table by quarter, status indicator (rules/data/hcpcs_quarters.csv)",
        _IOCE,
    ),
    "DRUGS": Document(
        "Drug catalogue from the CMS HCPCS Level II drug codes by quarter "
        "(rules/data/drug_codes.csv, drug_codes.README.md)",
        f"{_HCPCS}/quarterly-update",
    ),
    "IMRT": Document(
        "CMS I/OCE list of codes not billed with IMRT planning 77301 "
        "(rules/data/imrt_conflicts.csv)",
        _IOCE,
    ),
    "IOCE": Document(
        "CMS I/OCE drug administration add-on map (rules/data/addon_primary_map.csv)", _IOCE
    ),
    "ADDON": Document(
        "CMS I/OCE add-on code maps, types 1-3 (rules/data/addon_primary_map.csv)", _IOCE
    ),
    "ICD10CM": Document(
        "ICD-10-CM code set, CMS/NCHS April 1, 2026 release (rules/data/icd10cm_codes.csv)",
        _ICD10,
    ),
    "IOCE-DX": Document(
        "CMS I/OCE diagnosis table, unacceptable principal diagnosis "
        "(rules/data/icd10cm_unacceptable_pdx.csv)",
        _IOCE,
    ),
    "PACK": Document(
        "Rule pack manifest: each data release and the dates it covers (rules/data/sources.csv)",
        _IOCE,
    ),
}


def source(key: str) -> Citation:
    doc = SOURCES[key]
    label = doc.title if not key.startswith("S") else f"[{key}] {doc.title}"
    return Citation(source=label, url=doc.url)


SPECIFICATION = "Oncology coding rules specification (this project's summary of its sources)"
