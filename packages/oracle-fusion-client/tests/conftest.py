"""Shared fixtures: a real RSA key and self-signed certificate generated per session; an
emulator on a clock a test moves; a balanced journal FBDI zip for the SOAP import tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from oracle_fusion_client import GlInterfaceLine, build_fbdi_zip
from oracle_fusion_client.emulator import EmulatorConfig, FusionEmulator


@dataclass(frozen=True)
class KeyPair:
    key_pem: bytes
    cert_pem: bytes
    certificate: x509.Certificate


def make_key_pair(common_name: str = "paysync-test") -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return KeyPair(key_pem, cert.public_bytes(serialization.Encoding.PEM), cert)


_PAIRS: dict[str, KeyPair] = {}


def _pair(name: str) -> KeyPair:
    if name not in _PAIRS:
        _PAIRS[name] = make_key_pair(name)
    return _PAIRS[name]


@pytest.fixture(scope="session")
def key_pem() -> bytes:
    """PKCS#8 PEM of the test RSA key."""
    return _pair("paysync-test").key_pem


@pytest.fixture(scope="session")
def cert_pem() -> bytes:
    """PEM of the self-signed certificate of ``key_pem``."""
    return _pair("paysync-test").cert_pem


@pytest.fixture(scope="session")
def other_key_pem() -> bytes:
    """A second key, unknown to any emulator."""
    return _pair("someone-else").key_pem


@pytest.fixture(scope="session")
def other_cert_pem() -> bytes:
    return _pair("someone-else").cert_pem


#: Where :class:`FusionClock` starts (a test's who-columns are stamped from here on).
CLOCK_START = datetime(2026, 3, 2, 17, 4, 11, 120000, tzinfo=timezone.utc)


class FusionClock:
    """The emulator's clock: a test sets ``now``."""

    def __init__(self) -> None:
        self.now = CLOCK_START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FusionClock:
    return FusionClock()


@pytest.fixture
def emulator(clock: FusionClock) -> FusionEmulator:
    """A Fusion emulator whose time is ``clock`` (a module's own ``emulator`` overrides it)."""
    return FusionEmulator(EmulatorConfig(now=clock))


@pytest.fixture(scope="session")
def journal_zip() -> bytes:
    """A two-line balanced ``GlInterface.csv`` zip (the FBDI builder only writes the file)."""

    def line(dr: str | None, cr: str | None) -> GlInterfaceLine:
        return GlInterfaceLine(
            ledger_id=1,
            accounting_date=date(2026, 1, 31),
            source="Paysync",
            category="Receipts",
            currency="USD",
            segments=["01", "000", "1110"],
            entered_dr=Decimal(dr) if dr else None,
            entered_cr=Decimal(cr) if cr else None,
        )

    return build_fbdi_zip({"GlInterface.csv": [line("5", None).row(), line(None, "5").row()]})
