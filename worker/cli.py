"""``oncoscrub``: the one console script, with subcommands."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Iterator

import typer
import uvicorn

from worker.logs import configure


class _GracefulServer(uvicorn.Server):
    """uvicorn re-raises SIGTERM/SIGINT after a graceful shutdown, so the process would
    report death by signal; a worker that finished its work and left cleanly exits 0."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            self._captured_signals.clear()


cli = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)


@cli.command()
def worker(
    health_port: int | None = typer.Option(None, help="Port of the health/metrics endpoints."),
) -> None:
    """Run the exactly-once claim worker until SIGTERM or Ctrl-C."""
    from worker.app import WorkerApp
    from worker.settings import Settings

    settings = Settings()
    if health_port is not None:
        settings = settings.model_copy(update={"health_port": health_port})
    configure(settings.log_level)
    server: uvicorn.Server | None = None

    def fatal() -> None:
        if server is not None:
            server.should_exit = True

    app = WorkerApp(settings, on_fatal=fatal)
    config = uvicorn.Config(
        app.asgi,
        host=settings.health_host,
        port=settings.health_port,
        log_config=None,
        access_log=False,
        lifespan="on",
    )
    server = _GracefulServer(config)
    asyncio.run(server.serve())
    if app.failed or not server.started:
        raise typer.Exit(1)


@cli.command()
def asyncapi() -> None:
    """Print the AsyncAPI document of the worker's topics."""
    from worker.app import WorkerApp
    from worker.settings import Settings

    app = WorkerApp(Settings())
    sys.stdout.write(app.asgi.schema.to_specification().to_json() + "\n")


@cli.command("claim-ref")
def claim_ref(claim_ids: list[str]) -> None:
    """Print the digest each claim id is logged as (needs ONCOSCRUB_LOG_ID_KEY)."""
    from worker.logs import ClaimRefs
    from worker.settings import Settings

    key = Settings().log_id_key
    if key is None:
        sys.stderr.write("ONCOSCRUB_LOG_ID_KEY is not set: workers log with a key of their own\n")
        raise typer.Exit(2)
    refs = ClaimRefs(key)
    for claim_id in claim_ids:
        sys.stdout.write(f"{claim_id}\t{refs(claim_id)}\n")


def _attach_batch_and_audit() -> None:
    from worker.audit.cli import audit
    from worker.cli_pack import pack
    from worker.cli_scrub import scrub_cmd

    cli.add_typer(audit, name="audit")
    cli.add_typer(pack, name="pack")
    cli.command("scrub")(scrub_cmd)
    # The review app is its own package beside the worker; its CLI hangs off the same script.
    from review.cli import review

    cli.add_typer(review, name="review")


_attach_batch_and_audit()


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
