"""The Flask application factory: configuration, security headers, CSRF, blueprints."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect  # pyright: ignore[reportMissingTypeStubs]
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from paysync_core import open_ledger

from ._api import api
from ._auth import current_user_or_none, install_auth
from ._config import AuthMode, DashboardConfig, Role
from ._data import EXTENSION, DashboardState
from ._present import duration, safe_json, safe_text
from ._queries import FlowTotals
from ._streams import registered_reporters
from ._usecases import build_pages
from ._views import blueprint

__all__ = ["create_app"]

_LOG = logging.getLogger(__name__)
_DEV_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


def create_app(config: DashboardConfig, *, host: str = "127.0.0.1") -> Flask:
    """The dashboard for ``config``; ``host`` is where it will listen (decides whether cookies
    default to ``Secure``: on everywhere except a 127.0.0.1/localhost development server)."""
    app = Flask(__name__)
    secret = config.secret_key
    if not secret:
        # sessions then end when the process does; production sets secret_key(_file)
        _LOG.warning("no secret_key configured: using a random one for this process")
        secret = secrets.token_urlsafe(32)
    secure = config.secure_cookies if config.secure_cookies is not None else host not in _DEV_HOSTS
    app.config.update(  # pyright: ignore[reportUnknownMemberType]
        SECRET_KEY=secret,
        SESSION_COOKIE_NAME="paysync_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE=config.same_site,
        SESSION_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        WTF_CSRF_TIME_LIMIT=8 * 3600,
        WTF_CSRF_SSL_STRICT=secure,
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    store = (
        config.ledger
        if config.ledger is not None
        else open_ledger(config.ledger_url, schema=config.schema)
    )
    # SQLite commits flows in seq order; PostgreSQL may commit a sequence value late
    totals = FlowTotals(margin=0 if store.dialect == "sqlite" else 1000)
    with store.transaction() as tx:
        totals.read(tx)  # the one full count, at start rather than in the first request
    app.extensions[EXTENSION] = DashboardState(
        config=config,
        store=store,
        totals=totals,
        use_cases=build_pages(
            config.use_cases,
            include_registered=config.include_registered,
            options=config.usecase_options,
        ),
        reporters=(
            registered_reporters()
            if config.stream_reporters is None
            else tuple(config.stream_reporters)
        ),
    )
    CSRFProtect(app)
    install_auth(app, config)
    app.register_blueprint(blueprint)
    app.register_blueprint(api)
    app.jinja_env.filters["pretty"] = safe_json
    app.jinja_env.filters["txt"] = safe_text
    app.jinja_env.filters["duration"] = duration

    @app.context_processor
    def _globals() -> dict[str, object]:
        user = current_user_or_none()
        return {
            "user": user,
            "can_act": user is not None and user.role is Role.OPERATOR,
            "proxy_auth": config.auth_mode is AuthMode.PROXY,
            "poll_ms": int(config.poll_seconds * 1000),
        }

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> tuple[str, int]:
        return render_template("error.html", code=400, message=error.description), 400

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> tuple[str, int] | Response:
        if error.code is None or error.code < 400:
            return error.get_response()
        return render_template("error.html", code=error.code, message=error.description), error.code

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", _CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app
