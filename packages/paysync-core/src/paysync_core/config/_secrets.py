"""Credentials come from secret providers, never from the configuration file itself.

A configuration names a secret by reference, ``<scheme>:<name>``:

* ``env:PAYTRACE_PASSWORD`` an environment variable;
* ``file:/run/secrets/paytrace`` a file readable by its owner only (like ssh keys);
* ``keyring:paysync/paytrace-password`` the operating system's keyring (extra ``keyring``).

Cloud secret managers plug in with :meth:`SecretResolver.register`. Resolved values are
:class:`pydantic.SecretStr`, so they never show in reprs, logs or error messages.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable

from pydantic import SecretStr

from paysync_core._errors import ConfigurationError

__all__ = [
    "EnvSecretProvider",
    "FileSecretProvider",
    "KeyringSecretProvider",
    "SecretProvider",
    "SecretResolutionError",
    "SecretResolver",
    "parse_secret_ref",
]


class SecretResolutionError(ConfigurationError):
    """A secret reference could not be resolved; names the reference, never a value.

    Callers that know the configuration key (``paysync config check``, the client builders)
    prefix it, so the operator sees ``paytrace.password: ...`` and the reference.
    """

    def __init__(self, ref: str, problem: str) -> None:
        self.ref = ref
        self.problem = problem
        super().__init__(f"{problem} (secret reference {ref!r})")


@runtime_checkable
class SecretProvider(Protocol):
    """Looks a secret up by the part of the reference after ``<scheme>:``."""

    def get(self, name: str) -> str: ...


def parse_secret_ref(ref: str) -> tuple[str, str]:
    """Split ``scheme:name``; raise :class:`ConfigurationError` naming what is wrong."""
    scheme, sep, name = ref.partition(":")
    if not sep or not scheme or not name:
        raise ConfigurationError(
            f"secret reference {ref!r} must look like 'env:NAME', 'file:/path' or "
            "'keyring:service/name'"
        )
    return scheme, name


class EnvSecretProvider:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ if environ is not None else os.environ

    def get(self, name: str) -> str:
        value = self._environ.get(name)
        if not value:
            raise ConfigurationError(f"environment variable {name} is not set or empty")
        return value


class FileSecretProvider:
    """Reads a file that only its owner may read or write (mode 0600 or 0400)."""

    def get(self, name: str) -> str:
        path = Path(name)
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            raise ConfigurationError(f"secret file {path} cannot be read: {exc.strerror}") from None
        if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigurationError(
                f"secret file {path} is accessible by group or others "
                f"(mode {stat.S_IMODE(mode):04o}); expected 0600 or 0400"
            )
        value = path.read_text(encoding="utf-8").strip()
        if not value:
            raise ConfigurationError(f"secret file {path} is empty")
        return value


class KeyringSecretProvider:
    """``keyring:<service>/<username>`` through the ``keyring`` package (extra ``keyring``)."""

    def get(self, name: str) -> str:
        service, sep, username = name.rpartition("/")
        if not sep or not service or not username:
            raise ConfigurationError(f"keyring reference {name!r} must be 'service/username'")
        try:
            import keyring
        except ImportError:  # pragma: no cover - depends on the installed extras
            raise ConfigurationError(
                "keyring secrets need the 'keyring' extra: pip install 'paysync-core[keyring]'"
            ) from None
        from keyring.errors import KeyringError

        try:
            value = keyring.get_password(service, username)
        except KeyringError as exc:
            # No backend on this host (NoKeyringError), a backend that failed to start
            # (InitError) or a locked one: a configuration problem, not a crash. The
            # backend's message says what to install; it never contains the password.
            detail = " ".join(str(exc).split()) or "no detail"
            raise ConfigurationError(
                f"keyring backend cannot read {service}/{username}: {type(exc).__name__}: {detail}"
            ) from None
        if not value:
            raise ConfigurationError(f"keyring has no password for {service}/{username}")
        return value


class SecretResolver:
    """Resolves ``scheme:name`` references through registered providers."""

    def __init__(self, providers: Mapping[str, SecretProvider] | None = None) -> None:
        self._providers: dict[str, SecretProvider] = (
            dict(providers)
            if providers is not None
            else {
                "env": EnvSecretProvider(),
                "file": FileSecretProvider(),
                "keyring": KeyringSecretProvider(),
            }
        )

    def register(self, scheme: str, provider: SecretProvider | Callable[[str], str]) -> None:
        """Add a provider (for example a cloud secret manager) under ``scheme``."""
        if isinstance(provider, SecretProvider):
            self._providers[scheme] = provider
        else:
            self._providers[scheme] = _CallableProvider(provider)

    @property
    def schemes(self) -> tuple[str, ...]:
        return tuple(sorted(self._providers))

    def resolve(self, ref: str) -> SecretStr:
        scheme, name = parse_secret_ref(ref)
        provider = self._providers.get(scheme)
        if provider is None:
            raise ConfigurationError(
                f"secret reference {ref!r} uses unknown scheme {scheme!r}; "
                f"known: {', '.join(self.schemes)}"
            )
        try:
            return SecretStr(provider.get(name))
        except SecretResolutionError:
            raise
        except ConfigurationError as exc:
            raise SecretResolutionError(ref, str(exc)) from None


class _CallableProvider:
    def __init__(self, function: Callable[[str], str]) -> None:
        self._function = function

    def get(self, name: str) -> str:
        return self._function(name)
