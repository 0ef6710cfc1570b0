"""The deploy kit's files, loaded for the tests: paths, YAML documents, Kubernetes objects."""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
import typer.core
import yaml

from worker.cli_topics import topics as topics_app

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
OBSERVABILITY = DEPLOY / "observability"
SCHEMAS = Path(__file__).resolve().parent / "schemas"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"

Obj = dict[str, Any]


@functools.cache
def _parsed(path: Path) -> list[Any]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]


def load_yaml(path: Path) -> Any:
    """A file's one YAML document, a fresh copy each time (tests change their copies)."""
    [document] = _parsed(path)
    return copy.deepcopy(document)


def documents(path: Path) -> list[Obj]:
    return copy.deepcopy(_parsed(path))


def kustomization() -> Obj:
    loaded: Obj = load_yaml(K8S / "kustomization.yaml")
    return loaded


def base_objects() -> list[Obj]:
    """What `kubectl apply -k deploy/k8s` applies: every resource the kustomization lists."""
    return [obj for name in kustomization()["resources"] for obj in documents(K8S / name)]


def example_secrets() -> list[Obj]:
    return documents(K8S / "secret.example.yaml")


def all_objects() -> list[Obj]:
    return base_objects() + example_secrets()


def one(kind: str, objects: list[Obj] | None = None, name: str | None = None) -> Obj:
    found = [
        o
        for o in (objects if objects is not None else base_objects())
        if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)
    ]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def pod_specs() -> Iterator[tuple[Obj, Obj]]:
    """(workload, pod spec) for every object that runs pods."""
    for obj in base_objects():
        if obj["kind"] in {"StatefulSet", "Deployment", "Job"}:
            yield obj, obj["spec"]["template"]["spec"]


def env_of(container: Obj, objects: list[Obj]) -> dict[str, str]:
    """A container's environment as the kubelet builds it: envFrom, then env (literal values;
    a fieldRef to the pod name becomes a sample name)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            ref = source["configMapRef"]["name"]
            env.update(one("ConfigMap", objects, ref).get("data", {}))
        if "secretRef" in source:
            ref = source["secretRef"]["name"]
            env.update(one("Secret", objects, ref).get("stringData", {}))
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
        elif item.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.name":
            env[item["name"]] = "oncoscrub-worker-0"
        else:
            raise AssertionError(f"unsupported env source for {item['name']}")
    return env


def worker_container() -> Obj:
    spec = one("StatefulSet")["spec"]["template"]["spec"]
    [container] = [c for c in spec["containers"] if c["name"] == "worker"]
    return container


def compose() -> Obj:
    loaded: Obj = load_yaml(COMPOSE)
    return loaded


def topics_job() -> Obj:
    """The Kubernetes job's container that creates the topics."""
    job = one("Job", name="oncoscrub-topics")
    [container] = job["spec"]["template"]["spec"]["containers"]
    return container


def topics_create_args(args: list[str]) -> dict[str, Any]:
    """The options of an ``oncoscrub topics create`` command line (the image's entry point
    is ``oncoscrub``), parsed by the command itself: a misspelt option fails here."""
    assert args[:2] == ["topics", "create"], args
    group = typer.main.get_command(topics_app)
    assert isinstance(group, typer.core.TyperGroup)
    command = group.commands["create"]
    params: dict[str, Any] = command.make_context("create", list(args[2:])).params
    return params


def with_option(args: list[str], option: str, value: str) -> list[str]:
    """A command line with one option's value replaced."""
    at = args.index(option)
    return [*args[: at + 1], value, *args[at + 2 :]]
