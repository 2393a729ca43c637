"""``python -m salesforce_bridge.emulator`` / ``salesforce-emulator``: serve the emulator.

Prints one line per endpoint: ``rest <url>`` (then ``ca <path>`` with ``--tls``),
``cometd <url>`` and ``pubsub <host:port>``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from ._app import SalesforceEmulator
from ._pubsub import PubSubServer
from ._server import serve

COMETD_VERSION = "66.0"
# Salesforce holds an idle /meta/connect up to 110 s (advice.timeout); new events end it early.
COMETD_HOLD_SECONDS = 110.0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="salesforce-emulator", description="Serve the Salesforce REST emulator."
    )
    parser.add_argument("--port", type=int, default=0, help="port (0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--tls", action="store_true", help="serve https with a generated CA")
    parser.add_argument("--tls-dir", type=Path, default=None, help="where to write the CA")
    parser.add_argument("--no-seed", action="store_true", help="start with an empty org")
    parser.add_argument("--api-limit", type=int, default=15000, help="daily API request limit")
    args = parser.parse_args(argv)
    emulator = SalesforceEmulator(seed=not args.no_seed, api_limit=args.api_limit)
    tls_dir: Path | None = None
    if args.tls:
        tls_dir = args.tls_dir or Path(tempfile.mkdtemp(prefix="salesforce-emulator-"))
    emulator.cometd.hold_seconds = COMETD_HOLD_SECONDS
    server = serve(emulator, port=args.port, host=args.host, tls_dir=tls_dir)
    print(f"rest {server.url}", flush=True)
    if server.ca_path is not None:
        print(f"ca {server.ca_path}", flush=True)
    print(f"cometd {server.url}/cometd/{COMETD_VERSION}", flush=True)
    pubsub = PubSubServer(emulator, host=args.host, tls=server.tls).start()
    print(f"pubsub {pubsub.target}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        pubsub.stop()
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
