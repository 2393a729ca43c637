"""The WSGI application: routing, authentication, faults, batch and control endpoints."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote

import requests
from werkzeug.wrappers import Request, Response

from oracle_fusion_client._wsgi import WSGIAdapter

from . import _rules as rules
from . import _views as views
from ._authcheck import AuthPolicy
from ._crm_accounts import CRM_ROOT, crm_get
from ._customer_soap import CUSTOMER_SOAP_PATHS, customer_wsdl_text, handle_customer_soap
from ._describe import DESCRIBE_TYPE, describe_resource
from ._describe import catalog as describe_catalog
from ._erp import erp_get, erp_post
from ._faults import Fault, FaultQueue
from ._idcs import TOKEN_PATH, IdcsClient, IdcsError, token_response
from ._render import COLLECTION_TYPE, ITEM_TYPE, child_collection, collection, dumps, error_body
from ._render import render_item as render
from ._soap import LEGACY_SERVICE_PATH, SERVICE_PATH, handle_soap, wsdl_text
from ._state import READ_ONLY, RESOURCES, ApiError, State
from ._tokenrelay import TOKEN_RELAY_PATH, TokenRelay

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["EmulatorConfig", "FusionEmulator"]

log = logging.getLogger("oracle_fusion_client.emulator")
API_VERSIONS = ("11.13.18.05", "latest")
ROOT = "/fscmRestApi/resources"
CONTROL = "/__emulator__"
Result = tuple[int, Any, dict[str, str]]


@dataclass(frozen=True)
class EmulatorConfig:
    """How the emulator behaves; the defaults accept any well-formed credentials."""

    auth: AuthPolicy = field(default_factory=AuthPolicy)
    default_framework_version: int = 1
    seed: Mapping[str, Any] | None = None
    today: Callable[[], date] = date.today
    now: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc))
    """The clock of the who-columns (``CreationDate``, ``LastUpdateDate``) writes stamp."""
    idcs_clients: tuple[IdcsClient, ...] = ()
    """Applications of the emulated identity domain (``POST /oauth2/v1/token``); none means
    any well-formed token request is granted."""


#: resource -> its PATCH rule (reference §3.2 invoices, §3.3 credit memos)
_PATCHERS: Mapping[str, Callable[[State, str, Mapping[str, Any]], None]] = {
    "receivablesInvoices": rules.patch_invoice,
    "receivablesCreditMemos": rules.patch_credit_memo,
}


def _etag_matches(header: str | None, etag: str) -> bool:
    """RFC 9110 list matching: ``*``, or any listed tag (a weak ``W/`` prefix ignored)."""
    if header is None:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


def _body_suppressed(accept: str) -> bool:
    """``Accept: application/vnd.oracle.adf.resourceitem+json;q=0`` asks for no response
    body (reference §2 Media types): the status and headers still come back."""
    for media_range in accept.split(","):
        media, *params = (p.strip() for p in media_range.split(";"))
        if media.lower() != ITEM_TYPE:
            continue
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    return float(value) == 0
                except ValueError:
                    return False
    return False


class FusionEmulator:
    """A stateful Oracle Fusion ``fscmRestApi`` emulator (a WSGI application)."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.state = State(self.config.seed, clock=self.config.now)
        self.faults = FaultQueue()
        self.token_relay = TokenRelay()

    # -- Python control API (the HTTP control endpoints call these) ----------------------
    def reset(self) -> None:
        self.state = State(self.config.seed, clock=self.config.now)
        self.faults.clear()

    def inject(self, fault: Fault) -> None:
        self.faults.add(fault)

    def session(self, base_url: str = "https://fusion.emulator") -> requests.Session:
        """A ``requests.Session`` whose calls to ``base_url`` are served in-process."""
        session = requests.Session()
        session.mount(base_url.rstrip("/") + "/", WSGIAdapter(self))
        return session

    # -- WSGI ----------------------------------------------------------------------------
    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        response = self.handle(request)
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        path = request.path
        fv_header = request.headers.get("REST-Framework-Version")
        framework = int(fv_header) if fv_header and fv_header.isdigit() else None
        framework = framework or self.config.default_framework_version
        try:
            if path.startswith(CONTROL + "/"):
                return self._json(*self._control(request, path[len(CONTROL) :]))
            fault = self.faults.take(request.method, path)
            if fault is not None:
                self._pre_fault(fault)
            own = self._self_authenticated(request, path, fault)
            if own is not None:
                return own
            authorization = request.headers.get("Authorization")
            now = self.config.now()
            user = self.token_relay.user_of(authorization, now) or self.config.auth.check(
                authorization
            )
            if path.rstrip("/") == TOKEN_RELAY_PATH:
                return self._relay(request.method, user)
            if path.startswith(CRM_ROOT + "/"):  # the crmRestApi accounts view
                rest = [s for s in path[len(CRM_ROOT) + 1 :].split("/") if s]
                params = dict(request.args.items())
                origin = request.host_url.rstrip("/")
                result = crm_get(self.state, request.method, rest, params, origin)
            else:
                result = self._route(request, path, user)
            if fault is not None and fault.kind == "timeout_after_commit":
                time.sleep(fault.delay)
                raise TimeoutError("the emulator committed, then timed out")
            return self._respond(request, result)
        except ApiError as exc:
            body, ctype = error_body(exc, framework)
            return Response(body, status=exc.status, headers=exc.headers, content_type=ctype)
        except (ConnectionError, TimeoutError):
            raise  # injected network faults
        except Exception as exc:  # an emulator bug or a payload it cannot digest: answer 500
            log.exception("emulator error")
            error = ApiError(500, f"Internal error in the emulator: {type(exc).__name__}")
            body, ctype = error_body(error, framework)
            return Response(body, status=500, content_type=ctype)

    @staticmethod
    def _respond(request: Request, result: Result) -> Response:
        status, payload, headers = result
        if status == 304 or payload is None:
            return Response(b"", status=status, headers=headers)
        if _body_suppressed(request.headers.get("Accept", "")):
            headers.pop("Content-Type", None)
            return Response(b"", status=status, headers=headers)
        ctype = headers.pop("Content-Type", ITEM_TYPE)
        return Response(dumps(payload), status=status, headers=headers, content_type=ctype)

    def _self_authenticated(
        self, request: Request, path: str, fault: Fault | None
    ) -> Response | None:
        """The endpoints that authenticate the caller themselves (SOAP, the identity
        domain's token endpoint), or None for the REST API."""
        if path in (SERVICE_PATH, LEGACY_SERVICE_PATH):
            return self._soap(request, path)
        if path == TOKEN_PATH:
            return self._idcs_token(request)
        if path in CUSTOMER_SOAP_PATHS:
            response = self._customer_soap(request, path)
            if fault is not None and fault.kind == "timeout_after_commit":
                time.sleep(fault.delay)
                raise TimeoutError("the emulator committed, then timed out")
            return response
        return None

    def _idcs_token(self, request: Request) -> Response:
        """The identity domain's token endpoint (see ``_idcs``)."""
        if request.method != "POST":
            raise ApiError(405, "Use POST for the token endpoint.")
        now = self.config.now()
        try:
            _, _, body = token_response(
                self.config.idcs_clients,
                form=dict(request.form.items()),
                authorization=request.headers.get("Authorization"),
                content_type=request.headers.get("Content-Type", ""),
                now=now,
                sign=lambda user, client_id, scope: self.token_relay.issue_idcs(
                    user, client_id, scope, now
                ),
            )
        except IdcsError as exc:
            headers = {"WWW-Authenticate": "Basic"} if exc.status == 401 else {}
            return Response(
                dumps(exc.body()),
                status=exc.status,
                headers={"Cache-Control": "no-store", **headers},
                content_type="application/json",
            )
        return Response(
            dumps(body),
            status=200,
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
            content_type="application/json",
        )

    def _relay(self, method: str, user: str) -> Response:
        if method != "GET":
            raise ApiError(405, "Use GET for the token relay.")
        token = self.token_relay.issue(user, self.config.now())
        return Response(dumps(token), status=200, content_type="application/json")

    def _soap(self, request: Request, path: str = SERVICE_PATH) -> Response:
        if request.method == "GET" and "wsdl" in {k.lower() for k in request.args}:
            text = wsdl_text(request.host_url.rstrip("/") + path)
            return Response(text, content_type="text/xml; charset=UTF-8")
        if request.method != "POST":
            raise ApiError(405, "Use POST for SOAP requests, or GET ?WSDL.")
        status, body = handle_soap(
            self.state,
            self.config.auth,
            request.get_data(),
            request.headers.get("Authorization"),
        )
        return Response(body, status=status, content_type="text/xml; charset=UTF-8")

    def _customer_soap(self, request: Request, path: str) -> Response:
        if request.method == "GET" and "wsdl" in {k.lower() for k in request.args}:
            text = customer_wsdl_text(path, request.host_url.rstrip("/"))
            return Response(text, content_type="text/xml; charset=UTF-8")
        if request.method != "POST":
            raise ApiError(405, "Use POST for SOAP requests, or GET ?WSDL.")
        status, body = handle_customer_soap(
            self.state,
            self.config.auth,
            path,
            request.get_data(),
            request.headers.get("Authorization"),
            self.config.today(),
        )
        return Response(body, status=status, content_type="text/xml; charset=UTF-8")

    def _pre_fault(self, fault: Fault) -> None:
        if fault.kind == "latency":
            time.sleep(fault.delay)
        elif fault.kind == "status":
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after else {}
            raise ApiError(fault.status, "Injected fault.", headers=headers)
        elif fault.kind == "reset":
            raise ConnectionResetError("the emulator dropped the connection")
        elif fault.kind == "expired_token":
            raise ApiError(401, "The token has expired.", headers={"WWW-Authenticate": "Bearer"})
        elif fault.kind == "api_limit":
            now = datetime.now(timezone.utc)
            left = 86400 - (now.hour * 3600 + now.minute * 60 + now.second)
            message = "The daily API request limit has been reached."
            raise ApiError(429, message, headers={"Retry-After": str(left)})

    @staticmethod
    def _json(status: int, payload: Any, headers: dict[str, str]) -> Response:
        return Response(
            dumps(payload), status=status, headers=headers, content_type="application/json"
        )

    # -- routing -------------------------------------------------------------------------
    def _route(self, request: Request, path: str, user: str = "FIN_USER") -> Result:
        if path.rstrip("/") == ROOT and request.method == "GET":
            return 200, self._versions(), {}
        if not path.startswith(ROOT + "/"):
            raise ApiError(404, f"No resource at {path}.")
        version, _, rest = path[len(ROOT) + 1 :].partition("/")
        if version not in API_VERSIONS:
            raise ApiError(404, f"The resource version {version} doesn't exist.")
        base = request.host_url.rstrip("/") + f"{ROOT}/{version}"
        body = self._body(request)
        if rest.strip("/") == "" and request.method == "POST":
            with self.state.lock:
                self.state.actor = user  # the who-columns name the caller
                fv = request.headers.get("REST-Framework-Version", "")
                framework = int(fv) if fv.isdigit() else self.config.default_framework_version
                return self._batch(body, base, framework=framework)
        segments = [unquote(s) for s in self._raw_rest(request, rest).split("/") if s]
        with self.state.lock:
            self.state.actor = user
            headers = {k.lower(): v for k, v in request.headers.items()}
            params = dict(request.args.items())
            return self.dispatch(request.method, segments, params, headers, body=body, base=base)

    @staticmethod
    def _raw_rest(request: Request, rest: str) -> str:
        """``rest`` as sent, still percent-encoded, so a key may contain ``/``."""
        raw = str(request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or "")
        raw = raw.split("?", 1)[0]
        _, _, raw_rest = raw.partition(ROOT + "/")
        raw_rest = raw_rest.partition("/")[2]
        return raw_rest if unquote(raw_rest) == rest else rest

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        raw = request.get_data()
        if not raw:
            return {}
        content_type = request.headers.get("Content-Type", "")
        if content_type and "json" not in content_type.lower():
            # ADF reads resourceitem+json, action+json, batch+json or plain JSON only
            raise ApiError(415, f"The media type {content_type.split(';')[0]} isn't supported.")
        try:
            value: object = json.loads(raw)
        except ValueError:
            raise ApiError(400, "The request body isn't valid JSON.") from None
        if not isinstance(value, dict):
            raise ApiError(400, "The request body must be a JSON object.")
        return cast(dict[str, Any], value)

    def dispatch(
        self,
        method: str,
        segments: list[str],
        params: Mapping[str, str],
        headers: Mapping[str, str],
        *,
        body: Mapping[str, Any],
        base: str,
    ) -> Result:
        """One operation on a resource path (shared by plain requests and batch parts).

        ``headers`` keys are lower-case.
        """
        if segments == ["erpintegrations"]:
            if method == "GET":
                return 200, erp_get(self.state, params), {"Content-Type": COLLECTION_TYPE}
            if method == "POST":
                return 201, erp_post(self.state, body), {}
        if segments and segments[-1] == "describe" and len(segments) <= 2 and method == "GET":
            return self._describe(segments[:-1], base)
        if not segments or segments[0] not in RESOURCES:
            raise ApiError(404, f"The resource {'/'.join(segments)} doesn't exist.")
        resource = segments[0]
        fv = str(headers.get("rest-framework-version", ""))
        framework = int(fv) if fv.isdigit() else self.config.default_framework_version
        if resource in READ_ONLY:
            if method != "GET":
                raise ApiError(405, f"{method} isn't supported on {resource}.")
            views.refresh_activities(self.state)
            views.refresh_currency_rates(self.state)
        if len(segments) == 1:
            if method == "GET":
                page = collection(self.state, resource, params, base, framework=framework)
                return 200, page, {"Content-Type": COLLECTION_TYPE}
            if method == "POST":
                upsert = headers.get("upsert-mode", "false").lower() == "true"
                return self._create(resource, body, upsert=upsert, base=base)
            raise ApiError(405, f"{method} isn't supported on {resource}.")
        if len(segments) == 4:
            return self._sub(
                method, resource, segments[1], segments[2:], body=body, base=base, params=params
            )
        if len(segments) != 2:
            raise ApiError(404, f"The resource {'/'.join(segments)} doesn't exist.")
        return self._item(
            method,
            resource,
            segments[1],
            params,
            headers,
            body=body,
            base=base,
            framework=framework,
        )

    @staticmethod
    def _describe(segments: list[str], base: str) -> Result:
        """``GET [<resource>/]describe``: resource metadata (see ``_describe``)."""
        if not segments:
            return 200, describe_catalog(base), {"Content-Type": DESCRIBE_TYPE}
        if segments[0] not in RESOURCES:
            raise ApiError(404, f"The resource {segments[0]} doesn't exist.")
        return 200, describe_resource(segments[0], base), {"Content-Type": DESCRIBE_TYPE}

    def _sub(
        self,
        method: str,
        resource: str,
        key: str,
        rest: list[str],
        *,
        body: Any,
        base: str,
        params: Mapping[str, str] | None = None,
    ) -> Result:
        kind, name = rest
        if kind == "child" and method == "GET":
            page = child_collection(self.state, resource, key, name, base, params=params)
            return 200, page, {"Content-Type": COLLECTION_TYPE}
        if kind == "child" and method == "POST" and name == "remittanceReferences":
            now = datetime.combine(self.config.today(), datetime.min.time(), timezone.utc)
            reference = views.add_remittance_reference(self.state, key, body, now)
            return 201, reference, {}
        if kind == "action" and method == "POST":
            actions = {
                "applyReceipt": rules.apply_receipt,
                "bulkApplyReceipt": rules.bulk_apply_receipt,
                "reverseReceipt": rules.reverse_receipt,
            }
            if resource != "standardReceipts" or name not in actions:
                raise ApiError(404, f"The action {name} doesn't exist.")
            snapshot = self.state.snapshot()
            try:
                result = actions[name](self.state, key, body, self.config.today())
            except ApiError:
                self.state.restore(snapshot)
                raise
            return 200, result, {"Content-Type": "application/vnd.oracle.adf.actionresult+json"}
        raise ApiError(404, f"The resource {resource}/{key}/{kind}/{name} doesn't exist.")

    def _item(
        self,
        method: str,
        resource: str,
        key: str,
        params: Mapping[str, str],
        headers: Mapping[str, str],
        *,
        body: Mapping[str, Any],
        base: str,
        framework: int = 1,
    ) -> Result:
        state = self.state
        state.get(resource, key)
        etag = state.etag(resource, key)
        if method == "GET":
            if _etag_matches(headers.get("if-none-match"), etag):
                return 304, None, {"ETag": etag}
            item = render(state, resource, key, params, base, framework=framework)
            return 200, item, {"ETag": etag}
        if method == "DELETE" and resource == "standardReceipts":
            state.delete(resource, key)
            return 204, None, {}
        if method in {"PATCH", "PUT"} and resource in _PATCHERS:
            if_match = headers.get("if-match")
            if if_match is not None and not _etag_matches(if_match, etag):
                raise ApiError(412, "The resource was changed by another request.")
            _PATCHERS[resource](state, key, body)
            item = render(state, resource, key, {}, base)
            return 200, item, {"ETag": state.etag(resource, key)}
        raise ApiError(405, f"{method} isn't supported on {resource}/{key}.")

    def _create(self, resource: str, body: Mapping[str, Any], *, upsert: bool, base: str) -> Result:
        today = self.config.today()
        status = 201
        if resource == "standardReceipts":
            existed = {
                k
                for k, r in self.state.records[resource].items()
                if r["ReceiptNumber"] == body.get("ReceiptNumber")
            }
            key = rules.create_receipt(self.state, body, today, upsert=upsert)
            status = 200 if key in existed else 201
        elif resource == "receivablesInvoices":
            key = rules.create_invoice(self.state, body, today)
        elif resource == "receivablesCreditMemos":
            key = rules.create_credit_memo(self.state, body, today)
        else:
            key, created = rules.create_order(self.state, body, upsert=upsert)
            status = 201 if created else 200
        item = render(self.state, resource, key, {}, base, children=True)
        return status, item, {"ETag": self.state.etag(resource, key)}

    def _batch(self, body: Mapping[str, Any], base: str, *, framework: int = 1) -> Result:
        """All or none (reference §2 Batch): when a part fails nothing is kept and, from
        framework 4, the answer lists only the failing part, its payload the JSON error."""
        try:
            return self._run_batch(body, base)
        except ApiError as exc:
            if framework < 4 or exc.part is None:
                raise
            payload = json.loads(error_body(exc, framework)[0])
            failed = {**exc.part, "payload": payload}
            batch_type = "application/vnd.oracle.adf.batch+json"
            return exc.status, {"parts": [failed]}, {"Content-Type": batch_type}

    def _run_batch(self, body: Mapping[str, Any], base: str) -> Result:
        parts = body.get("parts")
        if not isinstance(parts, list) or not parts:
            raise ApiError(400, "A batch request needs a non-empty parts array.")
        verbs = {"get": "GET", "create": "POST", "update": "PATCH", "replace": "PUT"}
        verbs["delete"] = "DELETE"
        results: list[dict[str, Any]] = []
        with self.state.lock:
            snapshot = self.state.snapshot()
            for raw in cast(list[object], parts):
                part = cast(dict[str, Any], raw) if isinstance(raw, dict) else {}
                part_id, part_path, op = part.get("id"), part.get("path"), part.get("operation")
                try:
                    if not part_id or not part_path or op not in verbs:
                        raise ApiError(400, "Each part needs id, path and a valid operation.")
                    headers = {"if-match": str(part["ifMatch"])} if part.get("ifMatch") else {}
                    segments = [unquote(s) for s in str(part_path).split("?")[0].split("/") if s]
                    if len(segments) == 4 and segments[2] == "action":
                        # Oracle: "The action {ACTION_NAME} isn't enabled for batch execution"
                        # (reference §2 Batch); the emulator enables none
                        raise ApiError(
                            400, f"The action {segments[3]} isn't enabled for batch execution."
                        )
                    payload = cast(dict[str, Any], part.get("payload") or {})
                    _, out, _ = self.dispatch(
                        verbs[str(op)], segments, {}, headers, body=payload, base=base
                    )
                except ApiError as exc:
                    self.state.restore(snapshot)
                    exc.path = str(part_id)
                    exc.part = {"id": part_id, "path": part_path, "operation": op}
                    raise
                except Exception:
                    self.state.restore(snapshot)
                    raise
                results.append(
                    {"id": part_id, "path": part_path, "operation": op, "payload": out or {}}
                )
        return 200, {"parts": results}, {"Content-Type": "application/vnd.oracle.adf.batch+json"}

    def _versions(self) -> dict[str, Any]:
        return {
            "items": [
                {
                    "version": "11.13.18.05",
                    "isLatest": True,
                    "adf:extension": {
                        "defaultFrameworkVersion": str(self.config.default_framework_version),
                        "allowedFrameworkVersions": [str(v) for v in range(1, 10)],
                    },
                }
            ]
        }

    # -- control endpoints ---------------------------------------------------------------
    def _control(self, request: Request, sub: str) -> Result:
        method = request.method
        if sub == "/reset" and method == "POST":
            self.reset()
            return 200, {"reset": True}, {}
        if sub in {"/seed", "/state"}:
            with self.state.lock:
                if method == "POST":
                    self.state.seed(self._body(request))
                return 200, self.state.summary(), {}
        if sub == "/faults":
            return self._fault_control(request)
        if sub.startswith("/orders/") and sub.endswith("/ship") and method == "POST":
            key = unquote(sub[len("/orders/") : -len("/ship")])
            with self.state.lock:
                return 200, rules.ship_order(self.state, key), {}
        raise ApiError(404, f"No control endpoint {method} {sub}.")

    def _fault_control(self, request: Request) -> Result:
        if request.method == "DELETE":
            self.faults.clear()
        elif request.method == "POST":
            body = self._body(request)
            specs = body.get("faults", [body])
            try:
                for spec in cast(list[dict[str, Any]], specs):
                    self.faults.add(Fault.from_json(spec))
            except (ValueError, TypeError, KeyError) as exc:
                raise ApiError(400, f"invalid fault: {exc}") from None
        elif request.method != "GET":
            raise ApiError(405, "GET, POST or DELETE")
        return 200, {"faults": self.faults.pending()}, {}
