"""deploy/Dockerfile read as instructions, stage by stage, and its HEALTHCHECK command."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from tests.deploy.kit import DOCKERFILE


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]

    def last(self, keyword: str) -> str:
        found = self.all(keyword)
        assert found, f"stage {self.name or self.base} has no {keyword}"
        return found[-1]


def instructions(text: str | None = None) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in (text if text is not None else DOCKERFILE.read_text(encoding="utf-8")).splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        keyword, _, args = whole.partition(" ")
        out.append((keyword.upper(), args.strip()))
    return out


def stages() -> tuple[dict[str, str], list[Stage]]:
    """The global ARG defaults and the build stages, in order."""
    args: dict[str, str] = {}
    found: list[Stage] = []
    for keyword, rest in instructions():
        if keyword == "FROM":
            parts = rest.split()
            base = parts[0]
            for name, value in args.items():
                base = base.replace("${" + name + "}", value)
            alias = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
            found.append(Stage(base, alias))
        elif not found and keyword == "ARG":
            name, _, default = rest.partition("=")
            args[name] = default
        elif found:
            found[-1].instructions.append((keyword, rest))
    return args, found


def final_stage() -> Stage:
    return stages()[1][-1]


def healthcheck_command() -> list[str]:
    """The HEALTHCHECK's command: the JSON array after its options."""
    args = final_stage().last("HEALTHCHECK")
    options, _, command = args.partition("CMD ")
    assert all(o.startswith("--") for o in options.split()), args
    parsed = json.loads(command)
    assert isinstance(parsed, list) and all(isinstance(a, str) for a in parsed), command
    return parsed


def env_defaults(stage: Stage) -> dict[str, str]:
    env: dict[str, str] = {}
    for args in stage.all("ENV"):
        for pair in args.split():
            name, _, value = pair.partition("=")
            env[name] = value
    return env
