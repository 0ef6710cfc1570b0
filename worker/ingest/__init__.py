"""Claims as billing platforms send them: ASC X12 837I/837P and FHIR R4, onto v1 claims.

Pure adapters (no Kafka, no clock, no environment): the worker and batch mode call them.

* ``sniff`` — JSON v1, X12 or FHIR, from a ``content-type`` value or the bytes;
* ``record`` — ``claims_of_record``: one input record's claims as v1 JSON, each with the
  claim as it came, or a failure of the whole record (``worker.ingest_judge`` decides them);
* ``x12`` — ``parse_837``: an interchange's envelopes checked, its claims read one by one
  (``x12_envelope``, ``x12_split``);
* ``x12_out`` — ``corrected_837`` for a decided claim, ``finding_locations`` for review;
* ``fhir`` — ``parse_claim_bundle`` (a claim with its MAR) and ``parse_mar_bundle``
  (MAR entries by patient reference, for the join);
* ``mar_join`` — ``join_mar``: an 837 claim with its patient's MAR by service dates;
* ``patient_ref`` — the pseudonymous patient reference (HMAC of payer and member id);
* ``reasons`` — located reasons that never carry a value.

The mapping tables are in docs/ingest-mapping.md.
"""
