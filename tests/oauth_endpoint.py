"""A local OAuth 2.0 token endpoint (client credentials grant) for the OAUTHBEARER tests.

It issues the unsigned JWTs (``"alg": "none"``) that Kafka's default OAUTHBEARER validator
accepts, so a real broker can authenticate a client with them, and it records what each
request carried so that tests can check the grant.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unsigned_jwt(subject: str, lifetime_s: float, scope: str | None) -> str:
    now = time.time()
    claims: dict[str, Any] = {"sub": subject, "iat": now, "exp": now + lifetime_s}
    if scope:
        claims["scope"] = scope
    return f"{_b64({'alg': 'none'})}.{_b64(claims)}."


@dataclass
class TokenEndpoint:
    client_id: str
    client_secret: str
    lifetime_s: int = 3600
    url: str = ""
    # What each request carried: its Basic credentials and form fields.
    requests: list[dict[str, str]] = field(default_factory=list)
    refuse_with: tuple[int, dict[str, str]] | None = None


@contextmanager
def token_endpoint(
    client_id: str = "oncoscrub-worker",
    client_secret: str = "s3cret-client",
    lifetime_s: int = 3600,
) -> Iterator[TokenEndpoint]:
    endpoint = TokenEndpoint(client_id, client_secret, lifetime_s)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            auth = self.headers.get("Authorization", "")
            user, _, password = (
                base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")
                if auth.startswith("Basic ")
                else ("", "", "")
            )
            user, password = urllib.parse.unquote(user), urllib.parse.unquote(password)
            endpoint.requests.append({**form, "client_id": user})
            if endpoint.refuse_with is not None:
                self._answer(*endpoint.refuse_with)
            elif (user, password) != (endpoint.client_id, endpoint.client_secret):
                self._answer(401, {"error": "invalid_client"})
            elif form.get("grant_type") != "client_credentials":
                self._answer(400, {"error": "unsupported_grant_type"})
            else:
                token = unsigned_jwt(user, endpoint.lifetime_s, form.get("scope"))
                self._answer(
                    200,
                    {
                        "access_token": token,
                        "token_type": "Bearer",
                        "expires_in": endpoint.lifetime_s,
                    },
                )

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    endpoint.url = f"http://127.0.0.1:{server.server_port}/oauth2/token"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
