"""The WSGI application: fault gate, authentication, dispatch, PayTrace-like headers.

``PayTraceEmulator`` owns the state, the config and the fault rules; calling it is the WSGI
app. Routing is a dict lookup on the path (every v1 endpoint is a fixed ``POST`` path), which
keeps a sale at a few tens of microseconds.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wsgi import get_input_stream

from . import _checks, _customers, _exports, _protect, _transactions
from ._auth import bearer_user, expire, issue_token
from ._config import EmulatorConfig
from ._context import Ctx, Handler
from ._faults import EmulatedConnectionResetError, FaultBook, FaultRule, ResponseWithheldError
from ._responses import ApiError, Json, as_obj, err, error_body
from ._seed import seed
from ._state import State

if TYPE_CHECKING:
    import requests
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["CONTROL_PREFIX", "READ_TIMEOUT_KEY", "PayTraceEmulator"]

CONTROL_PREFIX = "/__emulator__/"
#: Set by the in-process adapter: the client's read timeout, so injected latency longer than
#: it behaves like a real timeout (the server still commits) instead of just sleeping.
READ_TIMEOUT_KEY = "paytrace_emulator.read_timeout"

ROUTES: dict[str, Handler] = {
    **_transactions.ROUTES,
    **_customers.ROUTES,
    **_checks.ROUTES,
    **_exports.ROUTES,
    "/v1/payment_fields/token/create": _protect.client_key,
    "/v1/ping": lambda ctx, body: ("ok", {"success": True}),
}

_JSON_TYPE = "application/json; charset=utf-8"
_V1_CACHE = "max-age=0, private, must-revalidate"
_NOT_FOUND: Json = {"status": 404, "error": "Not Found"}
_STATUS_LINES: dict[int, str] = {}
_DEFAULT_5XX = "<html><body><h1>{status} Service Unavailable</h1></body></html>"


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _status_line(code: int) -> str:
    line = _STATUS_LINES.get(code)
    if line is None:
        line = _STATUS_LINES[code] = f"{code} {HTTP_STATUS_CODES.get(code, 'Unknown')}"
    return line


def read_body(environ: WSGIEnvironment) -> bytes:
    """The request body; the common Content-Length case without werkzeug's stream wrapper."""
    length = environ.get("CONTENT_LENGTH")
    if length and length.isdigit() and not environ.get("wsgi.input_terminated"):
        return environ["wsgi.input"].read(int(length))
    return get_input_stream(environ).read()  # chunked or unknown length


# Built once: json.dumps/loads with options construct a new encoder/decoder on every call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), default=_json_default)
_DECODER = json.JSONDecoder(parse_float=Decimal)


def dumps(payload: Any) -> bytes:
    return _ENCODER.encode(payload).encode()


def _nest(pairs: Iterable[tuple[str, str]]) -> Json:
    """Form fields with Rails-style keys (``credit_card[number]``) -> nested dicts."""
    result: Json = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        target = result
        for part in parts[:-1]:
            child = as_obj(target.get(part))
            target[part] = child
            target = child
        target[parts[-1]] = value
    return result


def _form(raw: bytes) -> Json:
    return _nest(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))


def parse_body(raw: bytes, content_type: str) -> Json | None:
    """A JSON object or a form body as a dict; None when it is neither.

    A body that starts with ``{`` is read as JSON whatever the Content-Type says: PHP's curl
    (PayTrace's own samples) labels a JSON string ``x-www-form-urlencoded`` when the caller
    forgets the header, and a real client survives that against PayTrace.
    """
    stripped = raw.strip()
    if not stripped:
        return {}
    if "application/x-www-form-urlencoded" in content_type and not stripped.startswith(b"{"):
        return _form(raw)
    try:
        data: object = _DECODER.decode(raw.decode("utf-8"))
    except ValueError:  # includes UnicodeDecodeError
        return None
    obj = as_obj(data)
    return obj if obj is data else None  # as_obj returns the same object only for a dict


class PayTraceEmulator:
    """A stateful fake of PayTrace's JSON API v1; the instance is a WSGI application."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.faults = FaultBook()
        self.state = self._fresh_state()

    def _fresh_state(self) -> State:
        config = self.config
        state = State(
            next_txn_id=config.first_transaction_id,
            next_check_id=config.first_check_transaction_id,
            next_batch=config.first_batch_number,
        )
        if config.seed:
            seed(state, config.clock())
        return state

    # -- Python control API (the /__emulator__/ endpoints call the same methods) ----------

    def now(self) -> datetime:
        """The emulated time: the config's clock plus any advance."""
        return self.config.clock() + self.state.clock_offset

    def advance_clock(self, seconds: float) -> datetime:
        with self.state.lock:
            self.state.clock_offset += timedelta(seconds=seconds)
        return self.now()

    def reset(self) -> None:
        """Forget everything (transactions, customers, batches, tokens, faults); reseed."""
        self.faults.clear()
        self.state = self._fresh_state()

    def settle(self) -> int | None:
        """Settle every pending transaction into a new batch; its number (None if none)."""
        with self.state.lock:
            batch = _transactions.settle_pending(self.state, self.now())
        return None if batch is None else batch.number

    def add_fault(self, *rules: FaultRule) -> None:
        self.faults.add(*rules)

    def clear_faults(self) -> None:
        self.faults.clear()

    def register_protect_card(self, number: str, month: int, year: int) -> tuple[str, str]:
        """A card as PayTrace Protect would tokenize it -> ``(hpf_token, enc_key)``."""
        with self.state.lock:
            return _protect.register_token(self.state, number, month, year)

    def issue_token(
        self,
        username: str = "demo123",
        password: str = "demo123",  # noqa: S107 - PayTrace's public demo login
    ) -> str:
        """An access token without an HTTP round trip (handy in tests)."""
        form = {"grant_type": "password", "username": username, "password": password}
        status, body = issue_token(self.state, self.config, self.now(), form)
        if status != 200:
            raise ValueError(f"token refused: {body['error']}")
        return str(body["access_token"])

    def session(self, *, base_url: str | None = None) -> requests.Session:
        """A ``requests.Session`` answering from this emulator in-process, no sockets."""
        from ._adapter import in_process_session

        return in_process_session(self, extra_base_url=base_url)

    # -- WSGI ------------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        status, payload, headers = self._handle(environ)
        body = payload.encode() if isinstance(payload, str) else dumps(payload)
        if isinstance(payload, str):
            headers.setdefault("Content-Type", "text/html; charset=utf-8")
        else:
            headers.setdefault("Content-Type", _JSON_TYPE)
            # Rack::ETag (PayTrace runs Rails): a weak ETag and "max-age=0, private,
            # must-revalidate" on 200/201 only; other statuses get "no-cache". Either way a
            # Cache-Control set by the endpoint (the token's "no-store") wins.
            if status in (200, 201):
                etag = hashlib.md5(body, usedforsecurity=False).hexdigest()
                headers["ETag"] = f'W/"{etag}"'
                headers.setdefault("Cache-Control", _V1_CACHE)
            else:
                headers.setdefault("Cache-Control", "no-cache")
        headers.setdefault("Strict-Transport-Security", "max-age=300")  # as in the transcript
        headers["X-Request-Id"] = str(uuid.uuid4())
        headers["X-Runtime"] = f"{time.perf_counter() - started:.6f}"
        headers["Content-Length"] = str(len(body))
        # start_response directly: werkzeug's Response object would cost a third of a sale.
        start_response(_status_line(status), list(headers.items()))
        return [body]

    def _handle(self, environ: WSGIEnvironment) -> tuple[int, Json | str, dict[str, str]]:
        path: str = environ.get("PATH_INFO") or "/"
        if path.startswith(CONTROL_PREFIX):
            from ._control import control

            raw = read_body(environ)
            return control(self, environ["REQUEST_METHOD"], path, raw)
        if len(path) > 1 and path.endswith("/"):  # Rails routes ignore a trailing slash
            path = path.rstrip("/") or "/"
        rule = self.faults.take(path)
        withhold: float | None = None
        if rule is not None:
            kind = rule.kind
            if kind == "http_error":
                text = rule.body if rule.body is not None else _DEFAULT_5XX
                return rule.status, text.format(status=rule.status), {}
            if kind == "rate_limit":
                body: Json = {"error": "rate_limited", "error_description": "Too many requests."}
                return 429, body, {"Retry-After": str(rule.retry_after)}
            if kind == "reset":
                raise EmulatedConnectionResetError(f"injected connection reset on {path}")
            if kind == "expired_token":
                expire(self.state, self.now(), environ.get("HTTP_AUTHORIZATION", ""))
            elif kind == "timeout_after_commit":
                withhold = rule.latency_seconds or self.config.withheld_response_seconds
            elif kind == "latency":
                limit = environ.get(READ_TIMEOUT_KEY)
                if isinstance(limit, float) and rule.latency_seconds > limit:
                    self.config.sleep(limit)
                    withhold = 0.0
                else:
                    self.config.sleep(rule.latency_seconds)
        result = self._dispatch(environ, path)
        if withhold is not None:
            raise ResponseWithheldError(withhold)
        return result

    def _dispatch(
        self, environ: WSGIEnvironment, path: str
    ) -> tuple[int, Json | str, dict[str, str]]:
        method = environ["REQUEST_METHOD"]
        handler = ROUTES.get(path)
        if method != "POST" or (handler is None and path != "/oauth/token"):
            return 404, _NOT_FOUND, {}
        raw = read_body(environ)
        content_type = environ.get("CONTENT_TYPE", "")
        now = self.now()
        if handler is None:  # /oauth/token
            # Doorkeeper reads Rails params: query string, then a form or JSON body whatever
            # its Content-Type claims.
            form = parse_body(raw, content_type)
            if form is None:
                form = _form(raw)
            query = _form(str(environ.get("QUERY_STRING", "")).encode())
            flat = {
                k: str(v) for k, v in {**query, **form}.items() if not isinstance(v, (dict, list))
            }
            status, token_body = issue_token(self.state, self.config, now, flat)
            return status, token_body, {"Cache-Control": "no-store", "Pragma": "no-cache"}
        user, problem = bearer_user(self.state, now, environ.get("HTTP_AUTHORIZATION", ""))
        if user is None:
            challenge = (
                f'Bearer realm="Doorkeeper", error="invalid_token", error_description="{problem}"'
            )
            body = {"error": "invalid_token", "error_description": problem}
            return 401, body, {"WWW-Authenticate": challenge, "Cache-Control": "no-store"}
        config = self.config
        data = parse_body(raw, content_type)
        if data is None:
            return config.error_status, error_body(err("999"), {}), {}
        if config.strict and str(data.get("integrator_id", "")) not in config.integrator_ids:
            return config.error_status, error_body(err("981"), {"external_transaction_id": ""}), {}
        state = self.state
        with state.lock:
            try:
                outcome, reply = handler(Ctx(state, config, now, user), data)
            except ApiError as exc:
                return config.error_status, error_body(exc.errors, exc.extra), {}
        if outcome == "ok":
            return 200, reply, {}
        return (config.decline_status if outcome == "decline" else config.error_status), reply, {}
