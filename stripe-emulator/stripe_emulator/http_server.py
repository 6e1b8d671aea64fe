"""The HTTP plumbing: a threaded server on 127.0.0.1 whose handler hands every request to a
responder (the emulator), the request as read, and a one-write answer writer (keep-alive
HTTP/1.1, exact Content-Length, Stripe's `Request-Id` header)."""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    """One request as the emulator saw it; header names are Title-Cased (`Stripe-Version`)."""

    method: str
    path: str
    params: dict[str, list[str]]
    headers: dict[str, str]


def read_request(handler: BaseHTTPRequestHandler) -> Request:
    split = urlsplit(handler.path)
    return Request(
        handler.command,
        split.path,
        parse_qs(split.query, keep_blank_values=True),
        {name.title(): value for name, value in handler.headers.items()},
    )


def new_request_id() -> str:
    """A fresh `Request-Id`: Stripe sends one on every answer
    (https://docs.stripe.com/api/request_ids)."""
    return f"req_{os.urandom(7).hex()}"


class Responder(Protocol):
    """What the server hands each request to."""

    def handle(self, handler: Handler) -> None: ...


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def write_answer(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    request_id: str,
    extra: dict[str, str],
    *,
    declared_length: int | None = None,
) -> None:
    """One write per answer: the status line, headers and body in a single buffer."""
    lines = [
        f"HTTP/1.1 {status} {_reason(status)}",
        "Content-Type: application/json",
        f"Content-Length: {declared_length if declared_length is not None else len(body)}",
        f"Request-Id: {request_id}",
    ]
    lines.extend(f"{name}: {value}" for name, value in extra.items())
    if handler.close_connection:
        lines.append("Connection: close")
    try:
        handler.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    except OSError:  # the client hung up (timed out, or stop() closed the socket)
        handler.close_connection = True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60
    server: StripeServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.responder.handle(self)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _serve  # noqa: N815 - http.server names

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: no access log on stderr (the demo's and benchmarks' output stays readable)."""


class StripeServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], responder: Responder) -> None:
        self.responder = responder
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up mid-request (timeouts, stop()) are normal here, not tracebacks."""
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)

    def close_all_connections(self) -> None:
        """Hang up kept-alive connections so no handler thread outlives `stop()`."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
