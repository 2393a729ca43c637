"""A wire-faithful, stateful emulator of the PayTrace JSON API v1 (like stripe-mock).

In-process (no sockets)::

    emulator = PayTraceEmulator()
    session = emulator.session()          # requests.Session; api.paytrace.com is served locally
    token = session.post("https://api.paytrace.com/oauth/token", data={...}).json()

On a port: ``python -m paytrace_client.emulator --port 0`` (first stdout line: base URL), or
``with EmulatorServer() as server: server.base_url``. See EMULATOR.md for the rules, the seed
data and the control endpoints.
"""

from ._adapter import IN_PROCESS_BASE_URL, PAYTRACE_BASE_URLS, EmulatorAdapter
from ._app import CONTROL_PREFIX, PayTraceEmulator
from ._config import EmulatorConfig
from ._faults import FaultKind, FaultRule
from ._seed import SEED_CUSTOMER_IDS
from ._server import EmulatorServer

__all__ = [
    "CONTROL_PREFIX",
    "IN_PROCESS_BASE_URL",
    "PAYTRACE_BASE_URLS",
    "SEED_CUSTOMER_IDS",
    "EmulatorAdapter",
    "EmulatorConfig",
    "EmulatorServer",
    "FaultKind",
    "FaultRule",
    "PayTraceEmulator",
]
