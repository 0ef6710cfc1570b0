"""A real Apache Kafka broker on 127.0.0.1, without Docker.

One KRaft node in combined mode (broker + controller), run from the jars that
``deploy/kafka/pom.xml`` resolves from Maven Central. The jars are cached (by
default under ``~/.cache/oncoscrub/kafka-<version>``) so later starts need no
network. Readiness is an admin request that succeeds, not an open port.

Use it from Python (``with LocalKafka() as kafka: kafka.bootstrap``) or from
the shell::

    python -m deploy.localkafka            # start, create topics, wait for Ctrl-C
    python -m deploy.localkafka --secure   # also TLS listeners, printing the settings to use
    python -m deploy.localkafka --resolve  # only fetch the jars into the cache

With ``secure=SecureListeners(...)`` the node also listens with SASL_SSL (SCRAM-SHA-256,
SCRAM-SHA-512 and PLAIN users, OAUTHBEARER) and with SSL requiring a client certificate
(mutual TLS), on certificates the caller provides (``deploy.local_pki``). PLAINTEXT stays
for the controller, the node itself and setting topics up.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from deploy.local_pki import make_pki
from worker.kafka_client import KafkaConnection
from worker.topic_admin import ensure_topics
from worker.topology import LARGE_MESSAGE_BYTES, declare

POM = Path(__file__).with_name("kafka") / "pom.xml"


def _product_topics() -> dict[str, dict[str, str]]:
    return declare().topic_configs()


def kafka_version() -> str:
    match = re.search(r"<kafka.version>([^<]+)</kafka.version>", POM.read_text())
    if not match:
        raise RuntimeError(f"no kafka.version in {POM}")
    return match.group(1)


def cache_dir() -> Path:
    root = os.environ.get("ONCOSCRUB_KAFKA_CACHE")
    base = Path(root) if root else Path.home() / ".cache" / "oncoscrub"
    return base / f"kafka-{kafka_version()}"


def resolve_jars(quiet: bool = True) -> Path:
    """Return the directory holding the broker's runtime classpath, resolving it once."""
    target = cache_dir()
    marker = target / ".complete"
    if marker.exists():
        return target
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RuntimeError("Maven (mvn) is needed once to fetch the Kafka jars; install it")
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    cmd = [
        mvn,
        "-B",
        "-f",
        str(POM),
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={staging}",
    ]
    if quiet:
        cmd.insert(2, "-q")
    subprocess.run(cmd, check=True)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    marker.write_text(kafka_version())
    return target


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cluster_id() -> str:
    # As Kafka's Uuid.randomUuid(): never starting with "-", which the storage
    # tool's argument parser would take for an option.
    while True:
        candidate = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not candidate.startswith("-"):
            return candidate


_LOG4J2 = """\
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka.server.KafkaRaftServer
logger.kafka.level = INFO
"""


# Characters a user name or password may hold: the JAAS line and the storage tool's
# "[name=...,password=...]" have no escaping.
_SAFE_CREDENTIAL = re.compile(r"^[A-Za-z0-9_.@+-]+$")
SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")


@dataclass(frozen=True)
class SecureListeners:
    """The TLS listeners' certificates and SASL users (each a PLAIN and a SCRAM user)."""

    keystore: Path  # PEM: the broker's private key (PKCS#8, unencrypted) and certificate chain
    truststore: Path  # PEM: the CA whose client certificates the mutual-TLS listener accepts
    users: Mapping[str, str]  # name → password
    # Given: Kafka's authorizer is on, and only these principals ("User:name") and the
    # PLAINTEXT listener's (the node itself, topic set-up) may do anything without an ACL.
    super_users: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        for name, password in self.users.items():
            if not (_SAFE_CREDENTIAL.match(name) and _SAFE_CREDENTIAL.match(password)):
                raise ValueError(f"user {name!r}: use letters, digits and _.@+- only")

    def scram_arguments(self) -> list[str]:
        """``kafka-storage format`` arguments creating the SCRAM users (KRaft metadata)."""
        out: list[str] = []
        for mechanism in SCRAM_MECHANISMS:
            for name, password in self.users.items():
                out += ["--add-scram", f"{mechanism}=[name={name},password={password}]"]
        return out

    def properties(self) -> dict[str, str]:
        plain_users = " ".join(f'user_{n}="{p}"' for n, p in self.users.items())
        sasl = "listener.name.sasl_ssl."
        authorizer = {}
        if self.super_users is not None:
            authorizer = {
                "authorizer.class.name": (
                    "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
                ),
                "super.users": ";".join(("User:ANONYMOUS", *self.super_users)),
            }
        return {
            **authorizer,
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(self.keystore),
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(self.truststore),
            "listener.name.mtls.ssl.client.auth": "required",
            f"{sasl}sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER",
            f"{sasl}plain.sasl.jaas.config": (
                f"org.apache.kafka.common.security.plain.PlainLoginModule required {plain_users};"
            ),
            **{
                f"{sasl}{m.lower()}.sasl.jaas.config": (
                    "org.apache.kafka.common.security.scram.ScramLoginModule required;"
                )
                for m in SCRAM_MECHANISMS
            },
            # Kafka's default validator for OAUTHBEARER: unsigned tokens ("alg": "none")
            # with a subject and an expiry. For tests of the client side only.
            f"{sasl}oauthbearer.sasl.jaas.config": (
                "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;"
            ),
        }


@dataclass
class LocalKafka:
    """One Kafka node on loopback. ``start()`` returns once an admin request succeeds."""

    port: int = 0
    topics: dict[str, dict[str, str]] = field(default_factory=_product_topics)
    partitions: int = 3
    heap: str = "768m"
    workdir: Path | None = None
    startup_timeout: float = 120.0
    bootstrap: str = ""
    startup_seconds: float = 0.0
    controller_port: int = 0
    restarts: int = 0
    secure: SecureListeners | None = None
    sasl_ssl_port: int = 0
    mtls_port: int = 0
    _proc: subprocess.Popen[bytes] | None = None
    _owns_workdir: bool = False

    def _listeners(self, port: int) -> dict[str, tuple[int, str]]:
        """Listener name → (port, security protocol), the controller's aside."""
        listeners = {"PLAINTEXT": (port, "PLAINTEXT")}
        if self.secure is not None:
            listeners["SASL_SSL"] = (self.sasl_ssl_port, "SASL_SSL")
            listeners["MTLS"] = (self.mtls_port, "SSL")
        return listeners

    def server_properties(self, data_dir: Path, port: int, controller_port: int) -> str:
        listeners = self._listeners(port)
        advertised = ",".join(f"{name}://127.0.0.1:{p}" for name, (p, _) in listeners.items())
        protocols = ",".join(f"{name}:{proto}" for name, (_, proto) in listeners.items())
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{controller_port}",
            "listeners": f"{advertised},CONTROLLER://127.0.0.1:{controller_port}",
            "advertised.listeners": advertised,
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": f"CONTROLLER:PLAINTEXT,{protocols}",
            "log.dirs": str(data_dir / "logs"),
            "num.partitions": str(self.partitions),
            "auto.create.topics.enable": "false",
            # A single node: without these, producers hang in InitProducerId.
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "5",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "5",
            "group.initial.rebalance.delay.ms": "0",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            # message.max.bytes stays at Kafka's default: the product's topics set their
            # own limit (worker/topology.py), as they must on any cluster.
            "replica.fetch.max.bytes": str(LARGE_MESSAGE_BYTES),
            **(self.secure.properties() if self.secure is not None else {}),
        }
        return "".join(f"{k}={v}\n" for k, v in props.items())

    def start(self) -> LocalKafka:
        began = time.monotonic()
        jars = resolve_jars()
        java = shutil.which("java")
        if java is None:
            raise RuntimeError("Java 17+ is needed to run the local Kafka broker")
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="oncoscrub-kafka-"))
            self._owns_workdir = True
        self.workdir.mkdir(parents=True, exist_ok=True)
        # Kept for a restart: clients hold the address, and the controller quorum's
        # address is part of the data the node formatted.
        port = self.port = self.port or free_port()
        controller_port = self.controller_port = self.controller_port or free_port()
        if self.secure is not None:
            self.sasl_ssl_port = self.sasl_ssl_port or free_port()
            self.mtls_port = self.mtls_port or free_port()
        config = self.workdir / "server.properties"
        config.write_text(self.server_properties(self.workdir, port, controller_port))
        log4j = self.workdir / "log4j2.properties"
        log4j.write_text(_LOG4J2)
        base = [
            java,
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log4j}",
            f"-Dkafka.logs.dir={self.workdir / 'app-logs'}",
            "-cp",
            str(jars / "*"),
        ]
        # Formatted once: a restart starts on the data as it is, with its cluster id.
        if not (self.workdir / "logs" / "meta.properties").exists():
            cmd = [*base, "kafka.tools.StorageTool", "format", "-t", _cluster_id()]
            cmd += ["-c", str(config), "--ignore-formatted"]
            if self.secure is not None:
                cmd += self.secure.scram_arguments()
            formatted = subprocess.run(cmd, check=False, capture_output=True, text=True)
            if formatted.returncode != 0:
                tail = formatted.stderr.strip()[-2000:]
                raise RuntimeError(f"kafka-storage format failed: {tail}")
        log = (self.workdir / "broker.log").open("ab")
        self._proc = subprocess.Popen(
            [*base, "kafka.Kafka", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.bootstrap = f"127.0.0.1:{port}"
        try:
            asyncio.run(self._await_ready_and_create_topics())
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    async def _await_ready_and_create_topics(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"Kafka exited during start-up; see {self.log_path}")
            admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=5000)
            try:
                await admin.start()
                await admin.describe_cluster()
                break
            except (KafkaError, OSError):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"Kafka not ready after {self.startup_timeout}s") from None
                await asyncio.sleep(0.3)
            finally:
                await admin.close()
        if self.topics:
            await ensure_topics(self.connection, self.topics, self.partitions)

    @property
    def connection(self) -> KafkaConnection:
        """The PLAINTEXT listener (administration, tests that need no security)."""
        return KafkaConnection(bootstrap_servers=self.bootstrap)

    @property
    def sasl_ssl_bootstrap(self) -> str:
        if self.secure is None:
            raise RuntimeError("the broker has no SASL_SSL listener (secure=None)")
        return f"127.0.0.1:{self.sasl_ssl_port}"

    @property
    def mtls_bootstrap(self) -> str:
        if self.secure is None:
            raise RuntimeError("the broker has no mutual-TLS listener (secure=None)")
        return f"127.0.0.1:{self.mtls_port}"

    @property
    def log_path(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "broker.log"

    def _stop_process(self, kill: bool, timeout: float) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def restart(self, kill: bool = False, down_seconds: float = 0.0, timeout: float = 30.0) -> None:
        """Stop the broker (SIGKILL with ``kill``: no clean shutdown, the logs are recovered
        on start) and start it again on its existing data, same ports, same cluster."""
        if self.workdir is None:
            raise RuntimeError("the broker was never started")
        self._stop_process(kill, timeout)
        time.sleep(down_seconds)
        self.start()
        self.restarts += 1

    def stop(self, timeout: float = 30.0) -> None:
        self._stop_process(kill=False, timeout=timeout)
        if self._owns_workdir and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> LocalKafka:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9092)
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--resolve", action="store_true", help="only fetch the jars, then exit")
    parser.add_argument(
        "--secure",
        action="store_true",
        help="also listen with SASL_SSL and mutual TLS (a throw-away CA and user)",
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.resolve:
        print(f"Kafka {kafka_version()} jars in {resolve_jars(quiet=False)}")
        return 0
    pki_dir = Path(tempfile.mkdtemp(prefix="oncoscrub-pki-")) if args.secure else None
    pki = make_pki(pki_dir) if pki_dir is not None else None
    secure = None
    if pki is not None:
        secure = SecureListeners(pki.server, pki.ca, {"oncoscrub": secrets.token_urlsafe(18)})
    kafka = LocalKafka(port=args.port, partitions=args.partitions, secure=secure).start()
    print(
        f"Kafka {kafka_version()} ready on {kafka.bootstrap} "
        f"in {kafka.startup_seconds:.1f}s (Ctrl-C stops it)",
        flush=True,
    )
    if secure is not None and pki is not None:
        [(user, password)] = secure.users.items()
        settings = {
            "ONCOSCRUB_BOOTSTRAP_SERVERS": kafka.sasl_ssl_bootstrap,
            "ONCOSCRUB_SECURITY_PROTOCOL": "SASL_SSL",
            "ONCOSCRUB_SASL_MECHANISM": "SCRAM-SHA-512",
            "ONCOSCRUB_SASL_USERNAME": user,
            "ONCOSCRUB_SASL_PASSWORD": password,
            "ONCOSCRUB_SSL_CAFILE": str(pki.ca),
        }
        mtls = {
            "ONCOSCRUB_BOOTSTRAP_SERVERS": kafka.mtls_bootstrap,
            "ONCOSCRUB_SECURITY_PROTOCOL": "SSL",
            "ONCOSCRUB_SSL_CAFILE": str(pki.ca),
            "ONCOSCRUB_SSL_CERTFILE": str(pki.client_cert),
            "ONCOSCRUB_SSL_KEYFILE": str(pki.client_key),
            "ONCOSCRUB_SSL_KEY_PASSWORD": pki.client_key_password,
        }
        for title, env in (("SASL_SSL, SCRAM-SHA-512", settings), ("mutual TLS", mtls)):
            print(f"{title}: a worker in this shell reaches it with")
            print("".join(f"  export {k}={shlex.quote(v)}\n" for k, v in env.items()), end="")
    try:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while True:
            time.sleep(1)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        kafka.stop()
        if pki_dir is not None:
            shutil.rmtree(pki_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
