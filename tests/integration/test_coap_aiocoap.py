"""aiocoap (PyPI) as a second CoAP client, independent of libcoap: a CBOR payload and a SenML
JSON pack over plain UDP (token in Uri-Query), CON, each answered 2.04 and read back from Kafka
with its exact envelope (source "coap")."""
import asyncio
import json
import os

import cbor2
import pytest

import coap_raw as cr
from harness import consume, java_partition, sha256_hex, unique

aiocoap = pytest.importorskip("aiocoap", reason="aiocoap is missing: contrib/install-deps")

RUN = unique("aiocoap")
TRUCK, SENSOR = f"{RUN}-truck", f"{RUN}-sensor"
TOK_TRUCK, TOK_SENSOR = unique("tok"), unique("tok")
ENVELOPE_KEYS = ["tenant", "device_id", "event_id", "ts", "received_at", "schema",
                 "schema_version", "source", "payload"]


@pytest.fixture(scope="module")
def inletd():
    tenants = {"demo": f"""devices:
  - {{id: {TRUCK}, groups: [trucks]}}
  - {{id: {SENSOR}, groups: [trailers]}}
tokens:
  - {{sha256: {sha256_hex(TOK_TRUCK)}, device: {TRUCK}}}
  - {{sha256: {sha256_hex(TOK_SENSOR)}, device: {SENSOR}}}
acl:
  - {{effect: allow, groups: [trucks], schemas: ["fleet.position@v1"]}}
  - {{effect: allow, groups: [trailers], schemas: ["coldchain.temp@v1"]}}
"""}
    d = cr.start_inletd(tenants)
    yield d
    assert d.stop() == 0, d.logs()


def post(uri, payload, cf):
    """One confirmable POST with aiocoap; returns the response Message."""
    async def go():
        ctx = await aiocoap.Context.create_client_context()
        try:
            req = aiocoap.Message(code=aiocoap.POST, uri=uri, payload=payload,
                                  content_format=cf)
            return await asyncio.wait_for(ctx.request(req).response, 20)
        finally:
            await ctx.shutdown()
    return asyncio.run(go())


def check_envelope(m, device, schema, topic_partitions, content_type, payload):
    v = m["value"]
    assert list(v.keys()) == ENVELOPE_KEYS
    assert v["tenant"] == "demo" and v["device_id"] == device and v["source"] == "coap"
    assert v["schema"] == schema and v["schema_version"] == "v1" and v["payload"] == payload
    assert m["key"] == device
    assert m["partition"] == java_partition(device, topic_partitions)
    assert m["headers"] == {"inlet-tenant": "demo", "inlet-schema": schema,
                            "inlet-schema-version": "v1", "inlet-source": "coap",
                            "content-type": "application/json",
                            "inlet-content-type": content_type,
                            "inlet-event-id": v["event_id"]}


def test_cbor_payload(inletd):
    acc = int.from_bytes(os.urandom(3), "big") / 1000.0
    payload = {"lat": 52.52, "lon": 13.405, "speed_kmh": 61.2, "heading_deg": 270,
               "status": "delivering", "accuracy_m": acc}
    r = post(f"coap://127.0.0.1:{inletd.coap_port}/e/fleet.position/v1?t={TOK_TRUCK}",
             cbor2.dumps(payload), 60)
    assert r.code == aiocoap.CHANGED, (r.code, r.payload)
    assert r.mtype == aiocoap.ACK  # piggybacked: Kafka answered within ack_timeout
    got = consume("fleet.updates.v1", predicate=lambda v: v["device_id"] == TRUCK and
                  v["payload"].get("accuracy_m") == acc)
    assert len(got) == 1, got
    check_envelope(got[0], TRUCK, "fleet.position", 12, "application/cbor", payload)


def test_senml_json_pack(inletd):
    battery = round(int.from_bytes(os.urandom(2), "big") % 10000 / 100.0, 2)
    pack = [{"bn": f"urn:dev:{SENSOR}:", "bt": 1763720130, "n": "temp_c", "u": "Cel",
             "v": -18.5},
            {"n": "battery_pct", "u": "%EL", "v": battery},
            {"n": "temp_c", "u": "Cel", "v": -18.25, "t": 60}]
    r = post(f"coap://127.0.0.1:{inletd.coap_port}/e/coldchain.temp/v1?t={TOK_SENSOR}",
             json.dumps(pack).encode(), 110)
    assert r.code == aiocoap.CHANGED, (r.code, r.payload)
    got = consume("coldchain.temp.v1", predicate=lambda v: v["device_id"] == SENSOR)
    first = [m for m in got if m["value"]["payload"].get("battery_pct") == battery]
    assert len(first) == 1, got
    assert first[0]["value"]["ts"] == "2025-11-21T10:15:30.000Z"
    check_envelope(first[0], SENSOR, "coldchain.temp", 3, "application/senml+json",
                   {"temp_c": -18.5, "battery_pct": battery})
    second = [m for m in got if m["value"]["ts"] == "2025-11-21T10:16:30.000Z"]
    assert len(second) == 1, got
    check_envelope(second[0], SENSOR, "coldchain.temp", 3, "application/senml+json",
                   {"temp_c": -18.25})
