"""The emulator as a WSGI application: routing, sessions, API usage, faults, control endpoints."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from werkzeug.wrappers import Request, Response

from ._avro import AvroRegistry
from ._bus import BusEvent, EventBus
from ._cdc_feed import CdcFeed, change_channel
from ._cometd import CometdEmulator
from ._faults import EmulatedDisconnect, EmulatedTimeout, Fault, FaultBook
from ._oauth import ConnectedApp, EmulatorUser, OAuthError, TokenIssuer
from ._rest import RestApi
from ._schema import ObjectDef, default_objects
from ._soap import CONTENT_TYPE as SOAP_CONTENT_TYPE
from ._soap import soap_login
from ._store import ORG_ID, ApiFailure, Org, error

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["Call", "SalesforceEmulator"]

CONTROL = "/__emulator__/"
_DATA = re.compile(r"^/services/data/v(\d+\.\d)(?:/(.*))?$")
_SOAP_LOGIN = re.compile(r"^/services/Soap/u/(\d+\.\d)/?$")
_VERSIONS = ("58.0", "59.0", "60.0", "61.0", "62.0", "63.0", "64.0", "65.0", "66.0", "67.0")
_INVALID_SESSION = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
_STATUS_CODES = {429: "REQUEST_LIMIT_EXCEEDED", 500: "UNKNOWN_EXCEPTION", 503: "SERVER_UNAVAILABLE"}


@dataclass(frozen=True)
class Call:
    """One request the emulator received (``client`` from ``Sforce-Call-Options``)."""

    method: str
    path: str
    client: str | None


def _client_of(call_options: str | None) -> str | None:
    for part in (call_options or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "client":
            return value
    return None


def _release_label(version: str) -> str:
    """The release name Salesforce labels an API version with: v20.0 was Winter '11, and
    three releases (Winter, Spring, Summer) follow each year (v59.0 is Winter '24)."""
    n = int(float(version)) - 20
    season = ("Winter", "Spring", "Summer")[n % 3]
    return f"{season} '{11 + n // 3:02d}"


def _json(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    response = Response(
        json.dumps(body), status=status, content_type="application/json;charset=UTF-8"
    )
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


class SalesforceEmulator:
    """A stateful, in-memory Salesforce org speaking the REST API (a WSGI app).

    * default mode accepts any well-formed credentials; ``strict=True`` accepts only the
      configured ``users`` and ``apps`` (JWT signatures checked against the app certificate);
    * ``api_limit``: the daily API request limit reported in ``Sforce-Limit-Info``;
    * ``per_app_limit``/``app_name``: also report ``per-app-api-usage=N/M(appName=...)``;
    * ``seed``: start with the documented seed data;
    * ``objects``: extra sObjects, or replacements of seeded ones by name (for example a
      ``Payment__c`` with more fields; keep the seeded fields if ``seed`` is on).
    """

    def __init__(
        self,
        *,
        strict: bool = False,
        users: Sequence[EmulatorUser] = (),
        apps: Sequence[ConnectedApp] = (),
        refresh_tokens: Mapping[str, str] | None = None,
        api_limit: int = 15000,
        per_app_limit: int | None = None,
        app_name: str = "paysync",
        seed: bool = True,
        objects: Sequence[ObjectDef] = (),
        bus: EventBus | None = None,
    ) -> None:
        self.tokens = TokenIssuer(
            strict=strict, users=users, apps=apps, refresh_tokens=refresh_tokens
        )
        self.faults = FaultBook()
        self.api_limit = api_limit
        # When set, Sforce-Limit-Info also carries the connected app's own allocation
        # ("api-usage=25/5000; per-app-api-usage=17/250(appName=sample-connected-app)").
        self.per_app_limit = per_app_limit
        self.app_name = app_name
        self.api_used = 0
        self.extra_objects = tuple(objects)
        self._usage_lock = threading.Lock()
        self.calls: deque[Call] = deque(maxlen=1000)
        self.bus = bus if bus is not None else EventBus()
        self.cdc = CdcFeed(self.bus)
        self.cometd = CometdEmulator(
            self.bus,
            authenticate=self.tokens.accepts,
            channel_exists=self._channel_exists,
            faults=self.faults,
            schema_of=self._schema_of,
        )
        self.org = Org()
        self.schemas = AvroRegistry(default_objects().values())
        self.rest = RestApi(self.org, limits=self._limits)
        self.reset(seed=seed)

    def reset(self, *, seed: bool = True) -> None:
        """Forget all records, events, faults and usage (sessions stay valid)."""
        catalog = default_objects()
        catalog.update({o.name.lower(): o for o in self.extra_objects})
        self.org = Org(objects=catalog)
        if seed:
            self.org.seed_default()
        self.schemas = AvroRegistry(catalog.values())
        self.rest = RestApi(self.org, limits=self._limits, feed=self.cdc, schemas=self.schemas)
        self.faults.clear()
        self.calls.clear()
        with self._usage_lock:
            self.api_used = 0

    def _schema_of(self, event: BusEvent) -> str | None:
        schema = self.schemas.for_event(event.topic, event.payload)
        return schema.schema_id if schema is not None else None

    def _limits(self) -> tuple[int, int]:
        with self._usage_lock:
            return self.api_used, self.api_limit

    def _limit_info(self) -> str:
        """``Sforce-Limit-Info`` (call with ``_usage_lock`` held)."""
        info = f"api-usage={self.api_used}/{self.api_limit}"
        if self.per_app_limit is not None:
            used = min(self.api_used, self.per_app_limit)
            info += f"; per-app-api-usage={used}/{self.per_app_limit}(appName={self.app_name})"
        return info

    def set_api_usage(self, used: int, limit: int | None = None) -> None:
        with self._usage_lock:
            self.api_used = used
            if limit is not None:
                self.api_limit = limit

    def add_fault(self, fault: Fault) -> None:
        self.faults.add(fault)

    # -- WSGI -------------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Socket front end: a reset drops the connection, a post-commit timeout stalls."""
        try:
            response = self.respond(environ)
        except EmulatedDisconnect:
            sock = environ.get("werkzeug.socket")
            if isinstance(sock, socket.socket):
                sock.shutdown(socket.SHUT_RDWR)
            response = Response(b"", status=500)
        except EmulatedTimeout as stalled:
            time.sleep(stalled.delay)
            response = cast("Response", stalled.response)
        return response(environ, start_response)

    def respond(self, environ: WSGIEnvironment) -> Response:
        """Answer one request; raises ``EmulatedDisconnect``/``EmulatedTimeout`` for faults."""
        request = Request(environ)
        path = request.path
        if path.startswith(CONTROL):
            return self._control(request, path[len(CONTROL) :].strip("/"))
        self.calls.append(
            Call(request.method, path, _client_of(request.headers.get("Sforce-Call-Options")))
        )
        fault = self.faults.take(request.method, path)
        if fault is not None:
            early = self._apply_fault(fault)
            if early is not None:
                return early
        response = self._route(request, path)
        if fault is not None and fault.kind == "timeout_after_commit":
            raise EmulatedTimeout(fault.delay, response)
        return response

    def _apply_fault(self, fault: Fault) -> Response | None:
        if fault.kind == "latency":
            time.sleep(fault.delay)
        elif fault.kind == "status":
            code = fault.error_code or _STATUS_CODES.get(fault.status, "UNKNOWN_EXCEPTION")
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else None
            return _json(fault.status, [error(code, f"Emulated fault ({fault.status})")], headers)
        elif fault.kind == "reset":
            raise EmulatedDisconnect
        elif fault.kind == "expire_session":
            self.tokens.expire_all()
        elif fault.kind == "limit_exhausted":
            with self._usage_lock:
                self.api_used = self.api_limit
        return None

    def _channel_exists(self, channel: str) -> bool:
        """Streaming channels of this org: CDC of enabled entities, and platform events."""
        if channel == "/data/ChangeEvents":
            return True
        if channel.startswith("/data/"):
            return any(
                change_channel(o.name) == channel and self.cdc.enabled(o.name)
                for o in self.org.objects.values()
            )
        name = channel.removeprefix("/event/")
        return channel.startswith("/event/") and any(
            o.event and o.name == name for o in self.org.objects.values()
        )

    def _route(self, request: Request, path: str) -> Response:
        base_url = request.host_url.rstrip("/")
        if path.startswith("/cometd/"):
            return self.cometd.respond(request)
        if path == "/services/oauth2/token" and request.method == "POST":
            return self._token(request, base_url)
        soap = _SOAP_LOGIN.match(path)
        if soap is not None and request.method == "POST":
            status, xml = soap_login(self.tokens, request.get_data(), soap.group(1), base_url)
            return Response(xml, status=status, content_type=SOAP_CONTENT_TYPE)
        if path == "/services/oauth2/revoke" and request.method == "POST":
            self.tokens.revoke(request.form.get("token", ""))
            return Response(b"", status=200)
        if path == "/services/oauth2/userinfo" or path.startswith("/id/"):
            token = self._bearer(request)
            if not self.tokens.accepts(token):
                # The identity service answers one word of plain text (the data API: 401 JSON).
                return Response("Bad_OAuth_Token", status=403, content_type="text/plain")
            return _json(200, self.tokens.userinfo(token or "", base_url))
        if path.rstrip("/") == "/services/data" and request.method == "GET":
            return _json(
                200,
                [
                    {"label": _release_label(v), "url": f"/services/data/v{v}", "version": v}
                    for v in _VERSIONS
                ],
            )
        match = _DATA.match(path)
        if match is None:
            return _json(404, [error("NOT_FOUND", "The requested resource does not exist")])
        return self._data(request, match.group(1), match.group(2) or "")

    @staticmethod
    def _bearer(request: Request) -> str | None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme.lower() in {"bearer", "oauth"} and token.strip() else None

    def _token(self, request: Request, base_url: str) -> Response:
        form = dict(request.form.items())
        auth = request.authorization
        basic = (
            (auth.username or "", auth.password or "") if auth and auth.type == "basic" else None
        )
        try:
            return _json(200, self.tokens.token(form, basic, base_url))
        except OAuthError as exc:
            return _json(exc.status, exc.body)

    def _data(self, request: Request, version: str, rest: str) -> Response:
        if not self.tokens.accepts(self._bearer(request)):
            return _json(401, _INVALID_SESSION)
        with self._usage_lock:
            if self.api_used >= self.api_limit:
                body = [error("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")]
                return _json(403, body, {"Sforce-Limit-Info": self._limit_info()})
            self.api_used += 1
            limit_info = self._limit_info()
        headers = {"Sforce-Limit-Info": limit_info}
        raw = request.get_data()
        try:
            if request.mimetype == "text/csv":
                body: Any = raw.decode("utf-8")
            else:
                body = json.loads(raw) if raw else None
        except ValueError:
            return _json(
                400, [error("JSON_PARSER_ERROR", "Unexpected character in JSON body")], headers
            )
        parts = [p for p in rest.split("/") if p]
        try:
            answer = self.rest.handle(
                # HEAD is answered as GET (the WSGI layer drops the body), as Salesforce does.
                "GET" if request.method == "HEAD" else request.method,
                parts,
                version=version,
                params=dict(request.args.items()),
                headers=dict(request.headers.items()),
                body=body,
            )
        except ApiFailure as failure:
            return _json(failure.status, failure.errors, headers)
        headers.update(answer.headers)
        if answer.body is None or isinstance(answer.body, str):
            response = Response(answer.body or b"", status=answer.status)
            if isinstance(answer.body, str):
                response.content_type = "text/csv; charset=UTF-8"
            for key, value in headers.items():
                response.headers[key] = value
            return response
        return _json(answer.status, answer.body, headers)

    # -- control ----------------------------------------------------------------------------

    def _control(self, request: Request, name: str) -> Response:
        raw = request.get_data()
        try:
            data: Any = json.loads(raw) if raw else {}
        except ValueError:
            return _json(400, {"error": "invalid JSON"})
        payload = cast("dict[str, Any]", data) if isinstance(data, dict) else {}
        if name == "reset" and request.method == "POST":
            self.reset(seed=bool(payload.get("seed", True)))
            return _json(200, {"reset": True})
        if name == "seed" and request.method == "POST":
            return self._seed(payload)
        if name == "faults":
            return self._faults(request.method, data)
        if request.method == "POST":
            options = request.headers.get("Sforce-Call-Options")
            answered = self.cdc.control(self.org, name, payload, options)
            if answered is not None:
                return _json(*answered)
        if name == "state" and request.method == "GET":
            return _json(200, self.state())
        if name == "expire_sessions" and request.method == "POST":
            return _json(200, {"expired": self.tokens.expire_all()})
        if name == "api_usage" and request.method == "POST":
            limit = payload.get("limit")
            self.set_api_usage(int(payload.get("used", 0)), int(limit) if limit else None)
            return _json(200, {"used": self.api_used, "limit": self.api_limit})
        return _json(404, {"error": f"unknown control endpoint {name!r}"})

    def _seed(self, payload: dict[str, Any]) -> Response:
        created: dict[str, list[str]] = {}
        records = cast("dict[str, list[dict[str, Any]]]", payload.get("records") or {})
        try:
            with self.org.lock:
                for sobject, rows in records.items():
                    obj = self.org.obj(sobject)
                    created[obj.name] = [self.org.create(obj, dict(row)) for row in rows]
        except ApiFailure as failure:
            return _json(failure.status, failure.errors)
        return _json(200, {"created": created})

    def _faults(self, method: str, data: Any) -> Response:
        if method == "DELETE":
            self.faults.clear()
        elif method == "POST":
            items = cast("list[Any]", data) if isinstance(data, list) else [data]
            try:
                for item in items:
                    self.faults.add(Fault.from_json(cast("dict[str, Any]", item)))
            except (ValueError, TypeError, KeyError) as exc:
                return _json(400, {"error": str(exc)})
        return _json(200, {"faults": [f.to_json() for f in self.faults.pending()]})

    def state(self) -> dict[str, Any]:
        with self.org.lock:
            records = {name: list(table.values()) for name, table in self.org.records.items()}
            events = list(self.org.events)
        used, limit = self._limits()
        return {
            "org_id": ORG_ID,
            "records": records,
            "events": events,
            "api_usage": {"used": used, "limit": limit},
            "sessions": len(self.tokens.issued),
            "faults": [f.to_json() for f in self.faults.pending()],
            "calls": [{"method": c.method, "path": c.path, "client": c.client} for c in self.calls],
        }
