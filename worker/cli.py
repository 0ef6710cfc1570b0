"""``oncoscrub``: the one console script, with subcommands."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError

from worker.lifecycle import Ending, Exit, SettingProblem, setting_problems
from worker.logs import configure, get_logger

if TYPE_CHECKING:
    from worker.settings import Settings

log = get_logger("worker.cli")

# Not rich's boxed tracebacks: they print every frame's local variables, which may hold a
# claim or a secret.
cli = typer.Typer(
    no_args_is_help=True, add_completion=False, help=__doc__, pretty_exceptions_enable=False
)


def _version(value: bool) -> None:
    if not value:
        return
    from worker.version import version_story

    settings = _settings_or_exit()
    try:
        story = version_story(settings.rule_pack_dir)
    except OSError as exc:
        _config_invalid(_pack_problem(exc))
    sys.stdout.write("\n".join(story.lines()) + "\n")
    raise typer.Exit(0)


@cli.callback()
def _options(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_version,
        is_eager=True,
        help="Print the package, engine and rule pack versions (the pack's SHA-256 too) and exit.",
    ),
) -> None:
    """Oncology claim scrubber."""


@cli.command()
def worker(
    health_port: int | None = typer.Option(None, help="Port of the health/metrics endpoints."),
) -> None:
    """Run the exactly-once claim worker until SIGTERM or Ctrl-C.

    Exit codes: 0 stopped when asked, 1 failed, 2 configuration invalid, 3 the brokers were
    not reached within ONCOSCRUB_STARTUP_TIMEOUT_S."""
    from worker.app import WorkerApp
    from worker.lifecycle import ConfigInvalidError, bootstrap_addresses
    from worker.tracing import TracingConfigError, tracing_from_env
    from worker.version import version_story

    settings = _settings_or_exit()
    if health_port is not None:
        settings = settings.model_copy(update={"health_port": health_port})
    try:
        configure(settings.log_level)
    except ValueError as exc:  # an unknown level is refused, not taken for INFO
        _config_invalid([SettingProblem("ONCOSCRUB_LOG_LEVEL", str(exc))])
    try:
        settings.kafka  # noqa: B018 -- the connection settings are checked as they are built
        bootstrap_addresses(settings.bootstrap_servers)
        story = version_story(settings.rule_pack_dir)
        tracing = tracing_from_env(story.package)
    except ConfigInvalidError as exc:
        _config_invalid(exc.problems)
    except OSError as exc:
        _config_invalid(_pack_problem(exc))
    except TracingConfigError as exc:
        _config_invalid([SettingProblem(exc.variable, exc.problem)])
    except ValidationError as exc:  # of the connection settings
        _config_invalid(setting_problems(exc))
    try:
        app = WorkerApp(settings, tracing, story)
    except Exception as exc:
        _stopped(Ending(Exit.FAILED, "the worker could not be built", exc=exc))
    _stopped(app.serve())


def _settings_or_exit() -> Settings:
    from worker.settings import Settings

    try:
        return Settings()
    except (ValidationError, SettingsError) as exc:
        _config_invalid(setting_problems(exc))


def _pack_problem(exc: OSError) -> list[SettingProblem]:
    return [SettingProblem("ONCOSCRUB_RULE_PACK_DIR", f"cannot be read: {type(exc).__name__}")]


def _config_invalid(problems: Sequence[SettingProblem]) -> NoReturn:
    """One line naming each setting, and exit 2: the worker cannot run as configured."""
    configure("INFO")
    log.error(
        "config_invalid",
        problems=[p.as_dict() for p in problems],
        how=Exit.CONFIG_INVALID.how,
        exit_code=int(Exit.CONFIG_INVALID),
    )
    raise typer.Exit(int(Exit.CONFIG_INVALID))


def _stopped(ending: Ending) -> NoReturn:
    """The run's last line, and its exit code."""
    # Handlers say what they still hold when closed (the Kafka clients' held-back lines):
    # closed now, so that this line is the last.
    logging.shutdown()
    fields = ending.fields()
    if ending.exit is Exit.STOPPED:
        log.info("worker_stopped", **fields)
    elif ending.exc is not None and ending.exit is Exit.FAILED and not _explained(ending.exc):
        log.error("worker_stopped", **fields, exc_info=ending.exc)
    else:
        log.error("worker_stopped", **fields)
    # Kafka clients a close could not finish (a broker outage: the final line's ``problems``
    # says so) are reported again by asyncio when the interpreter collects them; this line
    # stays the last.
    logging.getLogger("asyncio").disabled = True
    raise typer.Exit(int(ending.exit))


def _explained(exc: BaseException) -> bool:
    """Errors the worker has already described in a line of their own."""
    from worker.topic_check import TopicsRefusedError

    return isinstance(exc, TopicsRefusedError)


@cli.command()
def asyncapi() -> None:
    """Print the AsyncAPI document of the worker's topics."""
    from worker.app import WorkerApp

    app = WorkerApp(_settings_or_exit())
    sys.stdout.write(app.asyncapi.to_specification().to_json() + "\n")


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
    from worker.cli_course import course
    from worker.cli_pack import pack
    from worker.cli_publish import publish_cmd
    from worker.cli_scrub import scrub_cmd
    from worker.cli_topics import topics

    cli.add_typer(audit, name="audit")
    cli.add_typer(course, name="course")
    cli.add_typer(pack, name="pack")
    cli.command("scrub")(scrub_cmd)
    cli.command("publish")(publish_cmd)
    cli.add_typer(topics, name="topics")
    # The review app is its own package beside the worker; its CLI hangs off the same script.
    from review.cli import review

    cli.add_typer(review, name="review")


_attach_batch_and_audit()


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
