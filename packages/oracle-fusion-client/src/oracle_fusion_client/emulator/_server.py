"""Serving the emulator over HTTP/1.1 on a port, in the foreground or a background thread."""

from __future__ import annotations

import threading
from collections.abc import Generator
from contextlib import contextmanager

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from ._app import FusionEmulator

__all__ = ["make_emulator_server", "running_emulator"]


class _Handler(WSGIRequestHandler):
    """HTTP/1.1 keep-alive; a dropped connection (injected reset/timeout) is really closed."""

    protocol_version = "HTTP/1.1"

    def connection_dropped(self, error: BaseException, environ: object = None) -> None:
        self.close_connection = True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Quiet: tests and the demo print their own output."""


def make_emulator_server(
    emulator: FusionEmulator, *, host: str = "127.0.0.1", port: int = 0
) -> BaseWSGIServer:
    """A threaded werkzeug server for ``emulator``; ``port=0`` picks a free port."""
    return make_server(host, port, emulator, threaded=True, request_handler=_Handler)


def base_url(server: BaseWSGIServer) -> str:
    return f"http://{server.host}:{server.port}"


@contextmanager
def running_emulator(
    emulator: FusionEmulator | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> Generator[tuple[str, FusionEmulator], None, None]:
    """Serve in a background thread; yields ``(base_url, emulator)`` and stops on exit."""
    emu = emulator or FusionEmulator()
    server = make_emulator_server(emu, host=host, port=port)
    thread = threading.Thread(target=server.serve_forever, name="fusion-emulator", daemon=True)
    thread.start()
    try:
        yield base_url(server), emu
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
