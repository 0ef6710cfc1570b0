"""A throw-away certificate authority for the local broker's TLS listeners (tests, demos).

``make_pki(dir)`` writes PEM files: a CA, the broker's key and certificate chain in one file
(Kafka's ``ssl.keystore.type=PEM``), a client certificate for mutual TLS with its key
encrypted under a password, and a second CA that nobody trusts. Never for production.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True, slots=True)
class LocalPki:
    ca: Path  # the CA clients trust, and the broker trusts for client certificates
    server: Path  # the broker's private key (PKCS#8) and certificate chain
    client_cert: Path  # the client's certificate chain
    client_key: Path  # the client's key, encrypted with client_key_password
    client_key_password: str
    untrusted_ca: Path  # a CA nobody trusts


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "oncoscrub local test"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])  # fmt: skip


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _pkcs8(key: ec.EllipticCurvePrivateKey, password: str | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password.encode())
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


_CA_USAGE = x509.KeyUsage(
    digital_signature=True, content_commitment=False, key_encipherment=False,
    data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
    encipher_only=False, decipher_only=False,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Authority:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @classmethod
    def create(cls, name: str, now: dt.datetime) -> _Authority:
        key = _key()
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_CA_USAGE, critical=True)
            .sign(key, hashes.SHA256())
        )
        return cls(key, cert)

    def issue(
        self,
        name: str,
        now: dt.datetime,
        usage: x509.ObjectIdentifier,
        hosts: Sequence[str] = (),
    ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = _key()
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if hosts:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([_general_name(h) for h in hosts]), critical=False
            )
        return key, builder.sign(self.key, hashes.SHA256())


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def make_pki(
    directory: Path,
    hosts: Sequence[str] = ("127.0.0.1", "localhost"),
    client_name: str = "oncoscrub-worker",
) -> LocalPki:
    """Write the CA, the broker's and a client's certificates for ``hosts`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca = _Authority.create("oncoscrub local test CA", now)
    server_key, server = ca.issue(
        "oncoscrub local broker", now, ExtendedKeyUsageOID.SERVER_AUTH, hosts
    )
    client_key, client = ca.issue(client_name, now, ExtendedKeyUsageOID.CLIENT_AUTH)
    other = _Authority.create("a CA nobody trusts", now)
    password = secrets.token_urlsafe(16)
    files = {
        "ca.pem": _pem(ca.cert),
        "server.pem": _pkcs8(server_key) + _pem(server) + _pem(ca.cert),
        "client.pem": _pem(client) + _pem(ca.cert),
        "client-key.pem": _pkcs8(client_key, password),
        "untrusted-ca.pem": _pem(other.cert),
    }
    for name, data in files.items():
        path = directory / name
        path.write_bytes(data)
        path.chmod(0o600)
    return LocalPki(
        ca=directory / "ca.pem",
        server=directory / "server.pem",
        client_cert=directory / "client.pem",
        client_key=directory / "client-key.pem",
        client_key_password=password,
        untrusted_ca=directory / "untrusted-ca.pem",
    )
