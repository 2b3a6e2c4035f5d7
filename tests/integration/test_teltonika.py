"""The Teltonika module end to end: a real inletd, trackers speaking raw bytes, every event read
back from the real broker with its exact envelope and key. The IMEI handshake (known, unknown,
malformed), the example packets of Teltonika's documentation (Codec 8, 8 Extended, 16) decoded
to the documented values, every refusal answered 0 (bad CRC, count mismatch, truncated records,
schema, ACL) with the connection kept, framing errors answered 0 and closed, IO names, IMEI
checks at load and reload, TLS and mTLS."""
import os
import random
import signal
import ssl
import subprocess
import tempfile
import time

import pytest

import teltonika_raw as tr
from harness import INLETD, SOURCE, find_events, free_port, java_partition, make_ca, make_cert, \
    unique

TOPIC = "teltonika.avl.v1"
PARTITIONS = 12


def new_imei():
    return "35" + "".join(random.choice("0123456789") for _ in range(13))


IMEI = new_imei()
IMEI_DENIED = new_imei()
IMEI_OTHER = new_imei()  # tenant "other", which names IO ids
DEV = unique("tracker")
DEV_DENIED = unique("denied")
DEV_OTHER = unique("other")

# Both tenants write to the shared teltonika.avl.v1 topic on purpose (distinct device ids).
TENANTS = {
    "tlt": f"""shared_topics: true
devices:
  - {{id: {DEV}, imei: "{IMEI}", groups: [trackers]}}
  - {{id: {DEV_DENIED}, imei: "{IMEI_DENIED}"}}
acl:
  - {{effect: allow, groups: [trackers], schemas: ["teltonika.avl@v1"]}}
  - {{effect: deny, schemas: ["*"], reason: "not a tracker"}}
""",
    "other": f"""shared_topics: true
devices: [{{id: {DEV_OTHER}, imei: "{IMEI_OTHER}"}}]
acl: [{{effect: allow, schemas: ["*"]}}]
""",
}

EXTRA = """max_packet_size: 4k
io_names: {239: ignition, 66: external_voltage}
tenants:
  - tenant: other
    io_names: {21: gsm_signal, 66: battery_voltage}
"""


@pytest.fixture(scope="module")
def d():
    d = tr.start_inletd(TENANTS, EXTRA)
    yield d
    assert d.stop() == 0, d.logs()


def events_of(imei, n=None, timeout=30):
    """The Kafka messages whose event id starts with this IMEI (waiting for n of them)."""
    deadline = time.time() + timeout
    while True:
        msgs = find_events(TOPIC, lambda v: v.get("event_id", "").startswith(imei + "-"))
        if n is None or len(msgs) >= n or time.time() > deadline:
            return msgs
        time.sleep(0.5)


def connect(d, imei=IMEI):
    t = tr.Tracker(d.tlt_port)
    assert t.hello(imei) == 1
    return t


def check_envelope(m, imei, dev, tenant, ts, payload, record_crc=None):
    v = m["value"]
    assert m["key"] == dev
    assert m["partition"] == java_partition(dev, PARTITIONS)
    assert list(v) == ["tenant", "device_id", "event_id", "ts", "received_at", "schema",
                       "schema_version", "source", "payload"]
    assert v["tenant"] == tenant and v["device_id"] == dev
    assert v["ts"] == ts
    assert v["schema"] == "teltonika.avl" and v["schema_version"] == "v1"
    assert v["source"] == "teltonika"
    assert v["payload"] == payload
    ts_ms = v["event_id"].split("-")[1]
    assert v["event_id"].startswith(f"{imei}-{ts_ms}-") and len(v["event_id"].split("-")[2]) == 4
    assert m["headers"]["inlet-source"] == "teltonika"
    assert m["headers"]["inlet-tenant"] == tenant
    assert m["headers"]["inlet-schema"] == "teltonika.avl"


def test_wiki_examples_decode_to_the_documented_values(d):
    imei = new_imei()
    dev = unique("wiki")
    # a device of its own, declared by a reload, so that nothing else shares its event ids
    path = os.path.join(d.dir, "conf.d", "tenant-wiki.yaml")
    with open(path, "w") as f:
        f.write(f"tenant: wiki\nshared_topics: true\ndevices: [{{id: {dev}, imei: \"{imei}\"}}]\n"
                "acl: [{effect: allow, schemas: [\"*\"]}]\n")
    d.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 15
    while True:
        with tr.Tracker(d.tlt_port) as t:
            if t.hello(imei) == 1:
                break
        assert time.time() < deadline, "the reload did not declare the IMEI:\n" + d.logs()
        time.sleep(0.3)
    expected = []
    with connect(d, imei) as t:
        for name, pk in tr.WIKI.items():
            want = tr.WIKI_EVENTS[name]
            assert t.send_packet(pk) == len(want), name
            expected += want
    msgs = events_of(imei, len(expected))
    assert len(msgs) == len(expected), [m["value"] for m in msgs]
    # one partition per device: Kafka keeps the order the tracker sent
    msgs.sort(key=lambda m: m["offset"])
    module_names = {"66": "external_voltage", "239": "ignition"}  # EXTRA's io_names
    for m, (ts, payload) in zip(msgs, expected):
        payload = dict(payload, io={module_names.get(k, k): v for k, v in payload["io"].items()})
        check_envelope(m, imei, dev, "wiki", ts, payload)
    assert len({m["value"]["event_id"] for m in msgs}) == len(expected)


def test_unknown_imei_is_answered_00_and_closed(d):
    with tr.Tracker(d.tlt_port) as t:
        assert t.hello(new_imei()) == 0
        assert t.closed()


@pytest.mark.parametrize("msg", [b"\x00\x0e" + b"35630704244101", b"\x00\x0f" + b"35630704244101x",
                                 b"\x01\x00" + b"1" * 256])
def test_malformed_imei_is_answered_00_and_closed(d, msg):
    with tr.Tracker(d.tlt_port) as t:
        t.send(msg)
        assert t.recv_exact(1) == b"\x00"
        assert t.closed()


def good_packet(ts_ms, **kw):
    return tr.packet(0x08, [tr.record8(ts_ms, priority=1, lon=25.2797, lat=54.6872, alt=112,
                                       angle=270, sats=9, speed=61, event=239,
                                       io={239: (1, 1), 66: (2, 12345), 21: (1, 4)}, **kw)])


def test_own_packet_mapping_and_module_io_names(d):
    ts = 1764000000123
    with connect(d) as t:
        assert t.send_packet(good_packet(ts)) == 1
    (m,) = [m for m in events_of(IMEI, 1) if m["value"]["ts"] == "2025-11-24T16:00:00.123Z"]
    check_envelope(m, IMEI, DEV, "tlt", "2025-11-24T16:00:00.123Z", {
        "codec": "8", "priority": "high", "lon": 25.2797, "lat": 54.6872, "altitude_m": 112,
        "angle_deg": 270, "satellites": 9, "speed_kmh": 61, "event_io_id": 239,
        "io": {"ignition": 1, "21": 4, "external_voltage": 12345}})


def test_tenant_io_names_override_the_module_ones(d):
    ts = 1764000001000
    with connect(d, IMEI_OTHER) as t:
        assert t.send_packet(good_packet(ts)) == 1
    (m,) = events_of(IMEI_OTHER, 1)
    assert m["value"]["tenant"] == "other" and m["key"] == DEV_OTHER
    assert m["value"]["payload"]["io"] == {"ignition": 1, "gsm_signal": 4,
                                           "battery_voltage": 12345}


def refused(d, data, ts_marker):
    """Send a broken packet: answered 0, the connection stays, a good one is acknowledged
    after it, and nothing of the broken one reached Kafka."""
    with connect(d) as t:
        assert t.send_packet(data) == 0
        assert t.send_packet(good_packet(ts_marker)) == 1
    stamps = {m["value"]["event_id"].split("-")[1] for m in events_of(IMEI)}
    assert str(ts_marker) in stamps
    return stamps


def test_bad_crc_is_answered_0(d):
    pk = tr.packet(0x08, [tr.record8(1764000002000)], crc=0x1234)
    assert "1764000002000" not in refused(d, pk, 1764000002001)


def test_crc_upper_half_must_be_zero(d):
    good = tr.packet(0x08, [tr.record8(1764000003000)])
    pk = good[:-4] + b"\x00\x01" + good[-2:]
    assert "1764000003000" not in refused(d, pk, 1764000003001)


def test_count_mismatch_is_answered_0(d):
    pk = tr.packet(0x08, [tr.record8(1764000004000)], count2=2)
    assert "1764000004000" not in refused(d, pk, 1764000004001)


def test_fewer_records_than_announced_is_answered_0(d):
    pk = tr.packet(0x08, [tr.record8(1764000005000)], count=2)
    assert "1764000005000" not in refused(d, pk, 1764000005001)


def test_truncated_record_is_answered_0(d):
    rec = tr.record8(1764000006000, io={1: (1, 1)})
    pk = tr.packet(0x08, [rec[:-3]])
    assert "1764000006000" not in refused(d, pk, 1764000006001)


def test_io_count_that_does_not_add_up_is_answered_0(d):
    rec = bytearray(tr.record8(1764000007000, io={1: (1, 1)}))
    rec[25] = 3  # N says 3, the groups hold 1
    assert "1764000007000" not in refused(d, tr.packet(0x08, [bytes(rec)]), 1764000007001)


def test_unknown_codec_is_answered_0(d):
    pk = tr.packet(0x0C, [tr.record8(1764000008000)])
    assert "1764000008000" not in refused(d, pk, 1764000008001)


def test_schema_refusal_is_answered_0(d):
    pk = tr.packet(0x08, [tr.record8(1764000009000, lat=95.0)])
    assert "1764000009000" not in refused(d, pk, 1764000009001)


def test_one_bad_record_refuses_the_whole_packet(d):
    pk = tr.packet(0x08, [tr.record8(1764000010000), tr.record8(1764000010001, priority=7)])
    stamps = refused(d, pk, 1764000010002)
    assert "1764000010000" not in stamps and "1764000010001" not in stamps


def test_acl_refusal_is_answered_0(d):
    with connect(d, IMEI_DENIED) as t:
        assert t.send_packet(good_packet(1764000011000)) == 0
        assert t.send_packet(good_packet(1764000011001)) == 0
    assert events_of(IMEI_DENIED, timeout=0) == []


def test_keepalive_byte_between_packets(d):
    with connect(d) as t:
        t.send(b"\xff")
        assert t.send_packet(good_packet(1764000012000)) == 1


def test_length_past_the_cap_is_answered_0_and_closed(d):
    with connect(d) as t:
        t.send(b"\x00\x00\x00\x00" + (100000).to_bytes(4, "big") + b"\x08\x01")
        assert t.recv_exact(4) == b"\x00\x00\x00\x00"
        assert t.closed()


def test_bad_preamble_is_answered_0_and_closed(d):
    with connect(d) as t:
        pk = bytearray(good_packet(1764000013000))
        pk[0] = 1
        t.send(bytes(pk))
        assert t.recv_exact(4) == b"\x00\x00\x00\x00"
        assert t.closed()


def test_truncated_packet_then_close_produces_nothing(d):
    with connect(d) as t:
        t.send(good_packet(1764000014000)[:-5])
    time.sleep(1)
    with connect(d) as t:  # the module is still serving
        assert t.send_packet(good_packet(1764000014001)) == 1
    stamps = {m["value"]["event_id"].split("-")[1] for m in events_of(IMEI)}
    assert "1764000014000" not in stamps and "1764000014001" in stamps


def test_a_packet_split_across_segments(d):
    pk = good_packet(1764000015000)
    with connect(d) as t:
        for i in range(0, len(pk), 7):
            t.send(pk[i:i + 7])
            time.sleep(0.01)
        assert t.recv_exact(4) == b"\x00\x00\x00\x01"


def test_resent_packet_has_the_same_event_ids(d):
    pk = good_packet(1764000016000)
    with connect(d) as t:
        assert t.send_packet(pk) == 1
        assert t.send_packet(pk) == 1
    ids = [m["value"]["event_id"] for m in events_of(IMEI, 1)
           if m["value"]["event_id"].split("-")[1] == "1764000016000"]
    assert len(ids) == 2 and ids[0] == ids[1]


# ---- configuration checks ----------------------------------------------------------------------

def check_config(files):
    d = tempfile.mkdtemp(prefix="inletd-tlt-conf-")
    os.makedirs(os.path.join(d, "conf.d"))
    with open(os.path.join(d, "inletd.yaml"), "w") as f:
        f.write(f"schema_dir: {SOURCE}/schemas\nkafka:\n  bootstrap_servers: 127.0.0.1:1\n")
    for name, body in files.items():
        with open(os.path.join(d, "conf.d", name), "w") as f:
            f.write(body)
    return subprocess.run([INLETD, "--check-config", "-c", d], capture_output=True, text=True)


def test_imei_unique_across_tenants_at_load():
    r = check_config({"tenant-a.yaml": 'tenant: a\ndevices: [{id: x, imei: "356307042441013"}]\n',
                      "tenant-b.yaml": 'tenant: b\ndevices: [{id: y, imei: "356307042441013"}]\n'})
    assert r.returncode != 0
    err = r.stdout + r.stderr
    assert "tenant-a.yaml" in err and "tenant-b.yaml" in err and "356307042441013" in err, err


@pytest.mark.parametrize("imei", ["35630704244101", "3563070424410134", "35630704244101x"])
def test_imei_must_be_15_digits(imei):
    r = check_config({"tenant-a.yaml": f'tenant: a\ndevices: [{{id: x, imei: "{imei}"}}]\n'})
    assert r.returncode != 0 and "imei" in r.stdout + r.stderr


@pytest.mark.parametrize("names,why", [("{66: ignition, 239: ignition}", "both named"),
                                       ("{70000: x}", "0..65535"), ("{66: \"123\"}", "digits"),
                                       ("{66: Bad-Name}", "a-z")])
def test_io_names_are_checked(names, why):
    r = check_config({"teltonika.yaml": f"module: teltonika\nio_names: {names}\n"
                      "listeners: [{address: 127.0.0.1:0}]\n"})
    assert r.returncode != 0 and why in r.stdout + r.stderr, r.stdout + r.stderr


# ---- TLS and mTLS --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pki():
    p = tempfile.mkdtemp(prefix="inlet-tlt-pki-")
    make_ca(p, "ca")
    make_ca(p, "devca")
    make_cert(p, "ca", "server", "localhost", server=True)
    make_cert(p, "devca", "tracker", DEV)
    make_cert(p, "ca", "stranger", "nobody")
    return p


def test_tls_and_mtls(pki):
    p = pki
    imei, dev = new_imei(), unique("tlsdev")
    other_imei = new_imei()
    tport, mport = free_port(), free_port()
    tenants = {"tls": f"""devices:
  - {{id: {DEV}, imei: "{imei}"}}
  - {{id: {dev}, imei: "{other_imei}"}}
mtls: {{ca_file: {p}/devca.pem}}
acl: [{{effect: allow, schemas: ["*"]}}]
"""}
    listeners = (f"  - address: 127.0.0.1:{tport}\n    tls: {{cert: {p}/server.pem, key: {p}/server.key}}\n"
                 f"  - address: 127.0.0.1:{mport}\n    tls: {{cert: {p}/server.pem, key: {p}/server.key, "
                 "client_auth: require}\n")
    d = tr.start_inletd(tenants, listeners=listeners)
    try:
        ctx = ssl.create_default_context(cafile=f"{p}/ca.pem")
        with tr.Tracker(tport, tls_context=ctx) as t:
            assert t.hello(imei) == 1
            assert t.send_packet(good_packet(1764000020000)) == 1
        with tr.Tracker(tport, tls_context=ctx) as t:
            assert t.hello(new_imei()) == 0
        mctx = ssl.create_default_context(cafile=f"{p}/ca.pem")
        mctx.load_cert_chain(f"{p}/tracker.pem", f"{p}/tracker.key")
        with tr.Tracker(mport, tls_context=mctx) as t:  # the certificate's device, its IMEI
            assert t.hello(imei) == 1
            assert t.send_packet(good_packet(1764000021000)) == 1
        with tr.Tracker(mport, tls_context=mctx) as t:  # an IMEI nobody declares: the cert wins
            assert t.hello(new_imei()) == 1
        with tr.Tracker(mport, tls_context=mctx) as t:  # another device's IMEI
            assert t.hello(other_imei) == 0
        sctx = ssl.create_default_context(cafile=f"{p}/ca.pem")
        sctx.load_cert_chain(f"{p}/stranger.pem", f"{p}/stranger.key")
        with tr.Tracker(mport, tls_context=sctx) as t:  # a certificate no tenant accepts
            assert t.hello(imei) == 0
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            with tr.Tracker(mport, tls_context=ctx) as t:  # no certificate: no handshake
                t.hello(imei)
                raise ConnectionError("closed") if t.closed(2) else AssertionError("served")
        msgs = events_of(imei, 2)
        assert {m["value"]["ts"] for m in msgs} == {"2025-11-24T16:00:20.000Z",
                                                    "2025-11-24T16:00:21.000Z"}
        assert all(m["key"] == DEV and m["value"]["source"] == "teltonika" for m in msgs)
    finally:
        assert d.stop() == 0, d.logs()
