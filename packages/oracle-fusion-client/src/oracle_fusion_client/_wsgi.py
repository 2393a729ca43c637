"""A ``requests`` transport adapter that calls a WSGI application in-process.

Mount it on a session (``session.mount("https://fusion.test/", WSGIAdapter(app))``) and every
request to that prefix is handled by ``app`` without a socket. An application signals a
network failure by raising :class:`ConnectionResetError` (the connection is dropped: the
client sees ``requests.ConnectionError``) or :class:`TimeoutError` (the client sees
``requests.ReadTimeout``), so fault injection behaves as it does over TCP.
"""

from __future__ import annotations

from collections.abc import Iterable
from io import BytesIO
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from urllib3 import HTTPResponse
from werkzeug.test import EnvironBuilder, run_wsgi_app

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

__all__ = ["WSGIAdapter"]


class WSGIAdapter(BaseAdapter):
    """Send requests to a WSGI application instead of the network."""

    def __init__(self, app: WSGIApplication) -> None:
        super().__init__()
        self.app = app

    def send(  # noqa: PLR0917 - BaseAdapter.send's signature
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        url = request.url or ""
        parts = urlsplit(url)
        data = _body_bytes(request.body)
        headers_in = [
            (k, v.decode("latin-1") if isinstance(v, bytes) else v)
            for k, v in request.headers.items()
        ]
        builder = EnvironBuilder(
            path=parts.path or "/",
            base_url=f"{parts.scheme}://{parts.netloc}",
            query_string=parts.query,
            method=request.method or "GET",
            headers=headers_in,
            data=data,
        )
        environ = builder.get_environ()
        builder.close()
        try:
            app_iter, status, headers = run_wsgi_app(self.app, environ, buffered=True)
            content = b"".join(app_iter)
        except ConnectionResetError as exc:
            raise requests.ConnectionError("connection reset by peer", request=request) from exc
        except TimeoutError as exc:
            raise requests.ReadTimeout("read timed out", request=request) from exc
        response = requests.Response()
        response.status_code = int(status.split(" ", 1)[0])
        response.reason = status.split(" ", 1)[1] if " " in status else ""
        response.headers = CaseInsensitiveDict(dict(headers.items()))
        response.raw = HTTPResponse(
            body=BytesIO(content),
            headers=dict(headers.items()),
            status=response.status_code,
            preload_content=False,
        )
        response.url = url
        response.request = request
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        return response

    def close(self) -> None:
        """Nothing to release."""


def _body_bytes(body: object) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, Iterable):
        return b"".join(
            c if isinstance(c, bytes) else str(c).encode() for c in cast(Iterable[object], body)
        )
    raise TypeError(f"unsupported request body: {type(body).__name__}")
