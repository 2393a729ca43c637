"""Who is asking: session login against configured users, or a trusted proxy's header.

Every view except ``/login`` and ``/static`` needs a known user; actions need the operator
role. The session keeps only the user's name; the role is looked up in the configuration on
every request, so removing or demoting a user takes effect at once.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar, cast

from flask import Flask, abort, g, redirect, request, session, url_for
from werkzeug.security import check_password_hash
from werkzeug.wrappers import Response

from ._config import AuthMode, DashboardConfig, Role, User

__all__ = [
    "authenticate",
    "current_user",
    "current_user_or_none",
    "install_auth",
    "operator_required",
]

_F = TypeVar("_F", bound=Callable[..., object])
_PUBLIC_ENDPOINTS = frozenset({"dashboard.login", "static"})

# A fixed hash checked when the user is unknown, so timing does not reveal which names exist.
_DUMMY_HASH = "scrypt:32768:8:1$dummysaltdummysa$" + "0" * 128


def authenticate(config: DashboardConfig, name: str, password: str) -> User | None:
    user = config.users.get(name)
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def current_user() -> User:
    return cast(User, g.user)


def current_user_or_none() -> User | None:
    return cast("User | None", g.get("user"))


def _resolve(config: DashboardConfig) -> User | None:
    if config.auth_mode is AuthMode.PROXY:
        name = request.headers.get(config.proxy_user_header, "")
    else:
        name = str(session.get("user", ""))
    return config.users.get(name) if name else None


def install_auth(app: Flask, config: DashboardConfig) -> None:
    @app.before_request
    def _require_login() -> Response | None:
        user = _resolve(config)
        g.user = user
        if user is not None or request.endpoint in _PUBLIC_ENDPOINTS:
            return None
        if request.path.startswith("/api/"):
            abort(401)
        if config.auth_mode is AuthMode.PROXY:
            abort(403)
        return redirect(url_for("dashboard.login", next=request.full_path.rstrip("?")))


def operator_required(view: _F) -> _F:
    @wraps(view)
    def wrapper(*args: object, **kwargs: object) -> object:
        if current_user().role is not Role.OPERATOR:
            abort(403, description="read-only users cannot change the dead-letter queue")
        return view(*args, **kwargs)

    return cast(_F, wrapper)
