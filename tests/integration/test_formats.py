"""Every payload format the core decodes, over HTTP (curl) and MQTT 5 (mosquitto_pub), read back
from the real Kafka broker with the exact envelope: JSON, CBOR (cbor2 encodes), SenML JSON, SenML
CBOR and the fleet.position binary layout. Each format's refusals leave nothing in Kafka."""
import json
import os
import struct
import subprocess
import tempfile
import time

import cbor2
import pytest

import mqtt_raw as mq
from harness import consume, curl, java_partition, sha256_hex, unique

RUN = unique("fmt")
TRUCK, SENSOR = f"{RUN}-truck", f"{RUN}-sensor"
TOK_TRUCK, TOK_SENSOR = unique("tok"), unique("tok")
ENVELOPE_KEYS = ["tenant", "device_id", "event_id", "ts", "received_at", "schema",
                 "schema_version", "source", "payload"]


@pytest.fixture(scope="module")
def inletd():
    tenants = {"demo": f"""devices: [{{id: {TRUCK}}}, {{id: {SENSOR}}}]
tokens:
  - {{sha256: {sha256_hex(TOK_TRUCK)}, device: {TRUCK}}}
  - {{sha256: {sha256_hex(TOK_SENSOR)}, device: {SENSOR}}}
acl: [{{effect: allow, schemas: ["*"]}}]
"""}
    mappings = """mappings:
  - topic: "loggers/{device}/senml"
    schema: coldchain.temp
    version: v1
    content_type: application/senml+cbor
  - topic: "devices/{device}/{schema}/{version}"
  - topic: "devices/{device}/events"
    form: events
"""
    d = mq.start_inletd(tenants, mqtt_extra=mappings)
    yield d
    assert d.stop() == 0, d.logs()


def mark():
    """A value unique to one test, to find its events (and prove the absence of others)."""
    return int.from_bytes(os.urandom(3), "big") / 1000.0


def post(d, path, body, content_type, token=TOK_TRUCK):
    return curl(d.url + path, body=body, token=token, headers=[f"Content-Type: {content_type}"])


def records(topic, device, pred=lambda p: True):
    return [m for m in consume(topic) if m["value"] and m["value"]["device_id"] == device
            and pred(m["value"]["payload"])]


def check_envelope(m, device, schema, source, content_type, payload, ts=None):
    v = m["value"]
    assert list(v.keys()) == ENVELOPE_KEYS
    assert v["tenant"] == "demo" and v["device_id"] == device
    assert v["schema"] == schema and v["schema_version"] == "v1"
    assert v["source"] == source
    assert v["payload"] == payload
    if ts:
        assert v["ts"] == ts
    assert m["key"] == device
    assert m["partition"] == java_partition(device, 12 if schema == "fleet.position" else 3)
    assert m["headers"] == {"inlet-tenant": "demo", "inlet-schema": schema,
                            "inlet-schema-version": "v1", "inlet-source": source,
                            "content-type": "application/json",
                            "inlet-content-type": content_type,
                            "inlet-event-id": v["event_id"]}


def fleet_payload(**kw):
    p = {"lat": 52.52, "lon": 13.405, "speed_kmh": 61.2, "heading_deg": 270,
         "status": "delivering"}
    p.update(kw)
    return p


# --- HTTP ------------------------------------------------------------------------------------

def test_http_cbor_batch(inletd):
    acc = mark()
    ev = {"use_case": "fleet.position", "schema": "v1", "ts": "2026-11-21T10:15:30.123Z",
          "payload": fleet_payload(accuracy_m=acc)}
    st, _, text = post(inletd, "/ingest", cbor2.dumps({"events": [ev]}), "application/cbor")
    assert st == 200, text
    got = records("fleet.updates.v1", TRUCK, lambda p: p.get("accuracy_m") == acc)
    assert len(got) == 1
    check_envelope(got[0], TRUCK, "fleet.position", "http", "application/cbor",
                   fleet_payload(accuracy_m=acc), ts="2026-11-21T10:15:30.123Z")


def test_http_cbor_bare_payload_route(inletd):
    acc = mark()
    st, _, text = post(inletd, "/ingest/fleet.position/v1", cbor2.dumps(fleet_payload(accuracy_m=acc)),
                       "application/cbor")
    assert st == 200, text
    got = records("fleet.updates.v1", TRUCK, lambda p: p.get("accuracy_m") == acc)
    assert len(got) == 1
    check_envelope(got[0], TRUCK, "fleet.position", "http", "application/cbor",
                   fleet_payload(accuracy_m=acc))


def test_http_json_bare_payload_route(inletd):
    acc = mark()
    st, _, text = post(inletd, "/ingest/fleet.position/v1", json.dumps(fleet_payload(accuracy_m=acc)),
                       "application/json")
    assert st == 200, text
    got = records("fleet.updates.v1", TRUCK, lambda p: p.get("accuracy_m") == acc)
    assert len(got) == 1
    check_envelope(got[0], TRUCK, "fleet.position", "http", "application/json",
                   fleet_payload(accuracy_m=acc))


def senml_pack(battery, base_time):
    """Two readings a minute apart, the second with two fields: two events."""
    return [
        {"bn": f"urn:dev:{SENSOR}:", "bt": base_time, "n": "temp_c", "u": "Cel", "v": -18.5},
        {"n": "battery_pct", "u": "%EL", "v": battery},
        {"n": "temp_c", "u": "Cel", "v": -18.25, "t": 60},
        {"n": "door_open", "vb": True, "t": 60},
    ]


def senml_cbor(pack):
    labels = {"bn": -2, "bt": -3, "bu": -4, "bv": -5, "n": 0, "u": 1, "v": 2, "vs": 3, "vb": 4,
              "t": 6}
    return cbor2.dumps([{labels[k]: v for k, v in r.items()} for r in pack])


@pytest.mark.parametrize("fmt", ["senml+json", "senml+cbor"])
def test_http_senml_pack_becomes_events(inletd, fmt):
    battery = round(mark() % 100, 3)
    pack = senml_pack(battery, 1763720130)
    body = json.dumps(pack) if fmt == "senml+json" else senml_cbor(pack)
    st, _, text = post(inletd, "/ingest/coldchain.temp/v1", body, f"application/{fmt}",
                       token=TOK_SENSOR)
    assert st == 200, text
    first = records("coldchain.temp.v1", SENSOR, lambda p: p.get("battery_pct") == battery)
    assert len(first) == 1
    check_envelope(first[0], SENSOR, "coldchain.temp", "http", f"application/{fmt}",
                   {"temp_c": -18.5, "battery_pct": battery}, ts="2025-11-21T10:15:30.000Z")
    eid = first[0]["value"]["event_id"]
    second = [m for m in records("coldchain.temp.v1", SENSOR)
              if m["value"]["ts"] == "2025-11-21T10:16:30.000Z"
              and m["offset"] > first[0]["offset"] and m["partition"] == first[0]["partition"]
              and m["value"]["event_id"] != eid]
    assert second, "the second record time must become its own event"
    check_envelope(second[-1], SENSOR, "coldchain.temp", "http", f"application/{fmt}",
                   {"temp_c": -18.25, "door_open": True}, ts="2025-11-21T10:16:30.000Z")


def fleet_frame(lat, lon, speed, heading, status_code):
    """The fleet.position v1 layout (docs/FORMATS.md): s4be lat*1e7, s4be lon*1e7, u2be speed*10,
    u2be heading (0xffff = none), u1 status."""
    return struct.pack(">iiHHB", round(lat * 1e7), round(lon * 1e7), round(speed * 10),
                       heading, status_code)


def test_http_binary_layout(inletd):
    lat = 52.0 + round(mark() % 1, 3)
    st, _, text = post(inletd, "/ingest/fleet.position/v1", fleet_frame(lat, 13.405, 61.2, 270, 3),
                       "application/octet-stream")
    assert st == 200, text
    got = records("fleet.updates.v1", TRUCK, lambda p: p.get("lat") == lat)
    assert len(got) == 1
    check_envelope(got[0], TRUCK, "fleet.position", "http", "application/octet-stream",
                   {"lat": lat, "lon": 13.405, "speed_kmh": 61.2, "heading_deg": 270,
                    "status": "delivering"})


@pytest.mark.parametrize("case", ["malformed-cbor", "unsupported-type", "unit-mismatch",
                                  "trailing-bytes", "missing-bytes", "no-layout", "senml-no-schema",
                                  "cbor-undefined", "invalid-payload-cbor"])
def test_http_refusals_produce_nothing(inletd, case):
    acc = mark()
    battery = round(acc % 100, 3)
    cases = {
        "malformed-cbor": ("/ingest/fleet.position/v1", b"\xa1\x63lat", "application/cbor", 400),
        "unsupported-type": ("/ingest/fleet.position/v1", "lat=1", "text/plain", 415),
        "unit-mismatch": ("/ingest/coldchain.temp/v1",
                          json.dumps([{"n": "temp_c", "u": "K", "v": 255.0},
                                      {"n": "battery_pct", "u": "%EL", "v": battery}]),
                          "application/senml+json", 400),
        "trailing-bytes": ("/ingest/fleet.position/v1",
                           fleet_frame(52.5, 13.4, 1, 270, 3) + b"\x00", "application/octet-stream",
                           400),
        "missing-bytes": ("/ingest/fleet.position/v1", fleet_frame(52.5, 13.4, 1, 270, 3)[:-1],
                          "application/octet-stream", 400),
        "no-layout": ("/ingest/coldchain.temp/v1", b"\x01\x02", "application/octet-stream", 415),
        "senml-no-schema": ("/ingest", json.dumps([{"n": "temp_c", "v": 1}]),
                            "application/senml+json", 400),
        "cbor-undefined": ("/ingest/fleet.position/v1",
                           b"\xa1\x68accuracy\xf7", "application/cbor", 400),
        "invalid-payload-cbor": ("/ingest/fleet.position/v1",
                                 cbor2.dumps(fleet_payload(lat=123.0, accuracy_m=acc)),
                                 "application/cbor", 400),
    }
    path, body, ctype, want = cases[case]
    token = TOK_SENSOR if "coldchain" in path else TOK_TRUCK
    st, hdrs, text = post(inletd, path, body, ctype, token=token)
    assert st == want, text
    assert hdrs["content-type"].startswith("application/problem+json")
    if case == "invalid-payload-cbor":
        assert "/lat" in text and "maximum 90" in text
    if case == "unit-mismatch":
        errors = json.loads(text)["errors"]
        assert {"index": 0, "pointer": "/temp_c",
                "detail": 'unit "K" is not the schema\'s unit "Cel"'} in errors
    time.sleep(0.3)
    assert not records("fleet.updates.v1", TRUCK, lambda p: p.get("accuracy_m") == acc)
    assert not records("coldchain.temp.v1", SENSOR, lambda p: p.get("battery_pct") == battery)


# --- MQTT 5: the Content Type property picks the format ------------------------------------

def mosquitto_pub_file(d, topic, data, content_type, user, password, version="mqttv5"):
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(data)
        path = f.name
    try:
        args = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(d.mqtt_port), "-V", version,
                "-q", "1", "-t", topic, "-u", user, "-P", password, "-f", path]
        if content_type:
            args += ["-D", "publish", "content-type", content_type]
        return subprocess.run(args, capture_output=True, text=True, timeout=60)
    finally:
        os.unlink(path)


def test_mqtt_cbor_payload(inletd):
    acc = mark()
    out = mosquitto_pub_file(inletd, f"devices/{TRUCK}/fleet.position/v1",
                             cbor2.dumps(fleet_payload(accuracy_m=acc)), "application/cbor",
                             TRUCK, TOK_TRUCK)
    assert out.returncode == 0, out.stderr
    got = records("fleet.updates.v1", TRUCK, lambda p: p.get("accuracy_m") == acc)
    assert len(got) == 1
    check_envelope(got[0], TRUCK, "fleet.position", "mqtt", "application/cbor",
                   fleet_payload(accuracy_m=acc))


@pytest.mark.parametrize("fmt", ["senml+json", "senml+cbor"])
def test_mqtt_senml(inletd, fmt):
    battery = round(mark() % 100, 3)
    pack = senml_pack(battery, 1763720130)
    body = json.dumps(pack).encode() if fmt == "senml+json" else senml_cbor(pack)
    out = mosquitto_pub_file(inletd, f"devices/{SENSOR}/coldchain.temp/v1", body,
                             f"application/{fmt}", SENSOR, TOK_SENSOR)
    assert out.returncode == 0, out.stderr
    got = records("coldchain.temp.v1", SENSOR, lambda p: p.get("battery_pct") == battery)
    assert len(got) == 1
    check_envelope(got[0], SENSOR, "coldchain.temp", "mqtt", f"application/{fmt}",
                   {"temp_c": -18.5, "battery_pct": battery}, ts="2025-11-21T10:15:30.000Z")


def test_mqtt_311_topic_mapping_names_the_format(inletd):
    """MQTT 3.1.1 has no Content Type: the topic mapping's content_type says SenML CBOR."""
    battery = round(mark() % 100, 3)
    out = mosquitto_pub_file(inletd, f"loggers/{SENSOR}/senml",
                             senml_cbor(senml_pack(battery, 1763720130)), None, SENSOR,
                             TOK_SENSOR, version="mqttv311")
    assert out.returncode == 0, out.stderr
    got = records("coldchain.temp.v1", SENSOR, lambda p: p.get("battery_pct") == battery)
    assert len(got) == 1
    check_envelope(got[0], SENSOR, "coldchain.temp", "mqtt", "application/senml+cbor",
                   {"temp_c": -18.5, "battery_pct": battery}, ts="2025-11-21T10:15:30.000Z")


def test_mqtt_binary_layout(inletd):
    lat = 51.0 + round(mark() % 1, 3)
    out = mosquitto_pub_file(inletd, f"devices/{TRUCK}/fleet.position/v1",
                             fleet_frame(lat, 13.405, 61.2, 270, 3), "application/octet-stream",
                             TRUCK, TOK_TRUCK)
    assert out.returncode == 0, out.stderr
    got = records("fleet.updates.v1", TRUCK, lambda p: p.get("lat") == lat)
    assert len(got) == 1
    check_envelope(got[0], TRUCK, "fleet.position", "mqtt", "application/octet-stream",
                   {"lat": lat, "lon": 13.405, "speed_kmh": 61.2, "heading_deg": 270,
                    "status": "delivering"})


def test_mqtt_refusals(inletd):
    """Raw MQTT 5 so the reason codes are visible: 0x99 (payload format invalid) for malformed
    CBOR, a unit mismatch, a frame for a schema without a layout and an unknown content type;
    nothing reaches Kafka and the connection keeps working."""
    battery = round(mark() % 100, 3)
    bad = [
        (b"\xa1\x63lat", "application/cbor"),
        (json.dumps([{"n": "temp_c", "u": "K", "v": 255.0},
                     {"n": "battery_pct", "u": "%EL", "v": battery}]).encode(),
         "application/senml+json"),
        (b"\x01\x02", "application/octet-stream"),
        (b"x", "text/plain"),
    ]
    with mq.RawClient(inletd.mqtt_port) as c:
        assert c.connect(f"{SENSOR}-raw", SENSOR, TOK_SENSOR).reason == 0
        codes = []
        for i, (payload, ctype) in enumerate(bad):
            p = c.publish_qos1(f"devices/{SENSOR}/coldchain.temp/v1", payload, 10 + i,
                               props=[mq.prop(mq.P_CONTENT_TYPE, ctype)])
            codes.append(p.reason)
        assert codes == [0x99, 0x99, 0x99, 0x99], [hex(x) for x in codes]
        ok = c.publish_qos1(f"devices/{SENSOR}/coldchain.temp/v1",
                            json.dumps({"temp_c": -20.0, "battery_pct": battery}), 20)
        assert ok.reason == 0
    time.sleep(0.3)
    got = records("coldchain.temp.v1", SENSOR, lambda p: p.get("battery_pct") == battery)
    assert [m["value"]["payload"] for m in got] == [{"temp_c": -20.0, "battery_pct": battery}]
