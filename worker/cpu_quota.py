"""How many CPUs this process may use: the fewest of its CPU affinity and its cgroup's CPU
quota. ``os.cpu_count()`` is the machine's count: a container limited to 2 CPUs on a
64-core node would otherwise start 64 deciding processes, each holding the rule pack."""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")


def quota_cpus(root: Path = CGROUP) -> float | None:
    """The cgroup's CPU limit in CPUs (v2 ``cpu.max``, else v1 CFS quota); None if unlimited."""
    try:
        fields = (root / "cpu.max").read_text().split()
    except OSError:
        fields = []
    if len(fields) == 2:
        quota, period = fields
        return None if quota == "max" else _ratio(quota, period)
    try:
        quota = (root / "cpu" / "cpu.cfs_quota_us").read_text().strip()
        period = (root / "cpu" / "cpu.cfs_period_us").read_text().strip()
    except OSError:
        return None
    return None if quota.startswith("-") else _ratio(quota, period)


def _ratio(quota: str, period: str) -> float | None:
    try:
        q, p = int(quota), int(period)
    except ValueError:
        return None
    return q / p if q > 0 and p > 0 else None


def available_cpus(root: Path = CGROUP) -> int:
    """Whole CPUs this process can keep busy (at least 1): a quota of 1.5 CPUs is 1."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        count = os.cpu_count() or 1
    quota = quota_cpus(root)
    if quota is not None:
        count = min(count, math.floor(quota))
    return max(1, count)
