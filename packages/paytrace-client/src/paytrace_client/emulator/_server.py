"""Serving the emulator on a port: HTTP/1.1 keep-alive, one thread per connection.

Injected network faults need the socket, which a WSGI app never sees, so the server wraps
the app: a reset closes the connection with an RST (``SO_LINGER`` 0) and no response; a
response withheld after commit keeps the connection silent, then drops it the same way.
"""

from __future__ import annotations

import contextlib
import io
import socket
import struct
import threading
import traceback
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from ._app import PayTraceEmulator
from ._faults import EmulatedConnectionResetError, ResponseWithheldError

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["EmulatorServer", "make_emulator_server"]


class _Handler(WSGIRequestHandler):
    """werkzeug's request handler, speaking HTTP/1.1 with keep-alive.

    werkzeug's own ``run_wsgi`` closes every connection and, after each response, drains the
    socket (which would swallow a pipelined or quickly-following request). PayTrace clients
    keep connections open, and the emulator's apps always return small, complete bodies, so
    this handler reads the request body completely, runs the app, and writes the response
    with a Content-Length; the socket then stands exactly at the next request line. Accepting,
    threading, request-line parsing and TLS stay werkzeug's.
    """

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; on a kept-alive connection Nagle's
        # algorithm would hold the body back until the client's delayed ACK (~40 ms).
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def make_environ(self) -> WSGIEnvironment:
        environ = super().make_environ()
        if environ.get("wsgi.input_terminated"):  # chunked: werkzeug's dechunker reads to the end
            body = environ["wsgi.input"].read()
        else:
            length = environ.get("CONTENT_LENGTH", "")
            body = self.rfile.read(int(length)) if length.isdigit() else b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("wsgi.input_terminated", None)
        return environ

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        environ = self.make_environ()
        started: list[tuple[str, list[tuple[str, str]]]] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: object = None
        ) -> Callable[[bytes], object]:
            started[:] = [(status, headers)]
            return lambda _data: None  # the legacy write() callable; our apps never use it

        try:
            body = b"".join(self.server.app(environ, start_response))
        except self.connection_dropped_errors as error:
            self.connection_dropped(error, environ)
            return
        except Exception:
            self.log_error("emulator error:\n%s", traceback.format_exc())
            started[:] = [("500 INTERNAL SERVER ERROR", [("Content-Type", "text/plain")])]
            body = b"Internal Server Error"
        status, headers = started[0]
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason)
        for name, value in headers:
            if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if environ["REQUEST_METHOD"] != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def connection_dropped(
        self, error: BaseException, environ: WSGIEnvironment | None = None
    ) -> None:
        # Called when the app raises ConnectionError: close with an RST and no bytes.
        self.close_connection = True
        with contextlib.suppress(OSError):  # the peer may have closed it already
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Silent: a load test would otherwise drown the console."""


class _NetworkFaults:
    """WSGI middleware turning withheld responses into silence followed by a reset."""

    def __init__(self, app: WSGIApplication, stopping: threading.Event) -> None:
        self.app = app
        self.stopping = stopping

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            return self.app(environ, start_response)
        except ResponseWithheldError as exc:
            # The write is committed; the client must see nothing until it gives up.
            self.stopping.wait(exc.hold_seconds)
            raise EmulatedConnectionResetError("response withheld after commit") from None


def make_emulator_server(
    app: WSGIApplication | PayTraceEmulator,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    stopping: threading.Event | None = None,
) -> BaseWSGIServer:
    """A threaded werkzeug server for ``app``; ``port=0`` picks a free port."""
    wrapped = _NetworkFaults(app, stopping or threading.Event())
    return make_server(host, port, wrapped, threaded=True, request_handler=_Handler)


class EmulatorServer:
    """The emulator on a real port in a background thread; a context manager.

    >>> with EmulatorServer() as server:            # doctest: +SKIP
    ...     requests.post(server.base_url + "/oauth/token", data={...})
    """

    def __init__(
        self,
        emulator: PayTraceEmulator | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.emulator = emulator if emulator is not None else PayTraceEmulator()
        self._stopping = threading.Event()
        self._server = make_emulator_server(
            self.emulator, host=host, port=port, stopping=self._stopping
        )
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self._server.host}:{self._server.port}"

    @property
    def port(self) -> int:
        return self._server.port

    def start(self) -> EmulatorServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="paytrace-emulator", daemon=True
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`stop` (or KeyboardInterrupt)."""
        try:
            self._server.serve_forever()
        finally:
            self._stopping.set()
            self._server.server_close()

    def stop_serving(self) -> None:
        """Make :meth:`serve_forever` return (call from another thread or a signal helper)."""
        self._stopping.set()
        self._server.shutdown()

    def stop(self) -> None:
        self._stopping.set()  # release connections holding a withheld response
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
            self._server.server_close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
