"""OpenTelemetry spans for each transaction, and W3C trace context from inputs to outputs.

Per transaction: a ``process <topic>`` span (kind consumer) with two children, ``decide``
and ``commit``. A transaction holds many input records, each perhaps with a trace of its
own (its ``traceparent`` header): when they all belong to one trace the transaction's span
continues it; otherwise it starts a trace of its own, linked to each input's context, as
OpenTelemetry's messaging conventions do for batches. Every output record carries the
transaction span's context, so a consumer downstream continues from this worker's hop.

Off unless configured through the SDK's own variables: ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) or ``OTEL_TRACES_EXPORTER`` (``otlp``, ``console`` or
``none``); ``OTEL_SDK_DISABLED=true`` turns it off whatever else is set. Spans go over
OTLP/HTTP. Off, no span is recorded and each output carries its own input's context
unchanged, so a trace still crosses the worker.

Span attributes name topics, partitions, offsets and counts, never anything from a claim.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import Getter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)
from opentelemetry.trace import Link, Span, SpanContext, SpanKind, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

KafkaHeaders = Sequence[tuple[str, bytes]]
TRACE_HEADERS = ("traceparent", "tracestate")
SERVICE_NAME = "oncoscrub-worker"
# A transaction of 500 records from as many traces keeps the SDK's default link limit.
MAX_LINKS = 128

_PROPAGATOR = TraceContextTextMapPropagator()


class TracingConfigError(ValueError):
    """An OTEL_* variable asks for something this worker cannot do."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem


class _KafkaHeaderGetter(Getter[KafkaHeaders]):
    """Trace headers of a Kafka record; names compared case-insensitively, values that are
    not UTF-8 ignored (input headers are untrusted, and the W3C parser checks the rest)."""

    def get(self, carrier: KafkaHeaders, key: str) -> list[str] | None:
        values = []
        for name, value in carrier:
            if name.lower() == key and value is not None:
                try:
                    values.append(value.decode())
                except UnicodeDecodeError:
                    continue
        return values or None

    def keys(self, carrier: KafkaHeaders) -> list[str]:
        return [name.lower() for name, _ in carrier]


_GETTER = _KafkaHeaderGetter()


def input_context(headers: KafkaHeaders | None) -> SpanContext | None:
    """The remote span context a record's headers carry, if valid."""
    if not headers:
        return None
    ctx = trace.get_current_span(_PROPAGATOR.extract(headers, getter=_GETTER)).get_span_context()
    return ctx if ctx.is_valid else None


def _passed_through(headers: KafkaHeaders | None) -> tuple[tuple[str, bytes], ...]:
    if input_context(headers) is None:
        return ()
    return tuple((n.lower(), v) for n, v in headers or () if n.lower() in TRACE_HEADERS)


@dataclass
class Transaction:
    """One transaction's spans; its context is what the outputs carry."""

    _tracer: trace.Tracer | None
    _span: Span
    _context: Context

    @contextlib.contextmanager
    def decide(self) -> Iterator[Span]:
        """Deciding the transaction's records."""
        with self._child("decide") as span:
            yield span

    @contextlib.contextmanager
    def commit(self, records: int) -> Iterator[Span]:
        """Writing and committing the transaction, of ``records`` inputs."""
        self._span.set_attribute("messaging.batch.message_count", records)
        with self._child("commit") as span:
            span.set_attribute("messaging.batch.message_count", records)
            yield span

    def aborted(self, error: str) -> None:
        """The transaction was aborted (``error``: the exception's class name)."""
        self._span.set_status(StatusCode.ERROR, error)
        self._span.set_attribute("error.type", error)

    def headers_for(self, parent: KafkaHeaders | None) -> tuple[tuple[str, bytes], ...]:
        """The trace headers of an output record whose input had the headers ``parent``."""
        if self._tracer is None:
            return _passed_through(parent)
        # A span the sampler dropped still has a context: passing it on passes the decision.
        carrier: dict[str, str] = {}
        _PROPAGATOR.inject(carrier, context=self._context)
        return tuple((k, v.encode()) for k, v in sorted(carrier.items()))

    def traceparent_for(self, parent: KafkaHeaders | None) -> str | None:
        """The ``traceparent`` alone of ``headers_for`` (what ``worker.decide.link`` takes)."""
        for name, value in self.headers_for(parent):
            if name == "traceparent":
                return value.decode()
        return None

    @contextlib.contextmanager
    def _child(self, name: str) -> Iterator[Span]:
        if self._tracer is None:
            yield trace.INVALID_SPAN
            return
        # Not made the current span: the processor's partitions run as concurrent tasks.
        span = self._tracer.start_span(name, context=self._context)
        with _ended(span):
            yield span


class Tracing:
    """The worker's tracer; ``provider`` None: off."""

    def __init__(self, provider: TracerProvider | None = None) -> None:
        self._provider = provider
        self._tracer = provider.get_tracer("oncoscrub.worker") if provider is not None else None

    @property
    def enabled(self) -> bool:
        return self._tracer is not None

    @contextlib.contextmanager
    def transaction(
        self, topic: str, partition: int, inputs: Sequence[KafkaHeaders | None], first_offset: int
    ) -> Iterator[Transaction]:
        """The span of one transaction over ``inputs`` (each input record's headers)."""
        if self._tracer is None:
            yield Transaction(None, trace.INVALID_SPAN, Context())
            return
        contexts = _distinct(input_context(h) for h in inputs)
        traces = {c.trace_id for c in contexts}
        parent = contexts[0] if len(traces) == 1 else None
        links = [Link(c) for c in contexts if c is not parent][:MAX_LINKS]
        start = trace.set_span_in_context(trace.NonRecordingSpan(parent)) if parent else Context()
        span = self._tracer.start_span(
            f"process {topic}",
            context=start,
            kind=SpanKind.CONSUMER,
            links=links,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.destination.name": topic,
                "messaging.destination.partition.id": str(partition),
                "messaging.kafka.offset": first_offset,
                "messaging.batch.message_count": len(inputs),
            },
        )
        with _ended(span):
            yield Transaction(self._tracer, span, trace.set_span_in_context(span))

    def shutdown(self) -> None:
        """Export what is buffered and stop (blocks up to the exporter's timeout)."""
        if self._provider is not None:
            self._provider.shutdown()


@contextlib.contextmanager
def _ended(span: Span) -> Iterator[None]:
    """End the span when the block ends; an exception leaving it is recorded on it."""
    try:
        yield
    except BaseException as exc:
        span.record_exception(exc)
        span.set_status(StatusCode.ERROR, type(exc).__name__)
        raise
    finally:
        span.end()


def _distinct(contexts: Iterator[SpanContext | None]) -> list[SpanContext]:
    seen: dict[tuple[int, int], SpanContext] = {}
    for c in contexts:
        if c is not None:
            seen.setdefault((c.trace_id, c.span_id), c)
    return list(seen.values())


def exporter_from_env(environ: Mapping[str, str]) -> SpanExporter | None:
    """The span exporter the OTEL_* variables ask for; None: tracing is off."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    names = [n.strip().lower() for n in environ.get("OTEL_TRACES_EXPORTER", "").split(",")]
    names = [n for n in names if n]
    endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    if not names:
        names = ["otlp"] if endpoint else []
    if not names or names == ["none"]:
        return None
    if len(names) > 1:
        raise TracingConfigError("OTEL_TRACES_EXPORTER", "one exporter only: otlp, console or none")
    if names[0] == "console":
        return ConsoleSpanExporter()
    if names[0] != "otlp":
        raise TracingConfigError("OTEL_TRACES_EXPORTER", "must be otlp, console or none")
    protocol = environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
    )
    if protocol != "http/protobuf":
        variable = (
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
            if "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL" in environ
            else "OTEL_EXPORTER_OTLP_PROTOCOL"
        )
        raise TracingConfigError(variable, "the worker exports over OTLP/HTTP: http/protobuf")
    # Imported only when used: it loads protobuf and requests.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    # The exporter reads the endpoint, headers, timeout and certificates from the same
    # variables itself.
    return OTLPSpanExporter()


def tracing_from_env(service_version: str) -> Tracing:
    """The worker's tracing as the OTEL_* variables configure it (off when they do not).

    Raises ``TracingConfigError`` for a variable it cannot honour."""
    env = os.environ
    exporter = exporter_from_env(env)
    if exporter is None:
        return Tracing(None)
    attributes: dict[str, str] = {"service.version": service_version}
    if "service.name=" not in env.get("OTEL_RESOURCE_ATTRIBUTES", "") and not env.get(
        "OTEL_SERVICE_NAME"
    ):
        attributes["service.name"] = SERVICE_NAME
    # Resource.create adds OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES; the provider reads
    # the sampler (OTEL_TRACES_SAMPLER) and the batch processor its OTEL_BSP_* limits.
    provider = TracerProvider(resource=Resource.create(attributes))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return Tracing(provider)
