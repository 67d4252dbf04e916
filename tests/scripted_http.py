"""HTTP answers scripted by a test, to show what the connectors make of an API that misbehaves.

:class:`ScriptedSession` hands the connector real ``requests`` responses over urllib3's, without a socket;
:class:`ScriptedServer` is a real server on 127.0.0.1, for what only a transport shows: redirects, bodies that
stream without end, bodies cut short.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
import urllib3

JSON = {"Content-Type": "application/json"}


def as_bytes(body: object) -> bytes:
    return body if isinstance(body, bytes) else json.dumps(body).encode()


def answer(body: object, status: int = 200, headers: dict | None = None) -> requests.Response:
    """``body`` (bytes, or a value sent as JSON) as the response ``Session.get(..., stream=True)`` returns."""
    headers = {**JSON, **(headers or {})}
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers)
    response.raw = urllib3.HTTPResponse(io.BytesIO(as_bytes(body)), headers=headers, status=status,
                                        preload_content=False)
    return response


class ScriptedSession:
    """Answers with the given bodies (or responses) in turn; asking for more than were scripted fails the test."""

    def __init__(self, bodies: Iterable[object]):
        self.bodies, self.headers = list(bodies), {}
        self.asked: list[str] = []

    def get(self, url: str, **_options) -> requests.Response:
        self.asked.append(url)
        body = self.bodies.pop(0)
        return body if isinstance(body, requests.Response) else answer(body)


@dataclass
class Scripted:
    """One answer of :class:`ScriptedServer`: ``body`` bytes are sent with their length unless ``headers`` give
    one; an iterable of bytes is sent as it is produced, without a length, until the client hangs up."""

    body: bytes | Iterable[bytes] = b""
    status: int = 200
    headers: dict = field(default_factory=lambda: dict(JSON))


class ScriptedServer:
    """A real HTTP server answering each GET with the next :class:`Scripted` answer; ``paths`` records what was
    asked and ``sent`` how many body bytes went out."""

    def __init__(self, *answers: Scripted):
        self.answers, self.paths, self.sent = list(answers), [], 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.paths.append(self.path)
                scripted = server.answers.pop(0)
                self.send_response(scripted.status)
                for name, value in scripted.headers.items():
                    self.send_header(name, value)
                if isinstance(scripted.body, bytes) and "Content-Length" not in scripted.headers:
                    self.send_header("Content-Length", str(len(scripted.body)))
                self.end_headers()
                chunks = [scripted.body] if isinstance(scripted.body, bytes) else scripted.body
                try:
                    for chunk in chunks:
                        self.wfile.write(chunk)
                        server.sent += len(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading: what a cap is for

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
