"""The HTTP plumbing: a threaded server on 127.0.0.1 whose handler hands every request to the
double, and a one-write answer writer (keep-alive HTTP/1.1, exact Content-Length)."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.doubles.stripe_api import StripeDouble


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
        self.server.double.handle(self)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _serve  # noqa: N815 - http.server names

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: tests and benchmarks read `StripeDouble.requests` instead of a log."""


class StripeServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], double: StripeDouble) -> None:
        self.double = double
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
