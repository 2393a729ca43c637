"""Alert sinks: a generic JSON webhook (Slack / Teams compatible) and email over SMTP.

Errors are re-raised as :class:`AlertDeliveryError` with messages that never include the
webhook URL (Slack and Teams URLs are credentials) or the SMTP password.
"""

from __future__ import annotations

import json
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from typing import Literal

import requests

from ._alert_rules import Alert
from ._errors import ConfigurationError, PaysyncError
from ._model import format_ts

__all__ = ["AlertDeliveryError", "EmailSink", "WebhookSink", "webhook_payload"]

WebhookFormat = Literal["slack", "teams", "generic"]


class AlertDeliveryError(PaysyncError):
    """A sink could not deliver an alert (the manager retries on its next evaluation)."""


def webhook_payload(alert: Alert, style: WebhookFormat = "slack") -> dict[str, object]:
    """The JSON body: Slack's ``{"text": ...}``, a Teams ``MessageCard``, or everything."""
    if style == "slack":
        return {"text": alert.text()}
    if style == "teams":
        return {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": alert.title,
            "title": alert.title,
            "themeColor": "D00000" if alert.severity == "critical" else "FFA500",
            "text": alert.text().replace("\n", "  \n"),
        }
    return {
        "text": alert.text(),
        "rule": alert.rule,
        "key": alert.key,
        "severity": alert.severity,
        "summary": alert.summary,
        "at": format_ts(alert.at),
        "details": dict(alert.details),
    }


class WebhookSink:
    """POSTs each alert as JSON to ``url`` (``style``: ``slack``, ``teams`` or ``generic``)."""

    def __init__(
        self,
        url: str,
        *,
        style: WebhookFormat = "slack",
        name: str = "webhook",
        timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
        session: requests.Session | None = None,
    ) -> None:
        if not url.startswith(("https://", "http://")):
            raise ConfigurationError("webhook url must be http(s)")
        self._url = url
        self._style: WebhookFormat = style
        self._name = name
        self._timeout = timeout
        self._headers = dict(headers or {})
        self._session = session or requests.Session()

    @property
    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:  # never show the URL: it is the credential
        return f"WebhookSink(name={self._name!r}, style={self._style!r})"

    def send(self, alert: Alert) -> None:
        try:
            response = self._session.post(
                self._url,
                data=json.dumps(webhook_payload(alert, self._style)).encode(),
                headers={"Content-Type": "application/json", **self._headers},
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            raise AlertDeliveryError(
                f"webhook {self._name} unreachable ({type(exc).__name__})"
            ) from None
        if response.status_code >= 300:
            raise AlertDeliveryError(f"webhook {self._name} answered HTTP {response.status_code}")


class EmailSink:
    """Sends each alert as a plain-text email through an SMTP server.

    ``security``: ``"starttls"`` (upgrade a plain connection), ``"ssl"`` (implicit TLS, port
    465) or ``"none"`` (a local relay). Login happens only when ``username`` is given.
    ``tls_context``: the TLS settings for a server whose certificate the system trust store does
    not know (a private CA); by default the system store is used and the hostname is checked.
    """

    def __init__(
        self,
        host: str,
        *,
        sender: str,
        recipients: Sequence[str],
        port: int = 25,
        username: str | None = None,
        password: str | None = None,
        security: Literal["starttls", "ssl", "none"] = "starttls",
        timeout: float = 10.0,
        name: str = "email",
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        if not recipients:
            raise ConfigurationError("an email sink needs at least one recipient")
        if (username is None) != (password is None):
            raise ConfigurationError("give both username and password, or neither")
        self._host = host
        self._port = port
        self._sender = sender
        self._recipients = list(recipients)
        self._username = username
        self._password = password
        self._security = security
        self._timeout = timeout
        self._name = name
        # None: the system's trust store, hostname checked (a private CA: pass a context)
        self._tls_context = tls_context

    @property
    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"EmailSink(name={self._name!r}, host={self._host!r}, port={self._port})"

    def message(self, alert: Alert) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = alert.title
        message["From"] = self._sender
        message["To"] = ", ".join(self._recipients)
        message["X-Paysync-Alert"] = alert.key
        message.set_content(alert.text() + "\n")
        return message

    def send(self, alert: Alert) -> None:
        message = self.message(alert)
        try:
            smtp: smtplib.SMTP
            if self._security == "ssl":
                smtp = smtplib.SMTP_SSL(
                    self._host,
                    self._port,
                    timeout=self._timeout,
                    context=self._tls_context or ssl.create_default_context(),
                )
            else:
                smtp = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
            with smtp:
                if self._security == "starttls":
                    smtp.starttls(context=self._tls_context or ssl.create_default_context())
                if self._username is not None and self._password is not None:
                    smtp.login(self._username, self._password)
                smtp.send_message(message, self._sender, self._recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _ in exc.recipients.values()})
            raise AlertDeliveryError(
                f"email sink {self._name}: recipients refused (SMTP {codes})"
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            code = getattr(exc, "smtp_code", None)
            detail = f"SMTP {code}" if isinstance(code, int) else type(exc).__name__
            raise AlertDeliveryError(f"email sink {self._name} failed ({detail})") from None
