"""The worker process: the exactly-once processor, its health routes, metrics and contract.

The processor (``worker.processor.ClaimProcessor``) carries the Kafka transactions; this
module runs it and tells the truth about it:

* start-up is bounded: a bootstrap broker must accept a connection and the processor must
  have started (topics checked, deciding pool up, group joined) within
  ``ONCOSCRUB_STARTUP_TIMEOUT_S``, or the worker exits 3 (``worker.lifecycle``);
* every run ends with one ``worker_stopped`` line and an exit code that says how;
* ``/health/live`` answers 204 while the worker starts or runs, 503 once it failed or is
  stopping; ``/health/ready`` 200 only while it processes and the cluster answered its latest
  check (``worker.broker_watch``);
* ``/metrics`` (``worker.metrics``) in Prometheus text or OpenMetrics, as the scraper asks;
* ``/docs/asyncapi`` is the AsyncAPI document as a page that loads nothing from elsewhere,
  ``/docs/asyncapi.json`` the document itself (``worker.asyncapi``).

Starlette serves the routes under uvicorn. FastStream writes the AsyncAPI document; its
application is not used, as it connects a broker of its own before anything else starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Iterator
from enum import StrEnum

import uvicorn
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    NodeNotReadyError,
    RequestTimedOutError,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from worker.asyncapi import TopologyDocument, render_html
from worker.broker_watch import BrokerWatch
from worker.lifecycle import (
    ConfigInvalidError,
    Ending,
    Exit,
    bootstrap_addresses,
    wait_for_brokers,
)
from worker.logs import get_logger
from worker.metrics import WorkerMetrics
from worker.processor import ClaimProcessor
from worker.settings import Settings
from worker.tracing import Tracing
from worker.version import VersionStory, version_story

log = get_logger("worker.app")

# How long a stop waits for the in-flight batch, then for the clients to close.
SHUTDOWN_GRACE_S = 30.0
CLOSE_GRACE_S = 30.0
TRACES_FLUSH_S = 5.0
# Errors of a start-up that did not get through to the brokers (not a refusal by them).
_UNREACHABLE = (KafkaConnectionError, NodeNotReadyError, RequestTimedOutError, KafkaTimeoutError)


class State(StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    FAILED = "failed"
    STOPPED = "stopped"


class _GracefulServer(uvicorn.Server):
    """uvicorn re-raises SIGTERM/SIGINT after a graceful shutdown, so the process would report
    death by signal; the worker's exit code says how it ended instead."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            self._captured_signals.clear()


class WorkerApp:
    """One worker: the processor, its routes, and how its run ended (``ending``)."""

    def __init__(
        self, settings: Settings, tracing: Tracing | None = None, story: VersionStory | None = None
    ) -> None:
        self.settings = settings
        self.story = story if story is not None else version_story(settings.rule_pack_dir)
        self.metrics = WorkerMetrics(self.story.labels())
        self.tracing = tracing if tracing is not None else Tracing(None)
        self.processor = ClaimProcessor(settings, self.metrics, self.tracing)
        self.asyncapi = TopologyDocument(
            self.processor.topology,
            settings.bootstrap_servers,
            title="oncoscrub worker",
            version=self.story.engine,
            description="Oncology claim scrubber: exactly-once claim routing on Kafka.",
        )
        self.watch = BrokerWatch(
            lambda: settings.kafka.options(), client_id=f"oncoscrub-{settings.worker_id}-health"
        )
        self.metrics.watch_broker(lambda: self.watch.up)
        self.state = State.STARTING
        self.ending: Ending | None = None
        self._run_task: asyncio.Task[None] | None = None
        self._reached_brokers = False
        self._processor_starting = False
        self._closed = False
        self._server: uvicorn.Server | None = None
        self.asgi = Starlette(
            routes=[
                Route("/health/live", self._live, methods=["GET"]),
                Route("/health/ready", self._ready, methods=["GET"]),
                Route("/metrics", self._metrics, methods=["GET"]),
                Route("/docs/asyncapi", self._asyncapi_page, methods=["GET"]),
                Route("/docs/asyncapi.json", self._asyncapi_json, methods=["GET"]),
            ],
            lifespan=self._lifespan,
        )

    # -- running ------------------------------------------------------------------------------

    def serve(self) -> Ending:
        """Serve until stopped or failed; how it ended."""
        s = self.settings
        config = uvicorn.Config(
            self.asgi,
            host=s.health_host,
            port=s.health_port,
            log_config=None,
            access_log=False,
            lifespan="on",
        )
        self._server = _GracefulServer(config)
        asyncio.run(self._serve(self._server))
        assert self.ending is not None
        return self.ending

    async def _serve(self, server: uvicorn.Server) -> None:
        with contextlib.suppress(SystemExit):  # uvicorn exits when it cannot bind its port
            await server.serve()
        # A second Ctrl-C skips the application's shutdown: close what is open all the same.
        await self._shutdown()
        if not server.started:  # the health port is taken, or not ours to bind
            where = f"{self.settings.health_host}:{self.settings.health_port}"
            self.ending = Ending(Exit.FAILED, f"could not serve the health routes on {where}")

    @contextlib.asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        self._run_task = asyncio.create_task(self._run(), name="worker")
        try:
            yield
        finally:
            await self._shutdown()

    async def _run(self) -> None:
        """Start within the time allowed, then process until stopped."""
        s = self.settings
        began = time.monotonic()
        deadline = began + s.startup_timeout_s
        try:
            addresses = bootstrap_addresses(s.bootstrap_servers)
        except ConfigInvalidError as exc:
            self._end(Ending(Exit.CONFIG_INVALID, str(exc), exc=exc))
            return
        try:
            reached = await wait_for_brokers(addresses, deadline)
        except asyncio.CancelledError:
            self._end(Ending(Exit.BROKER_UNREACHABLE, "stopped before any broker answered"))
            raise
        if not reached:
            self._end(Ending(
                Exit.BROKER_UNREACHABLE,
                f"no broker of {s.bootstrap_servers} accepted a connection within "
                f"{s.startup_timeout_s:g}s (ONCOSCRUB_STARTUP_TIMEOUT_S)",
            ))  # fmt: skip
            return
        self._reached_brokers = True
        # Only now: before a broker accepts connections its client would only add lines.
        self.watch.start()
        self._processor_starting = True
        try:
            await asyncio.wait_for(self.processor.start(), max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            self._end(Ending(
                Exit.BROKER_UNREACHABLE,
                f"start-up did not finish within {s.startup_timeout_s:g}s "
                "(ONCOSCRUB_STARTUP_TIMEOUT_S): the brokers did not answer in time",
                "TimeoutError",
            ))  # fmt: skip
            return
        except _UNREACHABLE as exc:
            self._end(Ending(Exit.BROKER_UNREACHABLE, "the brokers did not answer", exc=exc))
            return
        except Exception as exc:
            self._end(Ending(Exit.FAILED, "start-up failed", exc=exc))
            return
        self.state = State.RUNNING
        log.info(
            "worker_started",
            **self.story.labels(),
            seconds=round(time.monotonic() - began, 2),
            health=self._health_address(),
            tracing=self.tracing.enabled,
        )
        try:
            await self.processor.run()
        except Exception as exc:
            self._end(Ending(Exit.FAILED, "the processing loop failed", exc=exc))

    def _health_address(self) -> str:
        """Where the health routes answer (the port bound, when it was 0: any free one)."""
        s = self.settings
        started = self._server is not None and self._server.started
        servers = self._server.servers if self._server is not None and started else []
        for sock in (sock for server in servers for sock in server.sockets):
            host, port = sock.getsockname()[:2]
            return f"{host}:{port}"
        return f"{s.health_host}:{s.health_port}"

    def _end(self, ending: Ending) -> None:
        """The first ending is the one reported; it stops the server."""
        if self.ending is None:
            self.ending = ending
            if ending.exit is not Exit.STOPPED:
                self.state = State.FAILED
        if self._server is not None:
            self._server.should_exit = True

    async def _shutdown(self) -> None:
        """Stop processing, close every client, flush the traces; never raises."""
        if self._closed:
            return
        self._closed = True
        processing = self.state is State.RUNNING
        if self.state is not State.FAILED:
            self.state = State.STOPPING
        self.processor.stop()
        task = self._run_task
        if task is not None and not task.done():
            if not processing:
                task.cancel()  # still starting: nothing in flight to finish
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(task), SHUTDOWN_GRACE_S)
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        problems: list[str] = []
        if self._processor_starting:
            try:
                await asyncio.wait_for(self.processor.close(), CLOSE_GRACE_S)
            except Exception as exc:  # an outage, say: nothing is lost, transactions abort
                problems.append(f"closing the processor: {type(exc).__name__}")
        await self.watch.close()
        try:
            await asyncio.wait_for(asyncio.to_thread(self.tracing.shutdown), TRACES_FLUSH_S)
        except Exception as exc:
            problems.append(f"flushing traces: {type(exc).__name__}")
        if self.ending is None and not self._reached_brokers:
            self.ending = Ending(Exit.BROKER_UNREACHABLE, "stopped before any broker answered")
        elif self.ending is None:
            self.ending = Ending(Exit.STOPPED, "asked to stop")
        if problems:
            self.ending = self.ending.with_problems(problems)
        if self.state is not State.FAILED:
            self.state = State.STOPPED

    # -- routes -------------------------------------------------------------------------------

    async def _live(self, _request: Request) -> Response:
        alive = self.state in (State.STARTING, State.RUNNING) and not (
            self._run_task is not None and self._run_task.done()
        )
        return Response(status_code=204 if alive else 503)

    async def _ready(self, _request: Request) -> Response:
        ready = self.state is State.RUNNING and self.processor.ready and self.watch.up
        body = {
            "ready": ready,
            "state": self.state.value,
            "broker": self.watch.up,
            "partitions": [tp.partition for tp in self.processor.owned_partitions],
            "fenced": self.processor.stats.fenced,
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    async def _metrics(self, request: Request) -> Response:
        body, content_type = self.metrics.exposition(request.headers.get("accept"))
        return Response(body, headers={"content-type": content_type})

    async def _asyncapi_json(self, _request: Request) -> Response:
        return Response(
            self.asyncapi.to_specification().to_json(),
            media_type="application/json",
        )

    async def _asyncapi_page(self, _request: Request) -> Response:
        doc = json.loads(self.asyncapi.to_specification().to_json())
        return HTMLResponse(render_html(doc))


def create_app() -> Starlette:
    """For an ASGI server: ``uvicorn --factory worker.app:create_app``. ``oncoscrub worker``
    is the supported entry point: only it bounds start-up and exits with a code that says
    how the worker ended."""
    from worker.logs import configure

    settings = Settings()
    configure(settings.log_level)
    return WorkerApp(settings).asgi
