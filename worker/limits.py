"""The size arithmetic between topics, closed: the largest input the worker accepts, and
the largest record any topic it writes must then take.

Every record the worker writes is bounded here, by construction:

* a dead-letter record is the input record's value and key, byte for byte, plus the
  worker's four headers: at most the input topic's ``max.message.bytes`` plus
  ``DEAD_LETTER_HEADROOM``;
* a decision (scrubbed claim or review request) is at most ``max_decision_bytes``:
  ``decide`` measures each one and routes a larger one to review as
  ``decision_too_large`` with only the original bytes (base64), whose size follows
  from ``max_claim_bytes`` (``guarded_review_bytes``);
* an audit event is measured the same way; the guarded one carries the input in
  base64 plus fixed fields (``guarded_audit_bytes``);
* a record key is a claim id (64 characters at most) or the input's key, replaced by
  its digest when longer than ``MAX_KEY_BYTES``.

``required_topic_bytes`` turns that into the ``max.message.bytes`` each topic needs;
``worker.topic_check`` compares it with the brokers' actual configuration at start-up.
"""

from __future__ import annotations

import hashlib
import math

# A record's framing in a batch of one (the 61-byte batch header, the record's varints,
# attributes and timestamps) and its key: the key is a claim id, a bounded input key or
# its "sha256:" digest.
MAX_KEY_BYTES = 256
RECORD_OVERHEAD = 1024
# The dead-letter headers (x-reason, x-reason-detail, x-source with a topic name of up
# to 249 characters, x-engine-version) with their names and framing.
DEAD_LETTER_HEADROOM = 4096
# Everything in a guarded review request but the original's base64: claim id and
# version, one reason (message of 500 characters, location of 200), the rule pack's
# reference, the engine version and the field names.
_REVIEW_FIXED = 4096
# Everything in an audit event but the input's base64, reason codes and rule ids: the
# chain link, ids, digests, topic names (249 characters each), the worker id (200 at
# most), the rule pack's reference and timestamps.
AUDIT_FIXED = 4096
MAX_WORKER_ID = 200


def base64_bytes(n: int) -> int:
    return 4 * math.ceil(n / 3)


def guarded_review_bytes(max_claim_bytes: int) -> int:
    """The largest review request that carries only an input's bytes (base64)."""
    return base64_bytes(max_claim_bytes) + _REVIEW_FIXED


def guarded_audit_bytes(max_claim_bytes: int) -> int:
    """The largest audit event of a guarded decision (one reason, no rule ids)."""
    return base64_bytes(max_claim_bytes) + AUDIT_FIXED + 64


def smallest_decision_cap(max_claim_bytes: int) -> int:
    """``max_decision_bytes`` must be at least this: the guarded records must fit it."""
    return max(guarded_review_bytes(max_claim_bytes), guarded_audit_bytes(max_claim_bytes))


def decision_topic_bytes(max_decision_bytes: int) -> int:
    """``max.message.bytes`` a decision or audit topic needs."""
    return max_decision_bytes + RECORD_OVERHEAD


def dead_letter_topic_bytes(input_topic_bytes: int) -> int:
    """``max.message.bytes`` the dead-letter topic needs, given the input topic's."""
    return input_topic_bytes + DEAD_LETTER_HEADROOM


def bounded_key(key: bytes | None) -> bytes | None:
    """An input key as the key of a decision or audit record: whole when short, else its
    digest (a hostile key must not push a record past its topic's limit)."""
    if key is None or len(key) <= MAX_KEY_BYTES:
        return key
    return b"sha256:" + hashlib.sha256(key).hexdigest().encode()
