"""Structured JSON logs (structlog), for our events and for every library's.

Events carry ids, offsets, outcomes and timings, never claim contents: nothing
from a claim but its opaque id reaches a log line. Libraries that log through
the standard library (aiokafka, uvicorn, FastStream) are rendered as JSON too.
"""

from __future__ import annotations

import logging
import sys

import structlog

# Locals of a failing frame may hold a claim: render tracebacks without them.
_EXCEPTIONS = structlog.processors.ExceptionRenderer(
    structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
)
_SHARED: list[structlog.typing.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure(level: str = "INFO") -> None:
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
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
        logger_factory=structlog.WriteLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(name)
    return logger
