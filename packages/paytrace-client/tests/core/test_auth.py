from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from paytrace_client import PayTraceAuthError
from paytrace_client._auth import PasswordGrant, StaticToken, TokenCache

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class FakeTokenEndpoint:
    def __init__(self, expires_in: int = 7200, delay: float = 0.0) -> None:
        self.requests: list[Mapping[str, str]] = []
        self.expires_in = expires_in
        self.delay = delay
        self._lock = threading.Lock()

    def __call__(self, form: Mapping[str, str]) -> Mapping[str, Any]:
        with self._lock:
            self.requests.append(dict(form))
            n = len(self.requests)
        time.sleep(self.delay)
        return {"access_token": f"tok-{n}", "token_type": "bearer", "expires_in": self.expires_in}


GRANT = PasswordGrant(username="demo123", password="s3cret-pass")


def test_password_grant_posts_the_password_grant_fields() -> None:
    endpoint = FakeTokenEndpoint()
    cache = TokenCache(GRANT, endpoint, clock=Clock())
    assert cache.get().value == "tok-1"
    assert endpoint.requests == [
        {"grant_type": "password", "username": "demo123", "password": "s3cret-pass"}
    ]


def test_token_is_cached_for_its_lifetime_and_refreshed_before_expiry() -> None:
    clock, endpoint = Clock(), FakeTokenEndpoint(expires_in=7200)
    cache = TokenCache(GRANT, endpoint, clock=clock, refresh_margin=timedelta(seconds=120))
    first = cache.get()
    clock.now = T0 + timedelta(seconds=7000)
    assert cache.get() is first
    clock.now = T0 + timedelta(seconds=7081)  # within the 120 s margin
    assert cache.get().value == "tok-2"
    assert len(endpoint.requests) == 2


def test_invalidate_forces_a_new_token_only_once_for_a_refused_token() -> None:
    endpoint = FakeTokenEndpoint()
    cache = TokenCache(GRANT, endpoint, clock=Clock())
    refused = cache.get()
    cache.invalidate(refused)
    fresh = cache.get()
    cache.invalidate(refused)  # a second thread reporting the same stale token changes nothing
    assert cache.get() is fresh
    assert len(endpoint.requests) == 2


def test_concurrent_callers_share_one_token_request() -> None:
    endpoint = FakeTokenEndpoint(delay=0.05)
    cache = TokenCache(GRANT, endpoint, clock=Clock())
    values: list[str] = []
    threads = [threading.Thread(target=lambda: values.append(cache.get().value)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert values == ["tok-1"] * 8
    assert len(endpoint.requests) == 1


def test_token_response_without_access_token_is_an_auth_error() -> None:
    cache = TokenCache(GRANT, lambda _form: {"token_type": "bearer"}, clock=Clock())
    with pytest.raises(PayTraceAuthError):
        cache.get()


def test_static_token_needs_no_request_and_cannot_refresh() -> None:
    cache = TokenCache(StaticToken("abc:def:123"), FakeTokenEndpoint(), clock=Clock())
    assert cache.get().value == "abc:def:123"
    assert not cache.can_refresh()


def test_secrets_never_show_in_reprs() -> None:
    cache = TokenCache(GRANT, FakeTokenEndpoint(), clock=Clock())
    token = cache.get()
    for text in (repr(GRANT), repr(cache), repr(token), repr(StaticToken("abc:def:123"))):
        assert "s3cret-pass" not in text
        assert "tok-1" not in text
        assert "abc:def:123" not in text


def test_empty_credentials_are_rejected() -> None:
    with pytest.raises(ValueError, match="password"):
        PasswordGrant(username="u", password="")
