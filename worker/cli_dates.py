"""Dates and times given on the command line: ISO 8601, aware, UTC when no zone is given.

``2026-11-01`` is midnight UTC; ``2026-11-01T08:00+01:00`` and ``2026-11-01T07:00Z`` keep
their zone. Recorded times are aware, so a naive bound could not be compared with them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import typer

FORMATS = "YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM], UTC when no zone is given"


def aware_datetime(value: str | datetime) -> datetime:
    if isinstance(value, datetime):  # a default given as a datetime
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise typer.BadParameter(f"not a date or time: write {FORMATS}") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
