"""``python -m oracle_fusion_client.emulator --port N`` (console script ``fusion-emulator``).

The first line printed on stdout is the base URL; the server runs until interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ._app import EmulatorConfig, FusionEmulator
from ._authcheck import AuthPolicy, TrustedIssuer
from ._server import base_url, make_emulator_server


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="fusion-emulator", description="Serve the Oracle Fusion REST emulator."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--strict", action="store_true", help="validate credentials")
    parser.add_argument("--user", action="append", default=[], metavar="NAME:PASSWORD")
    parser.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="ISSUER=CERT.pem",
        help="a trusted JWT issuer and its certificate (strict mode)",
    )
    args = parser.parse_args(argv)
    users: dict[str, str] = {}
    for spec in args.user:
        name, _, password = str(spec).partition(":")
        users[name] = password
    issuers = tuple(
        TrustedIssuer(name, Path(path).read_bytes())
        for name, _, path in (str(t).partition("=") for t in args.trust)
    )
    policy = AuthPolicy(strict=bool(args.strict), users=users, trusted_issuers=issuers)
    server = make_emulator_server(
        FusionEmulator(EmulatorConfig(auth=policy)), host=args.host, port=args.port
    )
    sys.stdout.write(base_url(server) + "\n")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
