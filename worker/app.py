"""The worker application: FastStream hosts it, aiokafka transactions carry the hot path.

FastStream gives the lifespan, the health routes and the AsyncAPI document. It
cannot carry a Kafka transaction across a consume-process-produce cycle, so the
exactly-once loop (``worker.processor.ClaimProcessor``) runs as a task inside the
app's lifespan. The app's broker only answers the readiness ping; the AsyncAPI
document is written from the topology (``worker.asyncapi``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable

from faststream.asgi import AsgiFastStream, AsgiResponse, HttpHandler, get
from faststream.kafka import KafkaBroker

from rules import ENGINE_VERSION
from worker.asyncapi import TopologyDocument
from worker.logs import get_logger
from worker.processor import ClaimProcessor
from worker.settings import Settings

log = get_logger("worker.app")

SHUTDOWN_GRACE_S = 30.0

# FastStream's own lifecycle lines, through the standard library into the JSON handler.
_faststream_log = logging.getLogger("oncoscrub.faststream")


class WorkerApp:
    """The app plus the processor task it runs, so the CLI can tell how it ended."""

    def __init__(self, settings: Settings, on_fatal: Callable[[], None] | None = None) -> None:
        self.settings = settings
        self.processor = ClaimProcessor(settings)
        self.failed = False
        self._on_fatal = on_fatal
        self._task: asyncio.Task[None] | None = None
        self.broker = KafkaBroker(
            settings.bootstrap_servers, client_id="oncoscrub-health", logger=_faststream_log
        )
        self.asgi = AsgiFastStream(
            self.broker,
            asgi_routes=[
                ("/health/live", self._live()),
                ("/health/ready", self._ready()),
                ("/metrics", self._metrics()),
            ],
            asyncapi_path="/docs/asyncapi",
            logger=_faststream_log,
            after_startup=[self._start_processor],
            on_shutdown=[self._stop_processor],
            specification=TopologyDocument(
                self.processor.topology,
                settings.bootstrap_servers,
                title="oncoscrub worker",
                version=ENGINE_VERSION,
                description="Oncology claim scrubber: exactly-once claim routing on Kafka.",
            ),
        )

    async def _start_processor(self) -> None:
        try:
            await self.processor.start()
        except Exception as exc:
            # Refused topics, an unreachable broker: say so and exit non-zero, not hang in
            # a lifespan that failed.
            self.failed = True
            log.error("processor_start_failed", error=type(exc).__name__)
            if self._on_fatal is not None:
                self._on_fatal()
            return
        self._task = asyncio.create_task(self.processor.run(), name="claim-processor")
        self._task.add_done_callback(self._processor_done)

    def _processor_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        self.failed = True
        log.error("processor_failed", error=type(task.exception()).__name__)
        if self._on_fatal is not None:
            self._on_fatal()

    async def _stop_processor(self) -> None:
        self.processor.stop()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._task), SHUTDOWN_GRACE_S)
        await self.processor.close()

    def _live(self) -> HttpHandler:
        @get(description="The processing loop is alive.")
        async def live(scope: object) -> AsgiResponse:
            alive = self._task is not None and not self._task.done()
            return AsgiResponse(b"", 204 if alive else 503)

        return live

    def _ready(self) -> HttpHandler:
        @get(description="The worker is consuming and the broker answers.")
        async def ready(scope: object) -> AsgiResponse:
            ok = self.processor.ready and await self.broker.ping(timeout=2.0)
            body = {
                "ready": ok,
                "partitions": [tp.partition for tp in self.processor.owned_partitions],
                "fenced": self.processor.stats.fenced,
            }
            return AsgiResponse(
                json.dumps(body).encode(),
                200 if ok else 503,
                headers={"content-type": "application/json"},
            )

        return ready

    def _metrics(self) -> HttpHandler:
        @get(description="Prometheus text exposition of the processing counters.")
        async def metrics(scope: object) -> AsgiResponse:
            return AsgiResponse(
                self.processor.stats.exposition(time.monotonic()).encode(),
                200,
                headers={"content-type": "text/plain; version=0.0.4"},
            )

        return metrics


def create_app() -> AsgiFastStream:
    """For FastStream's CLI: ``faststream run worker.app:create_app --factory``.

    ``oncoscrub worker`` is the supported entry point: it also exits non-zero when
    the processing loop fails, so a supervisor restarts the worker.
    """
    from worker.logs import configure

    settings = Settings()
    configure(settings.log_level)
    return WorkerApp(settings).asgi
