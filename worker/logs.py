"""Structured JSON logs (structlog), for our events and for every library's.

Events carry offsets, outcomes and timings, never claim contents. Not even a claim's
id is logged as given: a platform's id may be, or embed, a medical record or social
security number. A decision's line carries ``claim_ref``, a keyed digest of the id
(HMAC-SHA-256 with ``ONCOSCRUB_LOG_ID_KEY``); ``oncoscrub claim-ref ID`` computes it to
search the logs for a claim. Keyed, so that nobody without the key can test guesses
(all nine-digit numbers, say) against a log. Libraries that log through the standard
library (aiokafka, uvicorn, FastStream) are rendered as JSON too.

Every line is one JSON object: ``timestamp``, ``level``, ``logger``, ``message``, then the
event's fields, and a traceback as ``exception``, a list of structured frames (without
locals). The Kafka clients' reconnect noise is bounded (``worker.broker_churn``).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import secrets
import sys
from typing import Any, TextIO, cast

import structlog
from pydantic import SecretStr

from worker.broker_churn import LIBRARIES, BrokerChurn

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# The keys every line starts with, in this order; a traceback comes last.
_FIRST = ("timestamp", "level", "logger", "message")


class UnknownLogLevelError(ValueError):
    """A log level that is not one of ``LEVELS``."""


def level_number(level: str) -> int:
    """The ``logging`` number of a level name (any case); an unknown name is refused, not
    taken as INFO. The name given is not repeated: settings errors never echo their input."""
    name = level.strip().upper()
    if name not in LEVELS:
        raise UnknownLogLevelError(f"unknown log level: expected one of {', '.join(LEVELS)}")
    return logging.getLevelNamesMapping()[name]


def _shape(
    _logger: object, _method: str, event: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    """``event`` renamed ``message``, the fixed keys first. A library's message of several
    lines (asyncio's, Python's warnings) keeps its first line, the rest as ``detail``."""
    message = str(event.pop("event", ""))
    if "\n" in message:
        first, *rest = message.strip().splitlines() or [""]
        message = first
        detail = [line.strip() for line in rest if line.strip()]
        if detail:
            event.setdefault("detail", detail)
    event["message"] = message
    exception = event.pop("exception", None)
    shaped = {k: event.pop(k) for k in _FIRST if k in event}
    shaped.update(event)
    if exception is not None:
        shaped["exception"] = _without_inputs(exception)
    return shaped


def _without_inputs(exception: object) -> object:
    """pydantic's ValidationError repeats the values it refused (``input_value=...``): only
    its first line, the error count and the model, is kept."""
    if isinstance(exception, list):
        for entry in exception:
            if isinstance(entry, dict) and entry.get("exc_type") == "ValidationError":
                entry["exc_value"] = str(entry.get("exc_value", "")).split("\n", 1)[0]
    return exception


# Locals of a failing frame may hold a claim: render tracebacks without them.
_EXCEPTIONS = structlog.processors.ExceptionRenderer(
    structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
)
_SHARED: list[structlog.typing.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]
_RENDER: list[structlog.typing.Processor] = [
    _EXCEPTIONS,
    _shape,
    structlog.processors.JSONRenderer(),
]


class _CurrentStderr(io.TextIOBase):
    """``sys.stderr`` as it is when a line is written, not when logging was configured: a
    test runner's capture or a daemon may replace the stream, and a line must never fail
    because the one bound at configuration was closed since."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The JSON handler of the standard library's records; closing it says what the Kafka
    clients' filter still holds back."""

    def __init__(self, churn: BrokerChurn) -> None:
        super().__init__(_CurrentStderr())
        self.churn = churn
        self.addFilter(churn)

    def close(self) -> None:
        self.churn.close()
        super().close()


class _NamedWriteLogger(structlog.WriteLogger):
    """structlog's fast writer, with the name ``add_logger_name`` reads."""

    def __init__(self, file: TextIO, name: str) -> None:
        super().__init__(file)
        self.name = name


def _named_writers(*args: Any) -> _NamedWriteLogger:
    return _NamedWriteLogger(cast(TextIO, _CurrentStderr()), str(args[0]) if args else "")


def _emit_broker(level: str, message: str, **fields: object) -> None:
    getattr(get_logger("worker.broker"), level)(message, **fields)


_churn: BrokerChurn | None = None  # the filter of the handler ``configure`` installed


def broker_answered(how: str = "the broker answered a request") -> None:
    """Tell the log that the broker answered (a health check, a commit): an outage being
    logged ends now rather than after the clients have been quiet for a while."""
    if _churn is not None:
        _churn.answered(how)


def configure(level: str = "INFO") -> None:
    """JSON lines on stderr for our events and every library's (see the module's account).
    Raises ``UnknownLogLevelError`` for a level not in ``LEVELS``."""
    numeric = level_number(level)
    # Libraries are chatty below warning (every connection attempt): warnings and up only.
    library_floor = max(numeric, logging.WARNING)
    global _churn
    churn = _churn = BrokerChurn(_emit_broker, library_floor)
    handler = _Handler(churn)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*_SHARED, structlog.stdlib.add_logger_name],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *_RENDER],
        )
    )
    root = logging.getLogger()
    for old in root.handlers:
        if isinstance(old, _Handler):  # ours: its filter says what it held back, then stops
            old.close()
    root.handlers[:] = [handler]
    root.setLevel(library_floor)
    # The Kafka clients' info lines reach the filter, which reads in them that the broker
    # answered (and drops them below the floor).
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(logging.INFO)
    # Python's warnings (deprecations, unclosed resources) as JSON lines, not bare text.
    logging.captureWarnings(True)
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.add_logger_name, *_RENDER],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        # It writes and flushes only, which is all WriteLogger asks of a TextIO.
        logger_factory=_named_writers,
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    """A logger whose lines carry ``logger``: ``name``."""
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
