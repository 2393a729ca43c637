"""A Pub/Sub client generated independently from the .proto drives the emulator.

The stubs are generated with grpc_tools.protoc into ``tmp_path`` (module ``pubsub_api_pb2``,
as the official samples name it) and run in a subprocess: the same message names registered
twice in one process would clash in protobuf's descriptor pool.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import salesforce_bridge.pubsub
from salesforce_bridge.emulator import ORG_ID, SalesforceEmulator
from salesforce_bridge.emulator._pubsub import PubSubServer

from .conftest import cdc_payload

PROTO = Path(salesforce_bridge.pubsub.__file__).parent / "_proto" / "pubsub_api.proto"

CLIENT = """
import io, json, os, sys
import fastavro, grpc
import pubsub_api_pb2 as pb2
import pubsub_api_pb2_grpc as pb2_grpc

target, token, org = sys.argv[1:4]
metadata = (("accesstoken", token), ("instanceurl", "https://x.my.salesforce.com"),
            ("tenantid", org))
channel = grpc.insecure_channel(target)
stub = pb2_grpc.PubSubStub(channel)
out = {}

topic = stub.GetTopic(pb2.TopicRequest(topic_name="/event/Payment_Event__e"), metadata=metadata)
info = stub.GetSchema(pb2.SchemaRequest(schema_id=topic.schema_id), metadata=metadata)
schema = fastavro.parse_schema(json.loads(info.schema_json))
buffer = io.BytesIO()
fastavro.schemaless_writer(buffer, schema, {
    "CreatedDate": 1712693965000, "CreatedById": "005000000000001AAA",
    "Payment_ID__c": "IND-1", "Status__c": "Captured", "Amount__c": 9.5})
published = stub.Publish(pb2.PublishRequest(topic_name="/event/Payment_Event__e", events=[
    pb2.ProducerEvent(schema_id=topic.schema_id, payload=buffer.getvalue())]),
    metadata=metadata)
out["publish"] = [{"replay": r.replay_id.hex(), "key": r.correlation_key,
                   "error": r.HasField("error")} for r in published.results]

def requests():
    # As the official Python sample does: every request repeats topic and replay settings.
    for _ in range(2):
        yield pb2.FetchRequest(topic_name="/data/AccountChangeEvent",
                               replay_preset=pb2.ReplayPreset.EARLIEST, num_requested=2)

schemas = {}
names, changed, pending = [], [], []
stream = stub.Subscribe(requests(), metadata=metadata)
for response in stream:
    pending.append(response.pending_num_requested)
    for consumer in response.events:
        sid = consumer.event.schema_id
        if sid not in schemas:
            raw = stub.GetSchema(pb2.SchemaRequest(schema_id=sid), metadata=metadata).schema_json
            schemas[sid] = fastavro.parse_schema(json.loads(raw))
        record = fastavro.schemaless_reader(io.BytesIO(consumer.event.payload), schemas[sid])
        names.append(record["Name"])
        changed.append(record["ChangeEventHeader"]["changedFields"])
    if len(names) >= 4:
        break
stream.cancel()
out.update(names=names, changed=changed, pending=pending)
print(json.dumps(out), flush=True)
channel.close()
# grpcio's interpreter shutdown after a cancelled bidi stream hangs now and then (about 1
# run in 60 here, after every line above has run): the results are out, so leave at once
os._exit(0)
"""


def test_independently_generated_client_works(tmp_path: Path) -> None:
    generated = subprocess.run(  # noqa: S603 - our own interpreter
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{PROTO.parent}",
            f"--python_out={tmp_path}",
            f"--grpc_python_out={tmp_path}",
            str(PROTO),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert generated.returncode == 0, generated.stderr
    (tmp_path / "client.py").write_text(CLIENT)
    emulator = SalesforceEmulator()
    for i in range(5):
        emulator.bus.publish("/data/AccountChangeEvent", cdc_payload(f"Acme {i}"))
    with PubSubServer(emulator) as server:
        result = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, str(tmp_path / "client.py"), server.target, "any-token", ORG_ID],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert len(out["publish"]) == 1
    assert out["publish"][0]["error"] is False
    assert out["publish"][0]["replay"]
    assert out["publish"][0]["key"]  # the server assigns an id when the sample leaves it empty
    assert out["names"] == ["Acme 0", "Acme 1", "Acme 2", "Acme 3"]
    # Name is field 5 of the Account change schema (header, CreatedDate, CreatedById,
    # LastModifiedDate, SystemModstamp, Name...): a raw client sees the bitmap.
    assert out["changed"][0] == ["0x20"]
    assert all(p <= 2 for p in out["pending"])
    stored = emulator.bus.read("/event/Payment_Event__e", after=None, limit=5)
    assert stored[0].payload["Payment_ID__c"] == "IND-1"
