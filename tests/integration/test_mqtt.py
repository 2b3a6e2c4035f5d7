"""MQTT listener with real clients: mosquitto_pub (MQTT 3.1.1 and 5.0) and Eclipse Paho MQTT C
(async), QoS 0/1/2, bearer tokens, TLS and mTLS. Every event is read back from the real Kafka
broker and checked field by field, headers included; per-device order holds."""
import json
import os
import subprocess
import tempfile

import pytest

import mqtt_raw as mq
from harness import (BUILD, consume, free_port, java_partition, make_ca, make_cert, sha256_hex,
                     unique)

RUN = unique("mq")
DEV_A, DEV_B, DEV_CERT = f"{RUN}-a", f"{RUN}-b", f"{RUN}-cert"
TOK_A, TOK_B = unique("tok"), unique("tok")
PAHO = os.path.join(BUILD, "tests", "tools", "mqtt_paho_pub")
ENVELOPE_KEYS = ["tenant", "device_id", "event_id", "ts", "received_at", "schema",
                 "schema_version", "source", "payload"]


@pytest.fixture(scope="module")
def pki():
    d = tempfile.mkdtemp(prefix="inlet-mqtt-pki-")
    make_ca(d, "server-ca")
    make_ca(d, "demo-ca")
    make_ca(d, "rogue-ca")
    make_cert(d, "server-ca", "server", "localhost", server=True)
    make_cert(d, "demo-ca", "device", DEV_CERT)
    make_cert(d, "rogue-ca", "rogue", DEV_CERT)
    return d


@pytest.fixture(scope="module")
def inletd(pki):
    plain, tls, mtls = free_port(), free_port(), free_port()
    tenants = {"demo": f"""devices: [{{id: {DEV_A}}}, {{id: {DEV_B}}}, {{id: {DEV_CERT}}}]
tokens:
  - {{sha256: {sha256_hex(TOK_A)}, device: {DEV_A}}}
  - {{sha256: {sha256_hex(TOK_B)}, device: {DEV_B}}}
mtls:
  ca_file: {pki}/demo-ca.pem
  device_id_from: cn
acl: [{{effect: allow, schemas: ["*"]}}]
"""}
    listeners = f"""  - address: 127.0.0.1:{plain}
  - address: 127.0.0.1:{tls}
    tls: {{cert: {pki}/server.pem, key: {pki}/server.key}}
  - address: 127.0.0.1:{mtls}
    tls: {{cert: {pki}/server.pem, key: {pki}/server.key, client_auth: require}}
"""
    d = mq.start_inletd(tenants, listeners=listeners)
    d.plain, d.tls, d.mtls = plain, tls, mtls
    yield d
    assert d.stop() == 0, d.logs()


def mosquitto_pub(port, version, qos, topic, message=None, user=None, password=None, extra=(),
                  stdin=None):
    args = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-V", version, "-q", str(qos),
            "-t", topic]
    if user:
        args += ["-u", user]
    if password:
        args += ["-P", password]
    args += list(extra)
    args += ["-l"] if stdin is not None else ["-m", message]
    return subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=60)


def paho(port, version, qos, topic, template, n, user=None, password=None, props=(),
         scheme="tcp", tls=()):
    assert os.path.exists(PAHO), f"{PAHO} is not built (tests/tools/CMakeLists.txt)"
    args = [PAHO, "-s", f"{scheme}://127.0.0.1:{port}", "-V", str(version), "-q", str(qos), "-n",
            str(n), "-t", topic, "-m", template]
    if user:
        args += ["-u", user, "-P", password]
    for p in props:
        args += ["-p", p]
    args += list(tls)
    out = subprocess.run(args, capture_output=True, text=True, timeout=120)
    lines = [json.loads(x) for x in out.stdout.splitlines() if x.strip()]
    return out.returncode, lines


def by_event_id(prefix):
    return {m["value"]["event_id"]: m for m in consume("fleet.updates.v1")
            if m["value"] and m["value"].get("event_id", "").startswith(prefix)}


def check_record(m, device, event_id, payload, extra_headers=None, content_type=None):
    """The exact envelope (docs/ENVELOPE.md), key, partition and headers of one record."""
    v = m["value"]
    assert list(v.keys()) == ENVELOPE_KEYS
    assert v["tenant"] == "demo"
    assert v["device_id"] == device
    assert v["event_id"] == event_id
    assert v["schema"] == "fleet.position" and v["schema_version"] == "v1"
    assert v["source"] == "mqtt"
    assert v["payload"] == payload
    assert v["received_at"].endswith("Z") and len(v["received_at"]) == 24
    assert m["key"] == device
    assert m["partition"] == java_partition(device, 12)
    expected = {"inlet-tenant": "demo", "inlet-schema": "fleet.position",
                "inlet-schema-version": "v1", "inlet-source": "mqtt",
                "content-type": "application/json",
                "inlet-content-type": content_type or "application/json", "inlet-event-id": event_id}
    expected.update(extra_headers or {})
    assert m["headers"] == expected


def test_mosquitto_pub_311_and_5_at_qos_0_1_2(inletd):
    run = unique("mp")
    sent = {}
    for version in ("mqttv311", "mqttv5"):
        for qos in (0, 1, 2):
            eid = f"{run}-{version}-q{qos}"
            ev = mq.fleet_event(eid, speed_kmh=qos)
            out = mosquitto_pub(inletd.plain, version, qos, f"devices/{DEV_A}/events",
                                json.dumps(ev), DEV_A, TOK_A)
            assert out.returncode == 0, out.stderr
            sent[eid] = ev
    got = by_event_id(run)
    assert set(got) == set(sent)
    for eid, ev in sent.items():
        check_record(got[eid], DEV_A, eid, ev["payload"])
        assert got[eid]["value"]["ts"] == "2026-11-21T10:15:30.123Z"


def test_payload_form_user_properties_and_content_type(inletd):
    mark = int.from_bytes(os.urandom(3), "big") / 1000.0
    payload = {"lat": 48.1, "lon": 11.6, "speed_kmh": 12.5, "status": "en_route",
               "accuracy_m": mark}
    out = mosquitto_pub(inletd.plain, "mqttv5", 1, f"devices/{DEV_A}/fleet.position/v1",
                        json.dumps(payload), DEV_A, TOK_A,
                        extra=["-D", "publish", "user-property", "trip", "t-77",
                               "-D", "publish", "user-property", "driver", "anna",
                               "-D", "publish", "content-type", "application/json; charset=utf-8",
                               "-D", "publish", "payload-format-indicator", "1"])
    assert out.returncode == 0, out.stderr
    found = [m for m in consume("fleet.updates.v1")
             if m["value"] and m["value"]["device_id"] == DEV_A
             and m["value"]["payload"].get("accuracy_m") == mark]
    assert len(found) == 1
    m = found[0]
    check_record(m, DEV_A, m["value"]["event_id"], payload,
                 extra_headers={"trip": "t-77", "driver": "anna"},
                 content_type="application/json; charset=utf-8")
    assert m["value"]["ts"] == m["value"]["received_at"]  # no ts in a bare payload


def test_paho_async_client(inletd):
    run = unique("paho")
    tmpl = json.dumps(mq.fleet_event(f"{run}-v5-%d"))
    rc, lines = paho(inletd.plain, 5, 1, f"devices/{DEV_B}/events", tmpl, 20, DEV_B, TOK_B,
                     props=["trip=p-1", "fleet=north"])
    assert rc == 0 and lines[-1]["acked"] == 20, lines
    rc, lines = paho(inletd.plain, 3, 2, f"devices/{DEV_B}/events",
                     json.dumps(mq.fleet_event(f"{run}-v3-%d")), 10, DEV_B, TOK_B)
    assert rc == 0 and lines[-1]["acked"] == 10, lines
    rc, lines = paho(inletd.plain, 5, 0, f"devices/{DEV_B}/events",
                     json.dumps(mq.fleet_event(f"{run}-q0-%d")), 5, DEV_B, TOK_B)
    assert rc == 0, lines
    got = by_event_id(run)
    for i in range(20):
        eid = f"{run}-v5-{i}"
        check_record(got[eid], DEV_B, eid, mq.fleet_event(eid)["payload"],
                     extra_headers={"trip": "p-1", "fleet": "north"})
    for i in range(10):
        eid = f"{run}-v3-{i}"
        check_record(got[eid], DEV_B, eid, mq.fleet_event(eid)["payload"])
    assert {f"{run}-q0-{i}" for i in range(5)} <= set(got)
    assert len(got) == 35, "a message was produced twice"


def test_paho_sees_mqtt5_reason_codes(inletd):
    run = unique("paho-rc")
    rc, lines = paho(inletd.plain, 5, 1, f"devices/{DEV_B}/events", '{"payload": 1}', 2, DEV_B,
                     TOK_B)
    assert rc == 1 and [x["rc"] for x in lines[:-1]] == [0x99, 0x99], lines
    rc, lines = paho(inletd.plain, 5, 1, f"devices/{DEV_A}/events",
                     json.dumps(mq.fleet_event(f"{run}-x")), 1, DEV_B, TOK_B)
    assert [x["rc"] for x in lines[:-1]] == [0x87], lines
    rc, lines = paho(inletd.plain, 5, 1, "not/mapped", "{}", 1, DEV_B, TOK_B)
    assert [x["rc"] for x in lines[:-1]] == [0x90], lines
    assert by_event_id(run) == {}


def test_tls_with_token_and_mtls(inletd, pki):
    run = unique("tls")
    ca = ["--cafile", f"{pki}/server-ca.pem"]
    cert = ca + ["--cert", f"{pki}/device.pem", "--key", f"{pki}/device.key"]
    sent = {}
    for version, qos in (("mqttv311", 1), ("mqttv5", 2)):
        eid = f"{run}-token-{version}"
        out = mosquitto_pub(inletd.tls, version, qos, f"devices/{DEV_A}/events",
                            json.dumps(mq.fleet_event(eid)), DEV_A, TOK_A, extra=ca)
        assert out.returncode == 0, out.stderr
        sent[eid] = DEV_A
        eid = f"{run}-mtls-{version}"
        out = mosquitto_pub(inletd.mtls, version, qos, f"devices/{DEV_CERT}/events",
                            json.dumps(mq.fleet_event(eid)), extra=cert)
        assert out.returncode == 0, out.stderr
        sent[eid] = DEV_CERT
    rc, lines = paho(inletd.mtls, 5, 1, f"devices/{DEV_CERT}/events",
                     json.dumps(mq.fleet_event(f"{run}-paho-%d")), 3, scheme="ssl",
                     tls=["-c", f"{pki}/server-ca.pem", "-C", f"{pki}/device.pem", "-K",
                          f"{pki}/device.key"])
    assert rc == 0 and lines[-1]["acked"] == 3, lines
    for i in range(3):
        sent[f"{run}-paho-{i}"] = DEV_CERT
    got = by_event_id(run)
    assert set(got) == set(sent)
    for eid, device in sent.items():
        check_record(got[eid], device, eid, mq.fleet_event(eid)["payload"])

    # a certificate no tenant CA issued: refused at CONNECT, never rescued by a token
    rogue = ca + ["--cert", f"{pki}/rogue.pem", "--key", f"{pki}/rogue.key"]
    out = mosquitto_pub(inletd.mtls, "mqttv5", 1, f"devices/{DEV_CERT}/events", "{}",
                        DEV_A, TOK_A, extra=rogue)
    assert out.returncode != 0 and "not authori" in (out.stderr + out.stdout).lower(), out
    out = mosquitto_pub(inletd.mtls, "mqttv311", 1, f"devices/{DEV_CERT}/events", "{}",
                        extra=rogue)
    assert out.returncode != 0
    # client_auth require: no certificate, no connection
    out = mosquitto_pub(inletd.mtls, "mqttv5", 1, f"devices/{DEV_A}/events", "{}", DEV_A, TOK_A,
                        extra=ca)
    assert out.returncode != 0


def test_tls_connect_in_many_records(inletd, pki):
    """A CONNECT split over many TLS records (collected in a buffer of its size) and a publish
    right behind it, over TLS and over mTLS."""
    run = unique("rec")
    ctx = mq.tls_context(f"{pki}/server-ca.pem")
    mctx = mq.tls_context(f"{pki}/server-ca.pem", f"{pki}/device.pem", f"{pki}/device.key")
    for port, ctx, user, password, device in ((inletd.tls, ctx, DEV_A, TOK_A, DEV_A),
                                              (inletd.mtls, mctx, None, None, DEV_CERT)):
        with mq.RawClient(port, tls_context=ctx) as c:
            data = mq.connect(unique(run), 5, user, password)
            for i in range(0, len(data), 3):
                c.send(data[i:i + 3])  # one TLS record each
            assert c.expect(mq.CONNACK).reason == 0
            eid = f"{run}-{device}"
            assert c.publish_qos1(f"devices/{device}/events",
                                  json.dumps(mq.fleet_event(eid)), 1).reason == 0
    assert set(by_event_id(run)) == {f"{run}-{DEV_A}", f"{run}-{DEV_CERT}"}


def test_per_device_order(inletd):
    run = unique("ord")
    n = 400
    lines = "".join(json.dumps(mq.fleet_event(f"{run}-{i:04d}", speed_kmh=i % 300)) + "\n"
                    for i in range(n))
    out = mosquitto_pub(inletd.plain, "mqttv5", 1, f"devices/{DEV_B}/events", stdin=lines,
                        user=DEV_B, password=TOK_B)
    assert out.returncode == 0, out.stderr
    rc, res = paho(inletd.plain, 3, 1, f"devices/{DEV_B}/events",
                   json.dumps(mq.fleet_event(f"{run}-p%d")), 200, DEV_B,
                   TOK_B)
    assert rc == 0, res
    got = sorted(by_event_id(run).values(), key=lambda m: m["offset"])
    assert {m["partition"] for m in got} == {java_partition(DEV_B, 12)}
    mos = [m["value"]["event_id"] for m in got if "-p" not in m["value"]["event_id"][len(run):]]
    assert mos == [f"{run}-{i:04d}" for i in range(n)]
    pah = [m["value"]["event_id"] for m in got if m["value"]["event_id"].startswith(f"{run}-p")]
    assert pah == [f"{run}-p{i}" for i in range(200)]


def test_subscribe_does_not_break_anything(inletd):
    for version in ("mqttv311", "mqttv5"):
        out = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(inletd.plain), "-V",
                              version, "-u", DEV_A, "-P", TOK_A, "-t", "devices/#", "-C", "1",
                              "-W", "5"], capture_output=True, text=True, timeout=30)
        assert "denied" in out.stdout + out.stderr, out
    eid = unique("after-sub")
    out = mosquitto_pub(inletd.plain, "mqttv5", 1, f"devices/{DEV_A}/events",
                        json.dumps(mq.fleet_event(eid)), DEV_A, TOK_A)
    assert out.returncode == 0


def test_metrics(inletd):
    m = mq.metrics(inletd)
    assert m['inlet_mqtt_publishes_total{qos="1"}'] > 0
    assert m['inlet_mqtt_publishes_total{qos="2"}'] > 0
    assert m['inlet_mqtt_qos0_total{result="delivered"}'] > 0
    assert m['inlet_mqtt_connects_total{result="accepted"}'] > 0
    assert m['inlet_mqtt_connects_total{module="mqtt",result="accepted"}'] > 0  # the instance's
    assert m['inlet_mqtt_connects_total{result="not_authorized"}'] > 0
    assert m['inlet_mqtt_acks_total{reason="0x00"}'] > 0
    assert m['inlet_mqtt_acks_total{reason="0x99"}'] > 0
    assert m["inlet_mqtt_publishes_in_flight"] == 0
