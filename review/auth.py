"""Who may do what: users and roles, argon2 passwords, the proxy header, sessions, CSRF.

Users come from a TOML file (``ONCOSCRUB_REVIEW_USERS_FILE``)::

    [users.ana]
    role = "coder"            # works the queue
    password_hash = "$argon2id$..."   # oncoscrub review hash-password

    [users.cho]
    role = "compliance"       # reads everything and the audit log; changes nothing

With ``ONCOSCRUB_REVIEW_AUTH=proxy`` a trusted reverse proxy signs people in and
names them in a header; the file then only gives their roles (no passwords).
"""

from __future__ import annotations

import secrets
import time
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict

from schemas.base import Identifier

_hasher = PasswordHasher()
# Verified against when the name is unknown, so a wrong name costs what a wrong password does.
_DUMMY = _hasher.hash(secrets.token_urlsafe(16))


class Role(StrEnum):
    CODER = "coder"
    COMPLIANCE = "compliance"


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: Role

    @property
    def may_edit(self) -> bool:
        return self.role is Role.CODER


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    role: Role
    password_hash: str | None = None


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    users: dict[Identifier, _Entry] = {}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


class Users:
    def __init__(self, entries: dict[str, _Entry]) -> None:
        self._entries = entries

    @classmethod
    def load(cls, path: Path) -> Users:
        """Read the users file; a missing or malformed file is an error naming the file."""
        try:
            doc = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise ValueError(f"users file {path} not found (ONCOSCRUB_REVIEW_USERS_FILE)") from None
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"users file {path}: {exc}") from None
        return cls(dict(_File.model_validate(doc).users))

    @classmethod
    def of(cls, users: dict[str, tuple[Role, str | None]]) -> Users:
        return cls({n: _Entry(role=r, password_hash=h) for n, (r, h) in users.items()})

    def get(self, name: str) -> User | None:
        entry = self._entries.get(name)
        return None if entry is None else User(name, entry.role)

    def authenticate(self, name: str, password: str) -> User | None:
        entry = self._entries.get(name)
        stored = entry.password_hash if entry is not None else None
        try:
            ok = _hasher.verify(stored or _DUMMY, password) and stored is not None
        except (VerificationError, InvalidHashError):
            ok = False
        return User(name, entry.role) if ok and entry is not None else None


# -- sessions and CSRF -------------------------------------------------------------------


def new_csrf() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(session: dict[str, Any], submitted: str | None) -> bool:
    expected = session.get("csrf")
    return bool(expected and submitted) and secrets.compare_digest(str(expected), str(submitted))


def sign_in(session: dict[str, Any], user: User) -> None:
    """A fresh session for the user: a new CSRF token, the clock started."""
    session.clear()
    now = int(time.time())
    session.update(user=user.name, role=user.role.value, csrf=new_csrf(), issued=now, seen=now)


def session_user(session: dict[str, Any], users: Users, max_age_s: int, idle_s: int) -> User | None:
    """The signed-in user, or None when signed out, expired, idle too long or no longer
    in the users file (a removed user is out at their next request)."""
    name = session.get("user")
    if not name:
        return None
    now = int(time.time())
    if (
        now - int(session.get("issued", 0)) > max_age_s
        or now - int(session.get("seen", 0)) > idle_s
    ):
        session.clear()
        return None
    user = users.get(str(name))
    if user is None or user.role.value != session.get("role"):
        session.clear()
        return None
    session["seen"] = now
    return user
