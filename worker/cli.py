"""``oncoscrub``: the one console script, with subcommands."""

from __future__ import annotations

import asyncio
import sys

import typer

from worker.logs import configure

cli = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)


@cli.command()
def worker(
    health_port: int | None = typer.Option(None, help="Port of the health/metrics endpoints."),
) -> None:
    """Run the exactly-once claim worker until SIGTERM or Ctrl-C."""
    import uvicorn

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
    server = uvicorn.Server(config)
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


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
