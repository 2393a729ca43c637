"""Build the three clients from ``paysync.toml`` and a secret resolver.

The same code builds clients for the emulators (``http://127.0.0.1:...``) and for real
systems: only the configuration differs.
"""

from __future__ import annotations

from dataclasses import dataclass

from oracle_fusion_client import (
    BasicAuth,
    ClientSecret,
    FusionAuth,
    FusionClient,
    FusionJWTAuth,
    IDCSClientCredentialsAuth,
    SigningKey,
)
from paysync_core._errors import ConfigurationError
from paytrace_client import PayTraceClient
from salesforce_bridge import (
    ClientCredentialsGrant,
    JwtBearerGrant,
    PasswordGrant,
    SalesforceBridge,
    SalesforceGrant,
)

from ._models import FusionSection, PaysyncConfig, PayTraceSection, SalesforceSection
from ._secrets import SecretResolver

__all__ = ["Clients", "build_clients", "build_fusion", "build_paytrace", "build_salesforce"]


@dataclass(frozen=True)
class Clients:
    paytrace: PayTraceClient | None
    fusion: FusionClient | None
    salesforce: SalesforceBridge | None


def _need(section: str, key: str, ref: str | None, resolver: SecretResolver) -> str:
    if ref is None:
        raise ConfigurationError(f"{section}.{key} is required for this authentication scheme")
    try:
        return resolver.resolve(ref).get_secret_value()
    except ConfigurationError as exc:
        raise ConfigurationError(f"{section}.{key}: {exc}") from None


def build_paytrace(section: PayTraceSection, resolver: SecretResolver) -> PayTraceClient:
    from zoneinfo import ZoneInfo

    integrator = (
        _need("paytrace", "integrator_id", section.integrator_id, resolver)
        if section.integrator_id
        else None
    )
    return PayTraceClient(
        username=_need("paytrace", "username", section.username, resolver),
        password=_need("paytrace", "password", section.password, resolver),
        integrator_id=integrator,
        base_url=section.base_url,
        export_timezone=ZoneInfo(section.export_timezone),
    )


def _fusion_auth(section: FusionSection, resolver: SecretResolver) -> FusionAuth:
    if section.auth == "basic":
        return BasicAuth(
            _need("fusion", "username", section.username, resolver),
            _need("fusion", "password", section.password, resolver),
        )
    if section.auth == "jwt":
        if not section.issuer:
            raise ConfigurationError("fusion.issuer is required for jwt authentication")
        pem = _need("fusion", "private_key", section.private_key, resolver).encode()
        return FusionJWTAuth(
            username=_need("fusion", "username", section.username, resolver),
            issuer=section.issuer,
            signing_key=SigningKey.from_pem(pem, kid=section.key_id),
        )
    if not section.token_url or not section.scope:
        raise ConfigurationError("fusion.token_url and fusion.scope are required for oauth")
    return IDCSClientCredentialsAuth(
        token_url=section.token_url,
        client=ClientSecret(
            _need("fusion", "client_id", section.client_id, resolver),
            _need("fusion", "client_secret", section.client_secret, resolver),
        ),
        scope=section.scope,
    )


def build_fusion(section: FusionSection, resolver: SecretResolver) -> FusionClient:
    return FusionClient(base_url=section.base_url, auth=_fusion_auth(section, resolver))


def _grant(section: SalesforceSection, resolver: SecretResolver) -> SalesforceGrant:
    client_id = _need("salesforce", "client_id", section.client_id, resolver)
    if section.auth == "jwt":
        return JwtBearerGrant(
            client_id=client_id,
            username=_need("salesforce", "username", section.username, resolver),
            private_key=_need("salesforce", "private_key", section.private_key, resolver),
            login_url=section.login_url,
        )
    if section.auth == "client_credentials":
        return ClientCredentialsGrant(
            client_id=client_id,
            client_secret=_need("salesforce", "client_secret", section.client_secret, resolver),
            my_domain_url=section.login_url,
        )
    return PasswordGrant(
        client_id=client_id,
        client_secret=_need("salesforce", "client_secret", section.client_secret, resolver),
        username=_need("salesforce", "username", section.username, resolver),
        password=_need("salesforce", "password", section.password, resolver),
        login_url=section.login_url,
    )


def build_salesforce(section: SalesforceSection, resolver: SecretResolver) -> SalesforceBridge:
    return SalesforceBridge(
        grant=_grant(section, resolver), client_name="paysync", api_version=section.api_version
    )


def build_clients(config: PaysyncConfig, resolver: SecretResolver | None = None) -> Clients:
    """Clients for every configured system (``None`` where a section is absent)."""
    resolver = resolver or SecretResolver()
    return Clients(
        paytrace=build_paytrace(config.paytrace, resolver) if config.paytrace else None,
        fusion=build_fusion(config.fusion, resolver) if config.fusion else None,
        salesforce=build_salesforce(config.salesforce, resolver) if config.salesforce else None,
    )
