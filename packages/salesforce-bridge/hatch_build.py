# pyright: basic
# (hatchling and grpc_tools exist only in the isolated build environment, untyped.)
"""Hatchling build hook: generate the Pub/Sub gRPC stubs from ``pubsub_api.proto``.

The stubs are build output (gitignored) so they always match the ``.proto`` and the installed
protobuf runtime. ``-I src`` makes the generated gRPC module import
``salesforce_bridge.pubsub._proto.pubsub_api_pb2`` absolutely. Runs for wheels and editable
installs alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import (  # pyright: ignore[reportMissingImports]
    BuildHookInterface,
)

PROTO = "salesforce_bridge/pubsub/_proto/pubsub_api.proto"
GENERATED = ("pubsub_api_pb2.py", "pubsub_api_pb2_grpc.py", "pubsub_api_pb2.pyi")


class PubSubStubsHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        from grpc_tools import protoc  # pyright: ignore[reportMissingTypeStubs]

        src = Path(self.root) / "src"
        out = str(src)
        code = protoc.main(
            [
                "grpc_tools.protoc",
                f"-I{src}",
                f"--python_out={out}",
                f"--pyi_out={out}",
                f"--grpc_python_out={out}",
                str(src / PROTO),
            ]
        )
        if code != 0:
            raise RuntimeError(f"protoc failed ({code}) for {PROTO}")
        folder = str(Path("src") / Path(PROTO).parent)
        build_data.setdefault("artifacts", []).extend(f"{folder}/{name}" for name in GENERATED)
