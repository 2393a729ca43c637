"""Mount a WSGI app on a ``requests.Session``: the emulator in-process, without sockets.

``EmulatorAdapter.send`` builds the WSGI environ straight from the prepared request (cheaper
than werkzeug's ``EnvironBuilder``, which matters at thousands of calls per second), runs the
app, and returns a real ``requests.Response``. Injected faults surface as the exceptions a
real network would raise: a reset as ``requests.exceptions.ConnectionError``, a response
withheld after commit (or latency beyond the read timeout) as ``ReadTimeout``.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from ._faults import EmulatedConnectionResetError, ResponseWithheldError

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

    from ._app import PayTraceEmulator

__all__ = ["IN_PROCESS_BASE_URL", "PAYTRACE_BASE_URLS", "EmulatorAdapter", "in_process_session"]

#: A host that can never resolve (RFC 2606), for code that wants an explicit emulator URL.
IN_PROCESS_BASE_URL = "http://paytrace-emulator.invalid"
PAYTRACE_BASE_URLS = ("https://api.paytrace.com", "https://api.sandbox.paytrace.com")


def _read_timeout(timeout: object) -> float | None:
    """The read part of requests' timeout forms: float, (connect, read) or urllib3 Timeout."""
    if isinstance(timeout, tuple):
        parts: tuple[Any, ...] = timeout  # pyright: ignore[reportUnknownVariableType]
        timeout = parts[1] if len(parts) > 1 else None
    read = getattr(timeout, "read_timeout", timeout)
    return float(read) if isinstance(read, (int, float)) else None


def _body_bytes(body: object) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    read = getattr(body, "read", None)  # a file-like body
    data: object = read() if callable(read) else b""
    if isinstance(data, str):
        return data.encode("utf-8")
    return data if isinstance(data, bytes) else b""


class EmulatorAdapter(BaseAdapter):
    """A ``requests`` transport adapter that answers from a WSGI application."""

    def __init__(self, app: WSGIApplication | PayTraceEmulator) -> None:
        super().__init__()
        self.app: Callable[..., Iterable[bytes]] = app

    def send(  # noqa: PLR0917 - the signature is requests' BaseAdapter.send
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        url = request.url or ""
        parts = urlsplit(url)
        body = _body_bytes(request.body)
        https = parts.scheme == "https"
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method or "GET",
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(parts.path) or "/",
            "QUERY_STRING": parts.query,
            "SERVER_NAME": parts.hostname or "localhost",
            "SERVER_PORT": str(parts.port or (443 if https else 80)),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": parts.scheme or "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "paytrace_emulator.read_timeout": _read_timeout(timeout),
        }
        for name, value in request.headers.items():
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            elif key != "CONTENT_LENGTH":
                environ["HTTP_" + key] = value
        captured: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: object = None
        ) -> Callable[[bytes], object]:
            captured["status"] = status
            captured["headers"] = headers
            return lambda data: None

        try:
            result = self.app(environ, start_response)
            try:
                content = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if callable(close):
                    close()
        except EmulatedConnectionResetError as exc:
            raise requests.exceptions.ConnectionError(
                f"Connection aborted: {exc}", request=request
            ) from exc
        except ResponseWithheldError as exc:
            raise requests.exceptions.ReadTimeout(
                f"Read timed out (emulator: {exc})", request=request
            ) from exc
        return self._response(request, captured, content)

    def _response(
        self, request: requests.PreparedRequest, captured: dict[str, Any], content: bytes
    ) -> requests.Response:
        response = requests.Response()
        status: str = captured["status"]
        code, _, reason = status.partition(" ")
        response.status_code = int(code)
        response.reason = reason
        response.headers = CaseInsensitiveDict(captured["headers"])
        response.encoding = get_encoding_from_headers(response.headers)
        response.raw = io.BytesIO(content)
        response.url = request.url or ""
        response.request = request
        response.elapsed = timedelta(0)  # Session.send overwrites it with the real duration
        return response

    def close(self) -> None:
        """Nothing to release: no sockets, no pools."""


def in_process_session(
    app: WSGIApplication | PayTraceEmulator, *, extra_base_url: str | None = None
) -> requests.Session:
    """A Session whose PayTrace (production, sandbox, emulator) URLs hit ``app`` directly."""
    session = requests.Session()
    # No proxies or .netrc for an in-process app; it also spares requests' per-call
    # proxy-bypass lookups, which dominate the cost of a local call.
    session.trust_env = False
    adapter = EmulatorAdapter(app)
    for prefix in (*PAYTRACE_BASE_URLS, IN_PROCESS_BASE_URL):
        session.mount(prefix, adapter)
    if extra_base_url:
        session.mount(extra_base_url.rstrip("/"), adapter)
    return session
