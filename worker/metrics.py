"""The processing counters and their Prometheus text exposition (``GET /metrics``).

Counters only: ids, offsets and outcomes, never anything from a claim.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Stats:
    records: int = 0
    batches: int = 0
    aborted: int = 0
    fenced: int = 0
    dropped_stale: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    last_commit_monotonic: float | None = None

    def committed(self, records: int, outcomes: Counter[str], at_monotonic: float) -> None:
        self.records += records
        self.batches += 1
        self.outcomes.update(outcomes)
        self.last_commit_monotonic = at_monotonic

    def exposition(self, now_monotonic: float) -> str:
        lines = [
            "# TYPE oncoscrub_records_total counter",
            f"oncoscrub_records_total {self.records}",
            "# TYPE oncoscrub_batches_total counter",
            f"oncoscrub_batches_total {self.batches}",
            "# TYPE oncoscrub_transactions_aborted_total counter",
            f"oncoscrub_transactions_aborted_total {self.aborted}",
            "# TYPE oncoscrub_producer_fenced_total counter",
            f"oncoscrub_producer_fenced_total {self.fenced}",
            "# TYPE oncoscrub_decisions_total counter",
            *(
                f'oncoscrub_decisions_total{{outcome="{k}"}} {v}'
                for k, v in sorted(self.outcomes.items())
            ),
        ]
        if self.last_commit_monotonic is not None:
            age = now_monotonic - self.last_commit_monotonic
            lines += [
                "# TYPE oncoscrub_seconds_since_commit gauge",
                f"oncoscrub_seconds_since_commit {age:.3f}",
            ]
        return "\n".join(lines) + "\n"

    def log_fields(self) -> dict[str, object]:
        return {
            "records": self.records,
            "batches": self.batches,
            "aborted": self.aborted,
            "fenced": self.fenced,
            "outcomes": dict(self.outcomes),
        }
