"""Ed25519 keys that sign audit checkpoints: loaded from settings, made by ``audit keygen``.

The private key comes from ``ONCOSCRUB_AUDIT_SIGNING_KEY``: the PEM text itself, or the
path of a PEM file (PKCS#8, as ``openssl genpkey -algorithm ed25519`` writes it), with
``ONCOSCRUB_AUDIT_SIGNING_KEY_PASSWORD`` if it is encrypted. Errors name the setting,
never its value.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from worker.private_files import write_private

KEY_SETTING = "ONCOSCRUB_AUDIT_SIGNING_KEY"


class SigningKeyError(ValueError):
    """A signing or public key cannot be used (the message names the setting or file)."""


class SigningSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONCOSCRUB_AUDIT_", extra="ignore")

    # PEM text, or the path of a PEM file. Unset: batch checkpoints are written unsigned.
    signing_key: SecretStr | None = None
    signing_key_password: SecretStr | None = None


def key_id(public: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key: names the key a checkpoint was signed with."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class Signer:
    private: Ed25519PrivateKey

    @property
    def key_id(self) -> str:
        return key_id(self.private.public_key())

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self.private.sign(message)).decode()


def signer_from_settings(settings: SigningSettings | None = None) -> Signer | None:
    """The configured signer, or None when no key is configured."""
    settings = settings or SigningSettings()
    if settings.signing_key is None:
        return None
    value = settings.signing_key.get_secret_value().strip()
    if value.startswith("-----BEGIN"):
        pem = value.encode()
    else:
        try:
            pem = Path(value).expanduser().read_bytes()
        except OSError:
            raise SigningKeyError(
                f"{KEY_SETTING} is neither PEM text nor the path of a readable file"
            ) from None
    password = settings.signing_key_password
    try:
        private = serialization.load_pem_private_key(
            pem, password.get_secret_value().encode() if password else None
        )
    except (ValueError, TypeError):
        raise SigningKeyError(
            f"{KEY_SETTING} does not hold a PEM private key that opens "
            "(wrong or missing ONCOSCRUB_AUDIT_SIGNING_KEY_PASSWORD?)"
        ) from None
    if not isinstance(private, Ed25519PrivateKey):
        raise SigningKeyError(f"{KEY_SETTING} holds a private key that is not Ed25519")
    return Signer(private)


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        public = serialization.load_pem_public_key(path.read_bytes())
    except OSError as e:
        raise SigningKeyError(f"{path}: cannot be read ({e.strerror})") from None
    except ValueError:
        raise SigningKeyError(f"{path}: not a PEM public key") from None
    if not isinstance(public, Ed25519PublicKey):
        raise SigningKeyError(f"{path}: the public key is not Ed25519")
    return public


def signature_holds(public: Ed25519PublicKey, signature_b64: str, message: bytes) -> bool:
    try:
        public.verify(base64.b64decode(signature_b64, validate=True), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def generate(private_path: Path, public_path: Path) -> str:
    """A new key pair: the private key (PKCS#8 PEM, 0600) and the public key; its key id."""
    private = Ed25519PrivateKey.generate()
    write_private(
        private_path,
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    public = private.public_key()
    public_path.write_bytes(
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return key_id(public)
