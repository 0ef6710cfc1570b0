"""deploy/k8s: the objects validated against Kubernetes' schemas (kubernetes-validate) and
KEDA's CRDs (vendored), then what no schema sees: references between the objects, one health
port everywhere, static membership, the autoscaler bounded by the partition count, and a
configuration the worker accepts."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
from pydantic import BaseModel

from tests.deploy.dockerfile import final_stage, healthcheck_command
from tests.deploy.kit import (
    K8S,
    ROOT,
    SCHEMAS,
    Obj,
    all_objects,
    base_objects,
    compose,
    env_of,
    example_secrets,
    kustomization,
    load_yaml,
    one,
    pod_specs,
    topics_create_args,
    topics_job,
    worker_container,
)
from worker.app import SHUTDOWN_GRACE_S
from worker.settings import Settings
from worker.topology import Topics

# The oldest Kubernetes the manifests are written for, and the newest kubernetes-validate knows.
KUBERNETES_VERSIONS = ("1.29.0", kubernetes_validate.utils.latest_version())
KEDA_CRDS = {
    "ScaledObject": SCHEMAS / "keda.sh_scaledobjects.yaml",
    "TriggerAuthentication": SCHEMAS / "keda.sh_triggerauthentications.yaml",
}
# The Kafka scaler's trigger metadata (KEDA v2.20, pkg/scalers/kafka_scaler.go): the CRD types
# metadata as a free map, so a misspelt key would be ignored without a word.
KEDA_KAFKA_METADATA = {
    "bootstrapServers", "consumerGroup", "topic", "partitionLimitation", "lagThreshold",
    "activationLagThreshold", "offsetResetPolicy", "allowIdleConsumers", "excludePersistentLag",
    "scaleToZeroOnInvalidOffset", "limitToPartitionsWithLag",
    "ensureEvenDistributionOfPartitions", "version", "tls", "unsafeSsl", "sasl",
    "saslTokenProvider", "awsRegion",
}  # fmt: skip
KEDA_SASL = {
    "PLAIN": "plaintext",
    "SCRAM-SHA-256": "scram_sha256",
    "SCRAM-SHA-512": "scram_sha512",
    "OAUTHBEARER": "oauthbearer",
}
WORKER_LABELS = {"app.kubernetes.io/name": "oncoscrub", "app.kubernetes.io/component": "worker"}
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def config() -> dict[str, str]:
    data: dict[str, str] = one("ConfigMap", name="oncoscrub-worker")["data"]
    return data


def ids(objects: list[Obj]) -> list[str]:
    return [f"{o['kind']}/{o['metadata']['name']}" for o in objects]


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


# -- the files and the schemas ---------------------------------------------------------------


def test_the_kustomization_lists_every_manifest_but_the_secrets_example() -> None:
    listed = kustomization()["resources"]
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert sorted(listed) == sorted(on_disk)
    assert set(kustomization()) == {"apiVersion", "kind", "resources"}, (
        "tests/deploy/kit.py builds the base from `resources` alone; teach it any new field"
    )


BUILTIN = [o for o in all_objects() if not o["apiVersion"].startswith("keda.sh/")]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("obj", BUILTIN, ids=ids(BUILTIN))
def test_valid_against_the_kubernetes_schema_strictly(obj: Obj, version: str) -> None:
    assert kubernetes_validate.validate(obj, version, strict=True)


def test_strict_validation_rejects_a_misspelt_field() -> None:
    broken = one("StatefulSet")
    broken["spec"]["template"]["spec"]["terminationGracePeriod"] = 45
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[-1], strict=True)


def crd_schema(kind: str, api_version: str) -> Obj:
    crd = load_yaml(KEDA_CRDS[kind])
    group, _, version = api_version.partition("/")
    assert crd["spec"]["group"] == group
    [served] = [v for v in crd["spec"]["versions"] if v["name"] == version and v["served"]]
    schema: Obj = served["schema"]["openAPIV3Schema"]
    return schema


def pruned(value: Any, schema: Obj, path: str = "") -> Iterator[str]:
    """Fields the API server would drop without a word: those a structural schema does not
    declare (kubeconform -strict reports the same)."""
    if isinstance(value, dict):
        props = schema.get("properties")
        if props is None or schema.get("x-kubernetes-preserve-unknown-fields"):
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict):
                for key, item in value.items():
                    yield from pruned(item, extra, f"{path}.{key}")
            return
        for key, item in value.items():
            if key not in props:
                yield f"{path}.{key}"
            else:
                yield from pruned(item, props[key], f"{path}.{key}")
    elif isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            yield from pruned(item, schema["items"], f"{path}[{i}]")


KEDA = [o for o in base_objects() if o["apiVersion"].startswith("keda.sh/")]


@pytest.mark.parametrize("obj", KEDA, ids=ids(KEDA))
def test_valid_against_the_keda_crd(obj: Obj) -> None:
    schema = crd_schema(obj["kind"], obj["apiVersion"])
    errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(obj)]
    assert errors == []
    # metadata is validated by the API server itself, not by the CRD's schema.
    assert list(pruned({k: v for k, v in obj.items() if k != "metadata"}, schema)) == []


def test_the_crd_checks_catch_a_bad_type_and_a_misspelt_field() -> None:
    scaled = one("ScaledObject")
    schema = crd_schema("ScaledObject", scaled["apiVersion"])
    scaled["spec"]["maxReplicaCount"] = "twelve"
    scaled["spec"]["maxReplicasCount"] = 12
    assert len(list(jsonschema.Draft7Validator(schema).iter_errors(scaled))) == 1
    assert list(pruned({"spec": scaled["spec"]}, schema)) == [".spec.maxReplicasCount"]


PODS = list(pod_specs())

# -- one worker, as the objects describe it ---------------------------------------------------


def test_static_membership_from_a_stable_pod_name() -> None:
    statefulset = one("StatefulSet")
    env = {e["name"]: e for e in worker_container()["env"]}
    ref = env["ONCOSCRUB_GROUP_INSTANCE_ID"]["valueFrom"]["fieldRef"]["fieldPath"]
    assert ref == "metadata.name"
    # A StatefulSet's replacement pod keeps the name, so it rejoins as the same member.
    assert statefulset["kind"] == "StatefulSet"
    assert statefulset["spec"]["podManagementPolicy"] == "Parallel"
    assert "replicas" not in statefulset["spec"], "KEDA owns the replica count"
    headless = one("Service", name=statefulset["spec"]["serviceName"])
    assert headless["spec"]["clusterIP"] == "None"


def test_selectors_select_the_workers_pods() -> None:
    statefulset = one("StatefulSet")
    labels = statefulset["spec"]["template"]["metadata"]["labels"]
    assert matches(WORKER_LABELS, labels)
    assert statefulset["spec"]["selector"]["matchLabels"] == WORKER_LABELS
    assert one("PodDisruptionBudget")["spec"]["selector"]["matchLabels"] == WORKER_LABELS
    assert one("Service")["spec"]["selector"] == WORKER_LABELS
    policy = one("NetworkPolicy")["spec"]["podSelector"]["matchLabels"]
    for workload, _ in pod_specs():
        assert matches(policy, workload["spec"]["template"]["metadata"]["labels"])


def test_one_health_port_everywhere() -> None:
    port = int(config()["ONCOSCRUB_HEALTH_PORT"])
    container = worker_container()
    [named] = [p for p in container["ports"] if p["name"] == "http"]
    assert named["containerPort"] == port
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["port"] in {"http", port}
    [service_port] = one("Service")["spec"]["ports"]
    assert service_port["targetPort"] in {"http", port}
    annotations = one("StatefulSet")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(port)
    [ingress] = one("NetworkPolicy")["spec"]["ingress"]
    assert [p["port"] for p in ingress["ports"]] == [port]
    assert config()["ONCOSCRUB_HEALTH_HOST"] == "0.0.0.0"


def test_probes_use_the_worker_health_routes() -> None:
    container = worker_container()
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["startupProbe"]["httpGet"]["path"] == "/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    # The image's own HEALTHCHECK probes the same route.
    assert "/health/live" in healthcheck_command()[2]
    annotations = one("StatefulSet")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/path"] == "/metrics"


def test_the_grace_period_outlasts_the_workers_drain() -> None:
    grace = one("StatefulSet")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > SHUTDOWN_GRACE_S + 5


@pytest.mark.parametrize(("workload", "spec"), PODS, ids=ids([w for w, _ in PODS]))
def test_pods_run_locked_down_as_the_images_user(workload: Obj, spec: Obj) -> None:
    uid, _, gid = final_stage().last("USER").partition(":")
    pod = spec["securityContext"]
    assert pod["runAsNonRoot"] is True
    assert (pod["runAsUser"], pod["runAsGroup"]) == (int(uid), int(gid))
    assert pod["seccompProfile"]["type"] == "RuntimeDefault"
    assert spec["automountServiceAccountToken"] is False
    one("ServiceAccount", name=spec["serviceAccountName"])
    for container in spec["containers"]:
        ctx = container["securityContext"]
        assert ctx["allowPrivilegeEscalation"] is False
        assert ctx["readOnlyRootFilesystem"] is True
        assert ctx["capabilities"]["drop"] == ["ALL"]
        assert "memory" in container["resources"]["limits"]
        assert container["image"] == f"oncoscrub:{PROJECT['version']}"


@pytest.mark.parametrize(("workload", "spec"), PODS, ids=ids([w for w, _ in PODS]))
def test_every_config_map_and_secret_a_pod_reads_exists(workload: Obj, spec: Obj) -> None:
    objects = all_objects()
    for container in spec["containers"]:
        env_of(container, objects)  # each envFrom names an object that exists
    for volume in spec.get("volumes", []):
        if "secret" in volume:
            name = volume["secret"]["secretName"]
            assert volume["secret"].get("optional") or one("Secret", objects, name)
            one("Secret", example_secrets(), name)


def test_secrets_are_examples_never_applied() -> None:
    assert all(o["kind"] != "Secret" for o in base_objects())
    for secret in example_secrets():
        assert all(v == "" for k, v in secret["stringData"].items() if "PASSWORD" in k.upper())


def setting_field(name: str) -> bool:
    """Whether an environment variable names a field of Settings (nested with __)."""
    if name in {"KAFKA_BOOTSTRAP_SERVERS", "ONCOSCRUB_BOOTSTRAP_SERVERS"}:
        return True
    if not name.startswith("ONCOSCRUB_"):
        return False
    model: type[BaseModel] = Settings
    parts = name.removeprefix("ONCOSCRUB_").lower().split("__")
    for i, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return False
        annotation = field.annotation
        if i < len(parts) - 1:
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                return False
            model = annotation
    return True


def worker_env() -> dict[str, str]:
    return env_of(worker_container(), all_objects())


def test_every_setting_the_manifests_give_is_one_the_worker_reads() -> None:
    unknown = sorted(n for n in worker_env() if not setting_field(n))
    assert unknown == []


def test_the_worker_accepts_the_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("ONCOSCRUB_") or name == "KAFKA_BOOTSTRAP_SERVERS":
            monkeypatch.delenv(name)
    env = worker_env()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # The example Secret's password is empty on purpose; the operator's real one is not (an
    # empty one is refused: tests/unit/test_kafka_client.py).
    monkeypatch.setenv("ONCOSCRUB_SASL_PASSWORD", "sample-password")
    settings = Settings()
    assert settings.bootstrap_servers == env["ONCOSCRUB_BOOTSTRAP_SERVERS"]
    assert settings.kafka.security_protocol == env["ONCOSCRUB_SECURITY_PROTOCOL"]
    assert settings.kafka.sasl_mechanism == env["ONCOSCRUB_SASL_MECHANISM"]
    assert settings.kafka.sasl_username == env["ONCOSCRUB_SASL_USERNAME"]
    assert settings.kafka.options()["ssl_context"].check_hostname
    assert settings.group_instance_id == "oncoscrub-worker-0"
    assert settings.group_id == env["ONCOSCRUB_GROUP_ID"]
    assert settings.worker_id == "oncoscrub-worker-0"
    assert settings.health_port == int(env["ONCOSCRUB_HEALTH_PORT"])
    assert settings.session_timeout_ms == int(env["ONCOSCRUB_SESSION_TIMEOUT_MS"])
    assert settings.topics.submitted == env["ONCOSCRUB_TOPICS__SUBMITTED"]


# -- the autoscaler ------------------------------------------------------------------------------


def partitions() -> int:
    count: int = topics_create_args(topics_job()["args"])["partitions"]
    return count


def test_autoscaling_stops_at_the_partition_count() -> None:
    scaled = one("ScaledObject")
    assert 1 <= scaled["spec"]["minReplicaCount"] <= scaled["spec"]["maxReplicaCount"]
    assert scaled["spec"]["maxReplicaCount"] <= partitions()
    target = scaled["spec"]["scaleTargetRef"]
    statefulset = one("StatefulSet")
    assert (target["kind"], target["name"]) == ("StatefulSet", statefulset["metadata"]["name"])


def test_the_lag_trigger_watches_the_workers_group_and_topic() -> None:
    [trigger] = one("ScaledObject")["spec"]["triggers"]
    assert trigger["type"] == "kafka"
    meta = trigger["metadata"]
    assert set(meta) <= KEDA_KAFKA_METADATA, set(meta) - KEDA_KAFKA_METADATA
    cfg = config()
    assert meta["bootstrapServers"] == cfg["ONCOSCRUB_BOOTSTRAP_SERVERS"]
    assert meta["consumerGroup"] == cfg["ONCOSCRUB_GROUP_ID"]
    assert meta["topic"] == cfg["ONCOSCRUB_TOPICS__SUBMITTED"] == Topics().submitted
    assert meta["allowIdleConsumers"] == "false"
    assert meta["offsetResetPolicy"] == "earliest"
    assert int(meta["lagThreshold"]) > 0
    # The same security as the worker's: TLS with SASL_SSL, the same SCRAM mechanism.
    assert meta["tls"] == (
        "enable" if cfg["ONCOSCRUB_SECURITY_PROTOCOL"].endswith("SSL") else "disable"
    )
    assert meta["sasl"] == KEDA_SASL[cfg["ONCOSCRUB_SASL_MECHANISM"]]


def test_the_trigger_authentication_reads_secrets_that_exist() -> None:
    [trigger] = one("ScaledObject")["spec"]["triggers"]
    auth = one("TriggerAuthentication", name=trigger["authenticationRef"]["name"])
    for ref in auth["spec"]["secretTargetRef"]:
        secret = one("Secret", example_secrets(), ref["name"])
        assert ref["key"] in secret["stringData"]
    assert {r["parameter"] for r in auth["spec"]["secretTargetRef"]} == {"username", "password"}


def test_kubernetes_and_compose_create_topics_the_same_way() -> None:
    """`oncoscrub topics create` through the image's entry point, with a replication factor
    a production cluster gives (compose's one broker takes 1)."""
    container = topics_job()
    service = compose()["services"]["topics"]
    assert "command" not in container
    assert "entrypoint" not in service
    assert container["args"][:2] == service["command"][:2] == ["topics", "create"]
    assert topics_create_args(container["args"])["replication"] >= 3


def test_the_topics_job_reaches_kafka_as_the_worker_does() -> None:
    """The worker's settings, and its TLS files where the settings may point."""
    container = topics_job()
    worker = worker_container()
    assert {"configMapRef": {"name": "oncoscrub-worker"}} in container["envFrom"]
    job_spec = one("Job", name="oncoscrub-topics")["spec"]["template"]["spec"]
    worker_spec = one("StatefulSet")["spec"]["template"]["spec"]

    def tls_mount(c: dict[str, Any], spec: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        volumes = {v["name"]: v for v in spec["volumes"]}
        [mount] = [m for m in c["volumeMounts"] if "secret" in volumes[m["name"]]]
        return mount["mountPath"], volumes[mount["name"]]["secret"]

    assert tls_mount(container, job_spec) == tls_mount(worker, worker_spec)


def test_network_policy_lets_the_pods_reach_kafka_and_dns() -> None:
    egress = one("NetworkPolicy")["spec"]["egress"]
    bootstrap_port = int(config()["ONCOSCRUB_BOOTSTRAP_SERVERS"].rsplit(":", 1)[1])
    kafka_rules = [
        p
        for rule in egress
        for p in rule["ports"]
        if p["protocol"] == "TCP" and p["port"] <= bootstrap_port <= p.get("endPort", p["port"])
    ]
    assert kafka_rules
    dns = [p for rule in egress for p in rule["ports"] if p["port"] == 53]
    assert {p["protocol"] for p in dns} == {"UDP", "TCP"}


def test_disruptions_take_one_worker_at_a_time() -> None:
    spec = one("PodDisruptionBudget")["spec"]
    assert spec["maxUnavailable"] == 1
    assert spec["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


def test_every_object_is_labelled_and_named_as_kubernetes_requires() -> None:
    for obj in all_objects():
        name = obj["metadata"]["name"]
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name) and len(name) <= 63, name
        assert obj["metadata"]["labels"]["app.kubernetes.io/name"] == "oncoscrub"
    for _, spec in pod_specs():
        for container in spec["containers"]:
            for port in container.get("ports", []):
                assert len(port["name"]) <= 15


def test_the_decide_pool_is_sized_by_the_pods_cpu_not_the_nodes() -> None:
    """The pool's default is os.cpu_count(): the node's cores, each process ~160 MiB."""
    processes = int(config()["ONCOSCRUB_DECIDE_PROCESSES"])
    cpu = worker_container()["resources"]["requests"]["cpu"]
    cores = int(cpu[:-1]) / 1000 if cpu.endswith("m") else float(cpu)
    assert 1 <= processes <= max(1, round(cores))
