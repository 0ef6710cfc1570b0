"""The pure domain engine: no Kafka, no I/O, no clock.

``assess(claim)`` is the single entry point the worker calls; rule packs plug
in behind it.
"""

from rules.engine import ENGINE_VERSION, Assessment, assess, rule_pack

__all__ = ["ENGINE_VERSION", "Assessment", "assess", "rule_pack"]
