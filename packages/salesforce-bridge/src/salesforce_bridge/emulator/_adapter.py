"""A ``requests`` transport adapter that serves requests from the emulator in-process."""

from __future__ import annotations

import http.client
import io
from http.cookies import SimpleCookie
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.cookies import RequestsCookieJar
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from werkzeug.test import EnvironBuilder

from ._app import SalesforceEmulator
from ._faults import EmulatedDisconnect, EmulatedTimeout

__all__ = ["DEFAULT_BASE_URL", "EmulatorAdapter", "emulator_session"]

DEFAULT_BASE_URL = "https://salesforce.emulator"


class EmulatorAdapter(BaseAdapter):
    """Mount on a ``requests.Session`` to talk to a :class:`SalesforceEmulator` without sockets.

    Faults behave like the network: ``reset`` raises ``requests.ConnectionError`` and
    ``timeout_after_commit`` raises ``requests.ReadTimeout`` after the write was committed.
    """

    def __init__(self, emulator: SalesforceEmulator) -> None:
        super().__init__()
        self.emulator = emulator

    def send(  # noqa: PLR0917 - requests' own adapter signature
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        """Build a WSGI environ from ``request`` and answer it from the emulator."""
        url = urlsplit(request.url or "")
        body = request.body
        data = body.encode() if isinstance(body, str) else body if isinstance(body, bytes) else b""
        builder = EnvironBuilder(
            method=request.method or "GET",
            path=url.path,
            query_string=url.query,
            base_url=f"{url.scheme}://{url.netloc}",
            headers=[(k, str(v)) for k, v in request.headers.items()],
            data=data,
        )
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        try:
            answer = self.emulator.respond(environ)
        except EmulatedDisconnect:
            raise requests.ConnectionError(
                "Connection reset by peer (emulated)", request=request
            ) from None
        except EmulatedTimeout:
            raise requests.ReadTimeout(
                "Read timed out (emulated, after commit)", request=request
            ) from None
        response = requests.Response()
        response.status_code = answer.status_code
        response.reason = answer.status.partition(" ")[2]
        response.headers = CaseInsensitiveDict(dict(answer.headers.items()))
        response.encoding = get_encoding_from_headers(response.headers)
        raw = io.BytesIO(answer.get_data())
        # requests' Session copies Set-Cookie into its jar from raw._original_response.msg;
        # give it one so in-process sessions keep cookies (CometD's BAYEUX_BROWSER) as over TLS.
        message = http.client.HTTPMessage()
        for header in answer.headers.getlist("Set-Cookie"):
            message["Set-Cookie"] = header
        raw._original_response = SimpleNamespace(msg=message)  # type: ignore[attr-defined]
        response.raw = raw
        response.url = request.url or ""
        response.request = request
        # A BytesIO body carries no cookies for requests to extract; CometD needs them.
        jar = RequestsCookieJar()
        for header in answer.headers.getlist("Set-Cookie"):
            for name, morsel in SimpleCookie(header).items():
                jar.set(name, morsel.value, domain=url.hostname or "", path="/")
        response.cookies = jar
        return response

    def close(self) -> None:
        """Nothing to release."""

    def __repr__(self) -> str:
        return f"EmulatorAdapter({self.emulator!r})"


def emulator_session(
    emulator: SalesforceEmulator, base_url: str = DEFAULT_BASE_URL
) -> requests.Session:
    """A ``requests.Session`` with an :class:`EmulatorAdapter` mounted for ``base_url``."""
    session = requests.Session()
    session.mount(base_url, EmulatorAdapter(emulator))
    return session
