"""The pseudonymous patient reference: a keyed hash of payer and member id.

An 837 and a FHIR Bundle name the patient by payer and member id (plus, for a
dependent without an id of their own, name and date of birth). None of that may
travel in a decision or a log line, yet a claim and its MAR, sent separately, must
meet on the same key. An HMAC-SHA256 under a secret from settings gives both: the same
patient always gets the same reference, and without the key nobody can go from the
reference back to a member id, or test a guess of one.

The key is passed in (the worker reads it from its settings); nothing here reads the
environment.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

PREFIX = "PR1-"  # the scheme's version: a new scheme or key gets a new prefix
MIN_KEY_BYTES = 32
_DIGEST_HEX = 48  # 192 bits: collisions are out of reach, and the reference stays short
_NOT_ALNUM = re.compile(r"[^0-9A-Z]")


class PatientKeyError(ValueError):
    """The secret is unusable or an identifier is empty (says which, never the value)."""


@dataclass(frozen=True, slots=True)
class Dependent:
    """A patient under the subscriber's member id (837 loop 2000C; FHIR Coverage with a
    relationship other than self): the id alone would give them the subscriber's
    reference, so their date of birth and first name are part of the hash."""

    birth_date: date
    first_name: str


def normalise(value: str) -> str:
    """Upper case, letters and digits only: ``abc-123 45`` and ``ABC12345`` are one member
    id, whichever system wrote it."""
    text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return _NOT_ALNUM.sub("", text.upper())


def patient_reference(
    key: bytes, payer_id: str, member_id: str, dependent: Dependent | None = None
) -> str:
    """``PR1-`` and 48 hex digits of HMAC-SHA256(key, payer | member id [| dob | name])."""
    if len(key) < MIN_KEY_BYTES:
        raise PatientKeyError(f"the patient reference key must be at least {MIN_KEY_BYTES} bytes")
    payer, member = normalise(payer_id), normalise(member_id)
    if not payer:
        raise PatientKeyError("the payer id is empty")
    if not member:
        raise PatientKeyError("the member id is empty")
    parts = [payer, member]
    if dependent is not None:
        first = normalise(dependent.first_name)
        if not first:
            raise PatientKeyError("the dependent's first name is empty")
        parts += [dependent.birth_date.isoformat(), first]
    digest = hmac.new(key, "|".join(parts).encode(), hashlib.sha256).hexdigest()
    return PREFIX + digest[:_DIGEST_HEX]
