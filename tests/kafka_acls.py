"""The ``kafka-acls.sh`` lines of docs/operations.md, read and applied to a broker, so that a
test runs each principal with exactly the ACLs the documentation gives it.

The local broker is run from Kafka's server jars, which do not hold the command-line tools:
the lines are parsed here (the flags they use) and sent as CreateAcls requests.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.protocol.admin import CreateAclsRequest

from worker.kafka_client import KafkaConnection

DOC = Path(__file__).resolve().parents[1] / "docs" / "operations.md"

# Kafka's protocol codes (org.apache.kafka.common.resource / acl).
RESOURCE = {"--topic": 2, "--group": 3, "--transactional-id": 5}
OPERATION = {
    "Read": 3, "Write": 4, "Create": 5, "Delete": 6, "Alter": 7, "Describe": 8,
    "DescribeConfigs": 10, "AlterConfigs": 11, "IdempotentWrite": 12,
}  # fmt: skip
PATTERN = {"literal": 3, "prefixed": 4}
ALLOW = 3


@dataclass(frozen=True, slots=True)
class Acl:
    principal: str
    resource_type: int
    resource_name: str
    pattern: int
    operation: int


def documented_acls(doc: Path = DOC) -> list[Acl]:
    """Every ACL the ``kafka-acls.sh`` block under "Topic ACLs per principal" adds."""
    text = doc.read_text(encoding="utf-8")
    section = text[text.index("### Topic ACLs per principal") :]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    if block is None:
        raise AssertionError("no kafka-acls.sh block under 'Topic ACLs per principal'")
    lines = block.group(1).replace("\\\n", " ").splitlines()
    principal = ""
    out: list[Acl] = []
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line.startswith("P="):
            principal = line.removeprefix("P=")
        elif line.startswith("$A "):
            out += _parse(shlex.split(line.removeprefix("$A ").replace("$P", principal)))
    return out


def _parse(args: list[str]) -> list[Acl]:
    principal, pattern = "", PATTERN["literal"]
    operations: list[int] = []
    resources: list[tuple[int, str]] = []
    pairs = iter(args)
    for flag in pairs:
        value = next(pairs)
        if flag == "--allow-principal":
            principal = value
        elif flag == "--operation":
            operations.append(OPERATION[value])
        elif flag == "--resource-pattern-type":
            pattern = PATTERN[value]
        elif flag in RESOURCE:
            resources.append((RESOURCE[flag], value))
        else:
            raise AssertionError(f"kafka-acls.sh flag not understood: {flag}")
    if not (principal and operations and resources):
        raise AssertionError(f"incomplete kafka-acls.sh line: {' '.join(args)}")
    return [
        Acl(principal, kind, name, pattern, op) for kind, name in resources for op in operations
    ]


async def apply(conn: KafkaConnection, acls: list[Acl]) -> None:
    """Create the ACLs (as a super user, over ``conn``)."""
    admin = AIOKafkaAdminClient(**conn.options())
    await admin.start()
    try:
        for acl in acls:
            request = CreateAclsRequest(
                acl.resource_type, acl.resource_name, acl.pattern, acl.principal, "*",
                acl.operation, ALLOW,
            )  # fmt: skip
            # aiokafka has no public ACL call; its admin client sends any request.
            response = await admin._send_request(request)
            [(code, message)] = response.creation_responses
            if code != 0:
                raise AssertionError(f"CreateAcls {acl}: error {code} {message}")
    finally:
        await admin.close()
