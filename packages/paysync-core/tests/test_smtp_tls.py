"""``EmailSink`` over TLS: STARTTLS, implicit TLS and AUTH LOGIN/PLAIN against a local server.

The server below is a small threaded SMTP server (stdlib ``socketserver`` + ``ssl``) with a
self-signed certificate made by ``cryptography``. It advertises ``AUTH`` only once the
connection is encrypted, as real submission servers do, and records what the client did.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from pathlib import Path
from typing import Literal

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from paysync_core import Alert, AlertDeliveryError, EmailSink

USER, PASSWORD = "paysync-alerts", "s3cret-Pa55"
ALERT = Alert(
    rule="dead_letter",
    key="dead_letter:e1",
    severity="critical",
    summary="flow f1 dead-lettered",
    at=dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.timezone.utc),
)


@dataclass(frozen=True)
class _Cert:
    cert: Path
    key: Path


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> _Cert:
    """A self-signed certificate for 127.0.0.1 (it is its own CA)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "paysync test smtp")])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("smtp-tls")
    paths = _Cert(directory / "cert.pem", directory / "key.pem")
    paths.cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _unb64(text: str) -> str:
    return base64.b64decode(text.strip()).decode()


@dataclass
class _Log:
    events: list[str] = field(default_factory=list[str])
    logins: list[tuple[str, str, str]] = field(default_factory=list[tuple[str, str, str]])
    mails: list[tuple[bool, bytes]] = field(default_factory=list[tuple[bool, bytes]])


class _Handler(socketserver.StreamRequestHandler):
    def reply(self, *lines: str) -> None:
        text = "".join(
            f"{line[:3]}{'-' if i < len(lines) - 1 else ' '}{line[4:]}\r\n"
            for i, line in enumerate(lines)
        )
        self.connection.sendall(text.encode())

    def readline(self) -> str:
        return self.rfile.readline().decode().rstrip("\r\n")

    def handle(self) -> None:
        server = self.server
        assert isinstance(server, _SmtpServer)
        tls = server.implicit_tls
        authed = False
        self.reply("220 sink ESMTP")
        while line := self.readline():
            verb, _, rest = line.partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                extra = [f"250 AUTH {server.mechanism}"] if tls else ["250 STARTTLS"]
                self.reply("250 sink", *extra)
            elif verb == "STARTTLS" and not tls:
                self.reply("220 ready for TLS")
                server.log.events.append("starttls")
                try:
                    self.connection = server.context.wrap_socket(self.connection, server_side=True)
                except (ssl.SSLError, OSError):
                    server.log.events.append("handshake failed")
                    return
                self.rfile = self.connection.makefile("rb")
                tls = True
            elif verb == "AUTH":
                if not tls:
                    self.reply("538 encryption required")
                    continue
                authed = self.auth(server, rest)
            elif verb == "MAIL":
                if not authed:
                    self.reply("530 authentication required")
                    continue
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 go ahead")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                server.log.mails.append((tls, data))
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 OK")

    def finish(self) -> None:
        super().finish()
        if self.connection is not self.request:  # the TLS layer made by STARTTLS
            self.connection.close()

    def auth(self, server: _SmtpServer, rest: str) -> bool:
        mechanism, _, initial = rest.partition(" ")
        mechanism = mechanism.upper()
        if mechanism != server.mechanism:
            self.reply("504 unrecognised mechanism")
            return False
        if mechanism == "PLAIN":
            if not initial:
                self.reply("334 ")
                initial = self.readline()
            _, user, password = _unb64(initial).split("\0")
        else:  # LOGIN: user, then password, each after a base64 prompt
            if not initial:
                self.reply(f"334 {_b64('Username:')}")
                initial = self.readline()
            user = _unb64(initial)
            self.reply(f"334 {_b64('Password:')}")
            password = _unb64(self.readline())
        server.log.logins.append((mechanism, user, password))
        if (user, password) != (USER, PASSWORD):
            self.reply("535 authentication credentials invalid")
            return False
        self.reply("235 authenticated")
        return True


class _SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, cert: _Cert, *, mechanism: str, implicit_tls: bool) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert.cert, cert.key)
        self.mechanism = mechanism
        self.implicit_tls = implicit_tls
        self.log = _Log()

    def get_request(self) -> tuple[socket.socket, object]:
        sock, address = super().get_request()
        if self.implicit_tls:  # port-465 style: TLS before the greeting
            sock = self.context.wrap_socket(sock, server_side=True)
        return sock, address


_Serve = Callable[..., _SmtpServer]


@pytest.fixture
def serve(cert: _Cert) -> Iterator[_Serve]:
    servers: list[_SmtpServer] = []

    def start(mechanism: str = "LOGIN", *, implicit_tls: bool = False) -> _SmtpServer:
        server = _SmtpServer(cert, mechanism=mechanism, implicit_tls=implicit_tls)
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _sink(
    server: _SmtpServer,
    cert: _Cert | None,
    *,
    security: Literal["starttls", "ssl", "none"] = "starttls",
    password: str = PASSWORD,
) -> EmailSink:
    context = None if cert is None else ssl.create_default_context(cafile=str(cert.cert))
    return EmailSink(
        "127.0.0.1",
        port=server.server_address[1],
        sender="paysync@example.com",
        recipients=["ops@example.com"],
        username=USER,
        password=password,
        security=security,
        timeout=5,
        tls_context=context,
    )


@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
def test_starttls_then_login_then_mail(serve: _Serve, cert: _Cert, mechanism: str) -> None:
    server = serve(mechanism=mechanism)
    _sink(server, cert).send(ALERT)
    assert server.log.events == ["starttls"]
    assert server.log.logins == [(mechanism, USER, PASSWORD)]  # sent only inside TLS
    [(encrypted, data)] = server.log.mails
    assert encrypted
    mail = message_from_bytes(data)
    assert mail["Subject"] == ALERT.title
    assert mail["X-Paysync-Alert"] == "dead_letter:e1"


def test_implicit_tls_login(serve: _Serve, cert: _Cert) -> None:
    server = serve(mechanism="PLAIN", implicit_tls=True)
    _sink(server, cert, security="ssl").send(ALERT)
    assert server.log.events == []  # no STARTTLS: the connection was TLS from the start
    assert server.log.logins == [("PLAIN", USER, PASSWORD)]
    assert [encrypted for encrypted, _ in server.log.mails] == [True]


def test_an_untrusted_certificate_stops_before_the_password(serve: _Serve, cert: _Cert) -> None:
    server = serve()
    with pytest.raises(AlertDeliveryError, match="SSLCertVerificationError") as err:
        _sink(server, None).send(ALERT)  # the system trust store does not know this cert
    assert PASSWORD not in str(err.value)
    assert server.log.logins == []
    assert server.log.mails == []


def test_a_wrong_password_is_a_delivery_error_without_the_password(
    serve: _Serve, cert: _Cert
) -> None:
    server = serve(mechanism="PLAIN")
    with pytest.raises(AlertDeliveryError, match="SMTP 535") as err:
        _sink(server, cert, password="wrong-Pa55").send(ALERT)
    assert "wrong-Pa55" not in str(err.value)
    assert "wrong-Pa55" not in repr(err.value)
    assert server.log.mails == []


def test_no_login_over_a_plain_connection(serve: _Serve, cert: _Cert) -> None:
    server = serve()
    with pytest.raises(AlertDeliveryError, match="SMTPNotSupportedError"):
        _sink(server, cert, security="none").send(ALERT)  # AUTH is not offered in clear
    assert server.log.logins == []
