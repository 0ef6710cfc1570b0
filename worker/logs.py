"""Structured JSON logs (structlog), for our events and for every library's.

Events carry offsets, outcomes and timings, never claim contents. Not even a claim's
id is logged as given: a platform's id may be, or embed, a medical record or social
security number. A decision's line carries ``claim_ref``, a keyed digest of the id
(HMAC-SHA-256 with ``ONCOSCRUB_LOG_ID_KEY``); ``oncoscrub claim-ref ID`` computes it to
search the logs for a claim. Keyed, so that nobody without the key can test guesses
(all nine-digit numbers, say) against a log. Libraries that log through the standard
library (aiokafka, uvicorn, FastStream) are rendered as JSON too.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import secrets
import sys
from typing import TextIO, cast

import structlog
from pydantic import SecretStr

# Locals of a failing frame may hold a claim: render tracebacks without them.
_EXCEPTIONS = structlog.processors.ExceptionRenderer(
    structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
)
_SHARED: list[structlog.typing.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


class _CurrentStderr(io.TextIOBase):
    """``sys.stderr`` as it is when a line is written, not when logging was configured: a
    test runner's capture or a daemon may replace the stream, and a line must never fail
    because the one bound at configuration was closed since."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure(level: str = "INFO") -> None:
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    handler = logging.StreamHandler(_CurrentStderr())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*_SHARED, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                _EXCEPTIONS,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # Libraries are chatty at INFO (every connection attempt); warnings and up only.
    root.setLevel(max(numeric, logging.WARNING))
    structlog.configure(
        processors=[*_SHARED, _EXCEPTIONS, structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        # It writes and flushes only, which is all WriteLogger asks of a TextIO.
        logger_factory=structlog.WriteLoggerFactory(file=cast(TextIO, _CurrentStderr())),
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(name)
    return logger


class ClaimRefs:
    """Claim id -> the keyed digest logged in its place."""

    def __init__(self, key: SecretStr | None) -> None:
        self.random_key = key is None
        self._key = secrets.token_bytes(32) if key is None else key.get_secret_value().encode()

    def __call__(self, claim_id: str | None) -> str | None:
        if claim_id is None:
            return None
        digest = hmac.new(self._key, claim_id.encode(), hashlib.sha256).hexdigest()
        return f"c-{digest[:20]}"
