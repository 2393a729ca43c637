"""Where the Pub/Sub auth metadata (``accesstoken``, ``instanceurl``, ``tenantid``) comes from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from salesforce_bridge._auth import SalesforceGrant

__all__ = ["CredentialsProvider", "PubSubCredentials", "credentials_from_grant"]


@dataclass(frozen=True)
class PubSubCredentials:
    """The three values every Pub/Sub RPC carries as metadata. ``repr`` hides the token."""

    access_token: str = field(repr=False)
    instance_url: str
    tenant_id: str

    def __post_init__(self) -> None:
        if not self.access_token:
            raise ValueError("access_token: must not be empty")
        if not self.instance_url.startswith(("https://", "http://")):
            raise ValueError("instance_url: must be an http(s) URL")
        if not self.tenant_id.startswith("00D"):
            raise ValueError("tenant_id: must be an org id (00D...)")

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (
            ("accesstoken", self.access_token),
            ("instanceurl", self.instance_url),
            ("tenantid", self.tenant_id),
        )


CredentialsProvider = Callable[[bool], PubSubCredentials]
"""Called with ``refresh=False`` for the current credentials, ``True`` after an auth error."""


def credentials_from_grant(
    grant: SalesforceGrant, http: requests.Session | None = None
) -> CredentialsProvider:
    """A provider over an OAuth grant: the org id comes from the token's identity URL."""

    def provide(refresh: bool) -> PubSubCredentials:
        if refresh and grant.can_refresh:
            stale = grant.session(http).access_token
            session = grant.refresh(http, stale_token=stale)
        else:
            session = grant.session(http)
        return PubSubCredentials(session.access_token, session.instance_url, session.org_id)

    return provide
