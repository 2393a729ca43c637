"""``python -m paytrace_client.emulator`` / ``paytrace-emulator``: serve on a port.

The first line on stdout is the base URL (flushed at once), so a parent process can start
the emulator with ``--port 0`` and read where it landed. SIGINT and SIGTERM stop it.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from types import FrameType

from ._app import PayTraceEmulator
from ._config import AutoVoidTrigger, EmulatorConfig
from ._server import EmulatorServer

__all__ = ["main"]


def _amounts(text: str) -> frozenset[Decimal]:
    try:
        return frozenset(
            Decimal(part).quantize(Decimal("0.01")) for part in text.split(",") if part
        )
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a list of amounts: {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paytrace-emulator", description="Serve a local PayTrace JSON API v1 emulator."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--strict", action="store_true", help="only configured credentials")
    parser.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="NAME:PASSWORD",
        help="strict-mode API user (repeatable; default demo123:demo123)",
    )
    parser.add_argument(
        "--integrator-id", action="append", default=[], help="strict-mode integrator id"
    )
    parser.add_argument("--decline-status", type=int, default=200, choices=(200, 400, 402))
    parser.add_argument("--error-status", type=int, default=400, choices=(200, 400, 422))
    parser.add_argument(
        "--decline-amounts", type=_amounts, default=frozenset({Decimal("0.29")}), metavar="A,B"
    )
    parser.add_argument("--duplicate-window", type=int, default=0, metavar="MINUTES")
    parser.add_argument("--auto-void", choices=("avs", "csc"), action="append", default=[])
    parser.add_argument("--no-seed", action="store_true", help="start with an empty vault")
    return parser


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    users = dict(part.split(":", 1) for part in args.user) if args.user else {"demo123": "demo123"}
    auto_void: list[AutoVoidTrigger] = args.auto_void
    return EmulatorConfig(
        strict=args.strict,
        users=users,
        integrator_ids=frozenset(args.integrator_id or ["9999DEMO"]),
        decline_status=args.decline_status,
        error_status=args.error_status,
        decline_amounts=args.decline_amounts,
        duplicate_window_minutes=args.duplicate_window,
        auto_void_on=frozenset(auto_void),
        seed=not args.no_seed,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    server = EmulatorServer(
        PayTraceEmulator(config_from_args(args)), host=args.host, port=args.port
    )
    print(server.base_url, flush=True)

    def _stop(signum: int, frame: FrameType | None) -> None:
        # shutdown() blocks until serve_forever returns, so it must run on another thread.
        threading.Thread(target=server.stop_serving, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
