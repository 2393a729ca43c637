"""Serving the emulator on a port: HTTP/1.1 keep-alive, one thread per connection.

Injected network faults need the socket, which a WSGI app never sees, so the server wraps
the app: a reset closes the connection with an RST (``SO_LINGER`` 0) and no response; a
response withheld after commit keeps the connection silent, then drops it the same way.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from ._app import PayTraceEmulator
from ._faults import EmulatedConnectionResetError, ResponseWithheldError

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["EmulatorServer", "make_emulator_server"]


class _Handler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; werkzeug's default handler speaks 1.0 framing

    def connection_dropped(
        self, error: BaseException, environ: WSGIEnvironment | None = None
    ) -> None:
        # werkzeug calls this when the app raises ConnectionError: close with an RST, no bytes.
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
