"""The binary protocol module (docs/BINARY.md) over real sockets: the reference client
(build/inlet-send) and raw frames (binary_raw.py), every event read back from the real Kafka
broker with its exact envelope ("source": "binary") and key. Refusals, violations,
cross-tenant and wrong-device attempts produce nothing. TLS and mTLS."""
import json
import os
import ssl
import struct
import subprocess
import tempfile
import time

import cbor2
import pytest

import binary_raw as br
from harness import BUILD, consume, free_port, java_partition, make_ca, make_cert, sha256_hex, unique

RUN = unique("bin")
DEV = f"{RUN}-truck"
DEV_B = f"{RUN}-other"  # tenant "other"
DEV_CERT = f"{RUN}-cert"
TOK, TOK_B = unique("tok"), unique("tok")
SEND = os.path.join(BUILD, "inlet-send")
ENVELOPE_KEYS = ["tenant", "device_id", "event_id", "ts", "received_at", "schema",
                 "schema_version", "source", "payload"]
REF_PAYLOAD = {"lat": 52.52, "lon": 13.405, "speed_kmh": 61.2, "heading_deg": 270,
               "status": "delivering"}
WINDOW = 8


@pytest.fixture(scope="module")
def pki():
    d = tempfile.mkdtemp(prefix="inlet-binary-pki-")
    make_ca(d, "server-ca")
    make_ca(d, "demo-ca")
    make_ca(d, "rogue-ca")
    make_cert(d, "server-ca", "server", "localhost", server=True)
    make_cert(d, "demo-ca", "device", DEV_CERT)
    make_cert(d, "rogue-ca", "rogue", DEV_CERT)
    return d


@pytest.fixture(scope="module")
def inletd(pki):
    plain, tls = free_port(), free_port()
    tenants = {
        "demo": f"""shared_topics: true
devices: [{{id: {DEV}, groups: [trucks]}}, {{id: {DEV_CERT}, groups: [trucks]}}]
tokens: [{{sha256: {sha256_hex(TOK)}, device: {DEV}}}]
mtls:
  ca_file: {pki}/demo-ca.pem
  device_id_from: cn
acl:
  - {{effect: allow, groups: [trucks], schemas: ["fleet.position@v1"]}}
  - {{effect: deny, schemas: ["*"]}}
""",
        "other": f"""shared_topics: true
devices: [{{id: {DEV_B}}}]
tokens: [{{sha256: {sha256_hex(TOK_B)}, device: {DEV_B}}}]
acl: [{{effect: allow, schemas: ["coldchain.temp@v1"]}}]
"""}
    listeners = f"""  - address: 127.0.0.1:{plain}
  - address: 127.0.0.1:{tls}
    tls: {{cert: {pki}/server.pem, key: {pki}/server.key, client_auth: optional}}
"""
    d = br.start_inletd(tenants, f"window: {WINDOW}\nmax_frame_size: 1k\n", listeners=listeners)
    d.binary_port, d.tls_port = plain, tls
    yield d
    assert d.stop() == 0, d.logs()


def send(port, *args, token=TOK):
    cmd = [SEND, "-p", str(port)] + (["-t", token] if token else []) + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def records(device, pred=lambda v: True):
    return [m for m in consume("fleet.updates.v1") if m["value"]
            and m["value"]["device_id"] == device and pred(m["value"])]


def by_event(device, eid):
    return records(device, lambda v: v["event_id"] == eid)


def check_envelope(m, device, payload, content_type="application/octet-stream", tenant="demo"):
    v = m["value"]
    assert list(v.keys()) == ENVELOPE_KEYS
    assert v["tenant"] == tenant and v["device_id"] == device
    assert v["schema"] == "fleet.position" and v["schema_version"] == "v1"
    assert v["source"] == "binary"
    assert v["payload"] == payload
    assert m["key"] == device
    assert m["partition"] == java_partition(device, 12)
    h = m["headers"]
    assert h["inlet-source"] == "binary" and h["inlet-tenant"] == tenant
    assert h["inlet-schema"] == "fleet.position" and h["inlet-schema-version"] == "v1"
    assert h["inlet-content-type"] == content_type
    assert h["inlet-event-id"] == v["event_id"]


def test_inlet_send_reference_event(inletd):
    eid = f"{RUN}-ref"
    out = send(inletd.binary_port, "-s", "fleet.position", "-v", "1", "-e", eid,
               "-x", br.REFERENCE.hex())
    assert out.returncode == 0, out.stderr
    assert out.stdout == "seq 0: 0x00 accepted\n"
    got = by_event(DEV, eid)
    assert len(got) == 1
    check_envelope(got[0], DEV, REF_PAYLOAD)


def test_inlet_send_many_frames_within_the_window(inletd):
    eid = f"{RUN}-many"
    out = send(inletd.binary_port, "-s", "fleet.position", "-e", eid, "-n", "50", "-q",
               "-x", br.fleet_frame(48.1, 11.5, 30, 65535, 1).hex())
    assert out.returncode == 0, out.stderr + out.stdout
    got = records(DEV, lambda v: v["event_id"].startswith(eid + "-"))
    assert sorted(m["value"]["event_id"] for m in got) == sorted(f"{eid}-{i}" for i in range(50))
    # heading 0xffff is "absent"; one partition, in order of sending
    assert all("heading_deg" not in m["value"]["payload"] for m in got)
    offsets = {m["value"]["event_id"]: m["offset"] for m in got}
    assert [offsets[f"{eid}-{i}"] for i in range(50)] == sorted(offsets.values())


def test_welcome_bytes_and_formats(inletd):
    c = br.Conn(inletd.binary_port)
    c.send(br.hello(TOK, keep_alive=60))
    w = c.recv()
    # byte-exact: length 12, WELCOME, flags 0, seq 0; accepted, v1, window 8, keep alive 60,
    # max_frame 1024, retry_after 0
    assert c.raw[:20] == bytes.fromhex("0000000c81000000" "0001" "0008" "003c" "00000400" "0000")
    assert (w.status, w.window, w.keep_alive, w.max_frame) == (0, WINDOW, 60, 1024)
    mark = int.from_bytes(os.urandom(3), "big") / 1000.0
    p = dict(REF_PAYLOAD, lat=mark % 90)
    c.send(br.data(json.dumps(p), fmt=br.JSON, seq=10, event_id=f"{RUN}-json"))
    c.send(br.data(cbor2.dumps(p), schema=None, fmt=br.CBOR, seq=11, event_id=f"{RUN}-cbor"))
    a1, a2 = c.recv(), c.recv()
    assert (a1.type, a1.seq, a1.status, a1.flags) == (br.ACK, 10, 0, 0)
    assert (a2.type, a2.seq, a2.status) == (br.ACK, 11, 0)
    # ACK 0x00 is exactly 11 bytes: header + status + retry_after
    assert c.raw[20:31] == bytes.fromhex("00000003820000 0a 000000".replace(" ", ""))
    c.send(br.frame(br.BYE))
    closed = c.expect_closed()
    assert [(a.type, a.status) for a in closed] == [(br.CLOSE, 0)]
    c.close()
    check_envelope(by_event(DEV, f"{RUN}-json")[0], DEV, p, "application/json")
    check_envelope(by_event(DEV, f"{RUN}-cbor")[0], DEV, p, "application/cbor")


def test_acks_in_arrival_order_with_refusals(inletd):
    c = br.Conn(inletd.binary_port)
    assert c.hello(TOK).status == 0
    frames = [
        br.data(br.REFERENCE, seq=1, event_id=f"{RUN}-o1"),
        br.data(br.REFERENCE[:12], schema=None, seq=2, event_id=f"{RUN}-o2"),  # short: 0x99
        br.data(br.REFERENCE, schema=None, seq=3, event_id=f"{RUN}-o3"),
        br.data(b"\x01", schema="no.such.schema", seq=4, event_id=f"{RUN}-o4"),  # 0x90
        br.data(b"{}", schema="coldchain.temp", fmt=br.JSON, seq=5, event_id=f"{RUN}-o5"),  # ACL
        br.data(br.REFERENCE, schema="fleet.position", fmt=9999, seq=6, event_id=f"{RUN}-o6"),
        br.data(br.REFERENCE, seq=7, event_id=f"{RUN}-o7"),
    ]
    c.send(b"".join(frames))  # one write: the refusals are known before the first Kafka ack
    acks = [c.recv() for _ in frames]
    assert [(a.type, a.seq) for a in acks] == [(br.ACK, i) for i in range(1, 8)]
    assert [a.status for a in acks] == [0x00, 0x99, 0x00, 0x90, 0x87, 0x99, 0x00]
    assert all(a.flags == 0 for a in acks)  # refused ones: not stored
    assert b"inside \"status\"" in acks[1].reason
    c.close()
    got = {m["value"]["event_id"] for m in records(DEV, lambda v: v["event_id"].startswith(f"{RUN}-o"))}
    assert got == {f"{RUN}-o1", f"{RUN}-o3", f"{RUN}-o7"}


def test_ping_pong_and_keep_alive(inletd):
    c = br.Conn(inletd.binary_port)
    w = c.hello(TOK, keep_alive=1)
    assert (w.status, w.keep_alive) == (0, 1)
    c.send(br.frame(br.PING, seq=77))
    p = c.recv()
    assert (p.type, p.seq, p.body) == (br.PONG, 77, b"")
    t0 = time.time()
    got = c.expect_closed(timeout=10)  # 1.5 x 1 s of silence, swept once a second
    assert [(a.type, a.status) for a in got] == [(br.CLOSE, 0x8D)]
    assert time.time() - t0 < 5
    c.close()


def test_refused_hellos(inletd):
    cases = [
        (dict(token="not-a-token"), 0x86),
        (dict(token=None), 0x87),                      # no token, no certificate
        (dict(token=TOK, device=DEV_B), 0x87),         # another tenant's device
        (dict(token=TOK_B, device=DEV), 0x87),         # cross-tenant claim
        (dict(token=TOK, version=2), 0x84),
    ]
    for kw, status in cases:
        c = br.Conn(inletd.binary_port)
        c.send(br.hello(**kw))
        got = c.expect_closed()
        assert [(a.type, a.status, a.window) for a in got] == [(br.WELCOME, status, 0)], kw
        c.close()


def test_cross_tenant_data_produces_nothing(inletd):
    eid = f"{RUN}-xt"
    # tenant "other" may not send fleet.position; its device gets 0x87 and nothing is produced
    out = send(inletd.binary_port, "-s", "fleet.position", "-e", eid, "-x", br.REFERENCE.hex(),
               token=TOK_B)
    assert out.returncode == 1 and "0x87 not authorized" in out.stdout, out.stdout
    out = send(inletd.binary_port, "-d", DEV_B, "-s", "fleet.position", "-e", eid + "x",
               "-x", br.REFERENCE.hex())
    assert out.returncode == 3 and "0x87" in out.stderr
    assert records(DEV_B) == [] and by_event(DEV, eid) == [] and by_event(DEV, eid + "x") == []


@pytest.mark.parametrize("name,first,frames,expect", [
    ("data-before-hello", None, [br.data(br.REFERENCE, event_id=f"{RUN}-v1")], (br.WELCOME, 0x82)),
    ("ping-before-hello", None, [br.frame(br.PING)], (br.WELCOME, 0x82)),
    ("oversized-hello", None, [struct.pack(">IBBH", 8193, br.HELLO, 0, 0)], (br.WELCOME, 0x95)),
    ("oversized-data", TOK, [struct.pack(">IBBH", 1025, br.DATA, 0, 0)], (br.CLOSE, 0x95)),
    ("unknown-type", TOK, [br.frame(0x7f)], (br.CLOSE, 0x82)),
    ("server-type", TOK, [br.frame(br.ACK, b"\0\0\0")], (br.CLOSE, 0x82)),
    ("second-hello", TOK, [br.hello(TOK)], (br.CLOSE, 0x82)),
    ("bad-flags", TOK, [br.frame(br.DATA, b"\x00\x2a\x00", flags=0x80)], (br.CLOSE, 0x82)),
    ("no-schema-yet", TOK, [br.data(br.REFERENCE, schema=None, event_id=f"{RUN}-v2")],
     (br.CLOSE, 0x81)),
    ("version-0", TOK, [br.data(br.REFERENCE, version=0, event_id=f"{RUN}-v3")], (br.CLOSE, 0x81)),
])
def test_violations_close_with_a_status(inletd, name, first, frames, expect):
    c = br.Conn(inletd.binary_port)
    if first:
        assert c.hello(first).status == 0
    c.send(b"".join(frames))
    got = c.expect_closed()
    assert [(a.type, a.status) for a in got] == [expect], (name, got)
    c.close()


def test_window_exceeded_closes_and_produces_nothing_for_it(inletd):
    c = br.Conn(inletd.binary_port)
    assert c.hello(TOK).status == 0
    frames = [br.data(br.REFERENCE, seq=i, event_id=f"{RUN}-w{i}") for i in range(WINDOW + 1)]
    c.send(b"".join(frames))
    got = c.expect_closed()
    assert got[-1].type == br.CLOSE and got[-1].status == 0x93, got
    c.close()
    time.sleep(1)
    assert by_event(DEV, f"{RUN}-w{WINDOW}") == []


def test_tls_token_and_mtls(inletd, pki):
    eid = f"{RUN}-tls"
    out = send(inletd.tls_port, "-T", "-C", f"{pki}/server-ca.pem", "-S", "localhost",
               "-s", "fleet.position", "-e", eid, "-x", br.REFERENCE.hex())
    assert out.returncode == 0, out.stderr
    check_envelope(by_event(DEV, eid)[0], DEV, REF_PAYLOAD)

    # mTLS: no token, the certificate names the device (CN)
    out = send(inletd.tls_port, "-T", "-C", f"{pki}/server-ca.pem", "-S", "localhost",
               "-c", f"{pki}/device.pem", "-K", f"{pki}/device.key",
               "-s", "fleet.position", "-e", eid + "-m", "-x", br.REFERENCE.hex(), token=None)
    assert out.returncode == 0, out.stderr
    check_envelope(by_event(DEV_CERT, eid + "-m")[0], DEV_CERT, REF_PAYLOAD)

    # a certificate of a CA no tenant trusts: refused, not rescued by a valid token
    out = send(inletd.tls_port, "-T", "-C", f"{pki}/server-ca.pem", "-S", "localhost",
               "-c", f"{pki}/rogue.pem", "-K", f"{pki}/rogue.key",
               "-s", "fleet.position", "-e", eid + "-r", "-x", br.REFERENCE.hex())
    assert out.returncode == 3 and "0x87" in out.stderr, out.stderr

    # raw frames over TLS (Python's ssl): the same protocol
    ctx = ssl.create_default_context(cafile=f"{pki}/server-ca.pem")
    c = br.Conn(inletd.tls_port, tls=ctx)
    assert c.hello(TOK).status == 0
    c.send(br.data(br.REFERENCE, seq=5, event_id=eid + "-raw"))
    a = c.recv()
    assert (a.type, a.seq, a.status) == (br.ACK, 5, 0)
    c.close()
    assert len(by_event(DEV, eid + "-raw")) == 1
    assert by_event(DEV_CERT, eid + "-r") == [] and by_event(DEV, eid + "-r") == []
