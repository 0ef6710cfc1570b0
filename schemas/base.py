"""What every wire message shares: strictness, immutability and identifier shapes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

SCHEMA_VERSION: Literal["1"] = "1"


class WireModel(BaseModel):
    """Base of every message: unknown fields are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


# Identifiers are opaque tokens chosen by the billing platform. The character set
# keeps them safe to log (they are not patient identifiers) and to use as keys.
Identifier = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
]
HcpcsCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][0-9]{3}[A-Z0-9]$")]
Modifier = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{2}$")]
Icd10Code = Annotated[str, StringConstraints(pattern=r"^[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?$")]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=500)]
