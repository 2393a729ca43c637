"""The application layer: the use case registry, the runner behind ``paysync run`` and the
world behind ``paysync demo``.

Every entry point (``run``, ``demo``, ``plan``, ``replay``, the dashboard) reads the same
:class:`UseCase` descriptions: name, title, systems, options model and a builder from ports.
"""

from ._demo import DemoResult, DemoSummary, run_demo
from ._demo_world import DemoClock, DemoWorld, demo_salesforce_emulator
from ._describe import StepDescription, describe_steps, offline_ports
from ._events import EventStreams, event_streams_from_config
from ._registry import (
    Ports,
    Source,
    UseCase,
    UseCaseBuild,
    enabled_usecases,
    get_usecase,
    register,
    registered,
)
from ._replay import ReplayDecision, ReplayReport, replay_flows
from ._runner import PassReport, Runner, UseCaseSelection, ports_from_config, select_usecases
from ._serve import DEMO_CREDENTIALS, ServedDemo, serve_demo
from ._sources import CallSource, PayTraceExportSource, SoqlSource, WindowSource
from ._streams import paytrace_cursor_positions
from ._usecases import (
    CUSTOMER_SYNC,
    DECLINES_CHARGEBACKS,
    ECOMMERCE,
    ORDER_TO_CASH,
    RECURRING_BILLING,
    REFUNDS,
    SETTLEMENT_GL,
)

__all__ = [
    "CUSTOMER_SYNC",
    "DECLINES_CHARGEBACKS",
    "DEMO_CREDENTIALS",
    "ECOMMERCE",
    "ORDER_TO_CASH",
    "RECURRING_BILLING",
    "REFUNDS",
    "SETTLEMENT_GL",
    "CallSource",
    "DemoClock",
    "DemoResult",
    "DemoSummary",
    "DemoWorld",
    "EventStreams",
    "PassReport",
    "PayTraceExportSource",
    "Ports",
    "ReplayDecision",
    "ReplayReport",
    "Runner",
    "ServedDemo",
    "SoqlSource",
    "Source",
    "StepDescription",
    "UseCase",
    "UseCaseBuild",
    "UseCaseSelection",
    "WindowSource",
    "demo_salesforce_emulator",
    "describe_steps",
    "enabled_usecases",
    "event_streams_from_config",
    "get_usecase",
    "offline_ports",
    "paytrace_cursor_positions",
    "ports_from_config",
    "register",
    "registered",
    "replay_flows",
    "run_demo",
    "select_usecases",
    "serve_demo",
]
