"""A stateful, wire-faithful emulator of Oracle Fusion's ``fscmRestApi``.

In-process (no sockets)::

    emulator = FusionEmulator()
    client = FusionClient(base_url="https://fusion.emulator", auth=BasicAuth("u", "p"),
                          session=emulator.session("https://fusion.emulator"))

On a port: ``python -m oracle_fusion_client.emulator --port 0`` (first stdout line is the
base URL), or ``with running_emulator() as (url, emulator): ...`` in tests. Seed data and
control endpoints (``/__emulator__/...``) are described in the package README.
"""

from ._app import EmulatorConfig, FusionEmulator
from ._authcheck import AuthPolicy, TrustedIssuer
from ._faults import Fault
from ._idcs import IdcsClient
from ._seed import default_seed
from ._server import make_emulator_server, running_emulator

__all__ = [
    "AuthPolicy",
    "EmulatorConfig",
    "Fault",
    "FusionEmulator",
    "IdcsClient",
    "TrustedIssuer",
    "default_seed",
    "make_emulator_server",
    "running_emulator",
]
