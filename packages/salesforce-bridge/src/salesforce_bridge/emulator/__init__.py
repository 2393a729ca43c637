"""The Salesforce REST emulator: in-process (``EmulatorAdapter``) or on a port (``serve``).

See the package README for endpoints, seed data, control endpoints and faults.
"""

from ._adapter import DEFAULT_BASE_URL, EmulatorAdapter, emulator_session
from ._app import Call, SalesforceEmulator
from ._bus import BusEvent, EventBus
from ._faults import FAULT_KINDS, Fault
from ._oauth import ConnectedApp, EmulatorUser
from ._pubsub import PubSubFault, PubSubServer
from ._schema import FieldDef, ObjectDef
from ._server import EmulatorServer, TlsFiles, generate_tls, serve
from ._store import ORG_ID

__all__ = [
    "DEFAULT_BASE_URL",
    "FAULT_KINDS",
    "ORG_ID",
    "BusEvent",
    "Call",
    "ConnectedApp",
    "EmulatorAdapter",
    "EmulatorServer",
    "EmulatorUser",
    "EventBus",
    "Fault",
    "FieldDef",
    "ObjectDef",
    "PubSubFault",
    "PubSubServer",
    "SalesforceEmulator",
    "TlsFiles",
    "emulator_session",
    "generate_tls",
    "serve",
]
