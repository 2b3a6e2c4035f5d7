"""The MQTT listener against raw bytes: protocol violations, limits and session rules, each with
the reaction the MQTT 3.1.1 / 5.0 specs give, while a well-behaved client on its own connection
keeps publishing through all of it. Real inletd, real Kafka."""
import json
import os
import signal
import socket
import struct
import threading
import time

import pytest

import mqtt_raw as mq
from harness import find_events, sha256_hex, unique

RUN = unique("raw")
DEV, DEV2 = f"{RUN}-dev", f"{RUN}-dev2"
TOK, TOK2 = unique("tok"), unique("tok")
TOPIC = f"devices/{DEV}/events"
TENANTS = {"demo": f"""devices: [{{id: {DEV}}}, {{id: {DEV2}}}]
tokens:
  - {{sha256: {sha256_hex(TOK)}, device: {DEV}}}
  - {{sha256: {sha256_hex(TOK2)}, device: {DEV2}}}
acl: [{{effect: allow, schemas: ["*"]}}]
"""}
MQTT_EXTRA = """receive_maximum: 4
max_packet_size: 4k
max_connect_size: 1k
topic_aliases: 4
connect_timeout: 2s
max_keep_alive: 1m
max_session_expiry: 5m
"""


@pytest.fixture(scope="module")
def inletd():
    d = mq.start_inletd(TENANTS, MQTT_EXTRA, main_extra="max_events: 3")
    yield d
    assert d.stop() == 0, d.logs()


@pytest.fixture(scope="module")
def healthy(inletd):
    """The well-behaved neighbour: one long-lived MQTT 5 connection through every test."""
    c = mq.RawClient(inletd.mqtt_port)
    ack = c.connect(f"{RUN}-healthy", DEV2, TOK2, keep_alive=600)
    assert ack.reason == 0
    c.next_id = 1
    yield c
    c.close()


def still_serving(healthy):
    """The neighbour publishes QoS 1 and gets PUBACK 0: the server kept serving it."""
    pid = healthy.next_id
    healthy.next_id += 1
    eid = f"{RUN}-healthy-{pid}"
    p = healthy.publish_qos1(f"devices/{DEV2}/events", json.dumps(mq.fleet_event(eid)), pid)
    assert p.reason == 0, p
    healthy.ping()


def client(inletd, version=5, client_id=None, keep_alive=60, **kw):
    c = mq.RawClient(inletd.mqtt_port, version=version)
    ack = c.connect(client_id or unique(RUN), DEV, TOK, keep_alive=keep_alive, **kw)
    assert ack.reason == 0, ack
    return c


def events_with_prefix(prefix):
    return [m for m in find_events("fleet.updates.v1",
                                   lambda v: v.get("event_id", "").startswith(prefix))]


# ---- before CONNECT ----------------------------------------------------------------------------

@pytest.mark.parametrize("first", [mq.pingreq(), mq.publish("a/b", b"x"),
                                   b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"\x00\x00"])
def test_first_packet_not_connect_is_closed_without_answer(inletd, healthy, first):
    with mq.RawClient(inletd.mqtt_port) as c:
        c.send(first)
        assert c.expect_closed(5) == []  # [MQTT-3.1.0-1]: close, nothing sent
    still_serving(healthy)


def test_oversized_connect_is_closed_before_its_body_arrives(inletd, healthy):
    with mq.RawClient(inletd.mqtt_port) as c:
        t0 = time.time()
        c.send(b"\x10" + mq.varint(100 * 1024 * 1024) + b"\x00\x04MQTT\x05")
        assert c.expect_closed(5) == []
        assert time.time() - t0 < 2, "the server waited for (or buffered) the oversized CONNECT"
    still_serving(healthy)


def test_connect_in_pieces(inletd, healthy):
    """A CONNECT that trickles in (it waits in the socket until complete) is served normally."""
    with mq.RawClient(inletd.mqtt_port) as c:
        data = mq.connect(unique(RUN), 5, DEV, TOK)
        for i in range(len(data)):
            c.send(data[i:i + 1])
            time.sleep(0.01)
        assert c.expect(mq.CONNACK).reason == 0
        c.ping()
    still_serving(healthy)


def test_connect_timeout(inletd, healthy):
    with mq.RawClient(inletd.mqtt_port) as c:
        t0 = time.time()
        assert c.expect_closed(10) == []
        assert 1.5 <= time.time() - t0 < 6
    still_serving(healthy)


# ---- framing and packet violations after CONNECT -----------------------------------------------

def test_oversized_remaining_length(inletd, healthy):
    with client(inletd) as c:
        c.send(b"\x30" + mq.varint(1024 * 1024))  # the header alone; max_packet_size is 4k
        got = c.expect_closed(5)
        assert [(p.type, p.reason) for p in got] == [(mq.DISCONNECT, 0x95)]
    with client(inletd, version=4) as c:
        c.send(b"\x30" + mq.varint(1024 * 1024))
        assert c.expect_closed(5) == []
    still_serving(healthy)


def test_malformed_varint(inletd, healthy):
    with client(inletd) as c:
        c.send(b"\x30\x80\x80\x80\x80\x01")  # a fifth length byte (5.0 §1.5.5)
        got = c.expect_closed(5)
        assert [(p.type, p.reason) for p in got] == [(mq.DISCONNECT, 0x81)]
    with client(inletd, version=4) as c:
        c.send(b"\x30\x80\x80\x80\x80\x01")
        assert c.expect_closed(5) == []
    still_serving(healthy)


def test_invalid_utf8_topic(inletd, healthy):
    bad = f"devices/{DEV}/".encode() + b"\xc3\x28"
    with client(inletd) as c:
        c.publish(bad, b"{}", 1, 1)
        got = c.expect_closed(5)
        assert [(p.type, p.reason) for p in got] == [(mq.DISCONNECT, 0x81)]
    with client(inletd, version=4) as c:
        c.publish(bad, b"{}", 1, 1)
        assert c.expect_closed(5) == []
    still_serving(healthy)


def test_wildcard_in_topic_name(inletd, healthy):
    with client(inletd) as c:
        c.publish(f"devices/{DEV}/+", b"{}", 1, 1)
        got = c.expect_closed(5)
        assert [(p.type, p.reason) for p in got] == [(mq.DISCONNECT, 0x90)]
    still_serving(healthy)


def test_topic_alias_zero(inletd, healthy):
    with client(inletd) as c:
        c.publish(TOPIC, b"{}", 1, 1, props=[mq.prop(mq.P_TOPIC_ALIAS, 0)])
        got = c.expect_closed(5)
        assert [(p.type, p.reason) for p in got] == [(mq.DISCONNECT, 0x94)]
    still_serving(healthy)


def test_topic_alias_above_maximum_and_unknown(inletd, healthy):
    with client(inletd) as c:
        c.publish(TOPIC, b"{}", 1, 1, props=[mq.prop(mq.P_TOPIC_ALIAS, 5)])  # maximum is 4
        assert [(p.type, p.reason) for p in c.expect_closed(5)] == [(mq.DISCONNECT, 0x94)]
    with client(inletd) as c:
        c.publish("", b"{}", 1, 1, props=[mq.prop(mq.P_TOPIC_ALIAS, 2)])  # never set
        assert [(p.type, p.reason) for p in c.expect_closed(5)] == [(mq.DISCONNECT, 0x82)]
    still_serving(healthy)


def test_topic_alias_is_honoured(inletd, healthy):
    run = unique("alias")
    with client(inletd) as c:
        p = c.publish_qos1(TOPIC, json.dumps(mq.fleet_event(f"{run}-1")), 1,
                           props=[mq.prop(mq.P_TOPIC_ALIAS, 3)])
        assert p.reason == 0
        p = c.publish_qos1("", json.dumps(mq.fleet_event(f"{run}-2")), 2,
                           props=[mq.prop(mq.P_TOPIC_ALIAS, 3)])
        assert p.reason == 0
    assert {m["value"]["event_id"] for m in events_with_prefix(run)} == {f"{run}-1", f"{run}-2"}
    still_serving(healthy)


def test_second_connect_and_auth_packet_are_protocol_errors(inletd, healthy):
    with client(inletd) as c:
        c.send(mq.connect("again", 5, DEV, TOK))
        assert [(p.type, p.reason) for p in c.expect_closed(5)] == [(mq.DISCONNECT, 0x82)]
    with client(inletd) as c:
        c.send(mq.packet(mq.AUTH, 0, b"\x18\x00"))
        assert [(p.type, p.reason) for p in c.expect_closed(5)] == [(mq.DISCONNECT, 0x82)]
    still_serving(healthy)


# ---- Receive Maximum and QoS 2 state (the CVE-2023-28366 class) --------------------------------

def test_connack_advertises_limits(inletd):
    with mq.RawClient(inletd.mqtt_port) as c:
        ack = c.connect(unique(RUN), DEV, TOK)
        assert ack.reason == 0
        assert ack.props[mq.P_RECEIVE_MAXIMUM] == 4
        assert ack.props[mq.P_MAXIMUM_PACKET_SIZE] == 4096
        assert ack.props[mq.P_TOPIC_ALIAS_MAXIMUM] == 4
        assert ack.props[mq.P_WILDCARD_SUB] == 0
        assert ack.props[mq.P_SUB_ID_AVAILABLE] == 0
        assert ack.props[mq.P_SHARED_SUB] == 0


def test_exceeding_receive_maximum(inletd, healthy):
    run = unique("rm")
    with client(inletd) as c:
        for i in range(1, 5):  # QoS 2 without PUBREL: each stays unacknowledged
            c.publish(TOPIC, json.dumps(mq.fleet_event(f"{run}-{i}")), 2, i)
            assert c.expect(mq.PUBREC).reason == 0
        c.publish(TOPIC, json.dumps(mq.fleet_event(f"{run}-5")), 2, 5)
        got = c.expect_closed(5)
        assert [(p.type, p.reason) for p in got] == [(mq.DISCONNECT, 0x93)]
    assert len(events_with_prefix(run)) == 4
    still_serving(healthy)


def test_qos2_flood_with_one_packet_id_is_produced_once(inletd, healthy):
    run = unique("q2")
    with client(inletd) as c:
        body = json.dumps(mq.fleet_event(f"{run}-only"))
        c.publish(TOPIC, body, 2, 77)
        assert c.expect(mq.PUBREC).reason == 0  # Kafka has it; the id stays held until PUBREL
        for _ in range(300):
            c.publish(TOPIC, body, 2, 77, dup=True)
        for _ in range(300):  # 5.0 §4.3.3: PUBREC again for each, never delivered again
            p = c.expect(mq.PUBREC)
            assert (p.packet_id, p.reason) == (77, 0)
        c.send(mq.ack(mq.PUBREL, 77))
        p = c.expect(mq.PUBCOMP)
        assert (p.packet_id, p.reason) == (77, 0)
        c.send(mq.ack(mq.PUBREL, 77))  # released already: 0x92 (5.0 §3.7.2.1)
        assert c.expect(mq.PUBCOMP).reason == 0x92
    assert len(events_with_prefix(run)) == 1
    still_serving(healthy)


def test_qos2_flood_without_pubrel_v311_is_closed(inletd, healthy):
    with client(inletd, version=4) as c:
        for i in range(1, 200):
            try:
                c.publish(TOPIC, json.dumps(mq.fleet_event(unique("v3flood"))), 2, i)
            except OSError:
                break
        got = c.expect_closed(10)
        assert all(p.type == mq.PUBREC for p in got) and len(got) <= 4
    still_serving(healthy)


def test_duplicates_after_reconnect_are_not_produced_twice(inletd, healthy):
    run = unique("dup")
    cid = unique(RUN)
    expiry = [mq.prop(mq.P_SESSION_EXPIRY, 120)]
    # QoS 1 and QoS 2 published, then the connection drops before any acknowledgement is read.
    c = mq.RawClient(inletd.mqtt_port)
    assert c.connect(cid, DEV, TOK, clean=False, props=expiry).reason == 0
    c.send(mq.publish(TOPIC, json.dumps(mq.fleet_event(f"{run}-q1")), 1, 7) +
           mq.publish(TOPIC, json.dumps(mq.fleet_event(f"{run}-q2")), 2, 8))
    c.sock.shutdown(socket.SHUT_RDWR)
    c.close()
    time.sleep(1.0)  # Kafka acknowledges both while no connection can be told
    # The client resumes its session and sends both again with DUP (5.0 §4.4).
    with mq.RawClient(inletd.mqtt_port) as c:
        ack = c.connect(cid, DEV, TOK, clean=False, props=expiry)
        assert ack.reason == 0 and ack.session_present
        c.publish(TOPIC, json.dumps(mq.fleet_event(f"{run}-q1")), 1, 7, dup=True)
        c.publish(TOPIC, json.dumps(mq.fleet_event(f"{run}-q2")), 2, 8, dup=True)
        got = {(p.type, p.packet_id, p.reason) for p in (c.read(), c.read())}
        assert got == {(mq.PUBACK, 7, 0), (mq.PUBREC, 8, 0)}
        c.send(mq.ack(mq.PUBREL, 8))
        assert c.expect(mq.PUBCOMP).reason == 0
    ids = sorted(m["value"]["event_id"] for m in events_with_prefix(run))
    assert ids == [f"{run}-q1", f"{run}-q2"], "a duplicate was produced twice"
    still_serving(healthy)


def test_packets_pipelined_behind_connect(inletd, healthy):
    """CONNECT, PUBLISH and PINGREQ in one write: the session may live on another loop than the
    one that accepted the socket, and what came with the CONNECT must follow it there."""
    run = unique("pipe")
    for i in range(16):
        with mq.RawClient(inletd.mqtt_port) as c:
            c.send(mq.connect(f"{run}-{i}", 5, DEV, TOK) +
                   mq.publish(TOPIC, json.dumps(mq.fleet_event(f"{run}-{i}")), 1, 9) +
                   mq.pingreq())
            assert c.expect(mq.CONNACK).reason == 0
            # PINGRESP at once, PUBACK when Kafka has the message
            got = {(p.type, p.packet_id, p.reason) for p in (c.read(), c.read())}
            assert got == {(mq.PUBACK, 9, 0), (mq.PINGRESP, None, 0)}
    assert len(events_with_prefix(run)) == 16
    still_serving(healthy)


def test_eof_right_behind_the_data_is_noticed(inletd, healthy):
    """Data and FIN in one burst: one edge-triggered event; the close must still be seen at once
    (regression: a short read used to end reading, and the FIN brought no new event)."""
    for version in (5, 4):
        with mq.RawClient(inletd.mqtt_port, version=version) as c:
            c.send(mq.connect(unique(RUN), version, DEV, TOK) +
                   mq.publish(TOPIC, json.dumps(mq.fleet_event(unique("eof"))), 0,
                              version=version))
            c.sock.shutdown(socket.SHUT_WR)
            t0 = time.time()
            got = c.expect_closed(10)
            assert [p.type for p in got] == [mq.CONNACK]
            assert time.time() - t0 < 3, "the server did not notice the client's close"
    still_serving(healthy)


# ---- sessions, client ids, takeover, reconnect storms ------------------------------------------

def test_takeover_sends_0x8e_and_keeps_serving_the_new_connection(inletd, healthy):
    cid = unique(RUN)
    a = client(inletd, client_id=cid)
    b = client(inletd, client_id=cid)
    assert [(p.type, p.reason) for p in a.expect_closed(5)] == [(mq.DISCONNECT, 0x8E)]
    assert b.publish_qos1(TOPIC, json.dumps(mq.fleet_event(unique("to"))), 1).reason == 0
    a.close()
    b.close()
    still_serving(healthy)


def test_session_present_and_assigned_client_id(inletd):
    cid = unique(RUN)
    keep = [mq.prop(mq.P_SESSION_EXPIRY, 60)]
    with mq.RawClient(inletd.mqtt_port) as c:
        ack = c.connect(cid, DEV, TOK, clean=False, props=keep)
        assert (ack.reason, ack.session_present) == (0, False)
        c.send(mq.disconnect())
    with mq.RawClient(inletd.mqtt_port) as c:
        ack = c.connect(cid, DEV, TOK, clean=False, props=keep)
        assert (ack.reason, ack.session_present) == (0, True)
        c.send(mq.disconnect())
    with mq.RawClient(inletd.mqtt_port) as c:
        assert c.connect(cid, DEV, TOK, clean=True).session_present is False
    with mq.RawClient(inletd.mqtt_port) as c:
        ack = c.connect("", DEV, TOK)
        assert ack.reason == 0 and ack.props[mq.P_ASSIGNED_CLIENT_ID].startswith("inlet-")
    with mq.RawClient(inletd.mqtt_port, version=4) as c:  # 3.1.1 §3.1.3.1 [MQTT-3.1.3-8]
        assert c.connect("", DEV, TOK, clean=False).reason == 2


def test_client_id_of_another_device_is_refused(inletd):
    cid = unique(RUN)
    with mq.RawClient(inletd.mqtt_port) as a:
        assert a.connect(cid, DEV, TOK, clean=False,
                         props=[mq.prop(mq.P_SESSION_EXPIRY, 60)]).reason == 0
        with mq.RawClient(inletd.mqtt_port) as b:
            assert b.connect(cid, DEV2, TOK2).reason == 0x85
        a.ping()  # not kicked off


def test_reconnect_storm(inletd, healthy):
    ids = [unique(RUN) for _ in range(8)]
    errors = []

    def storm(k):
        try:
            for i in range(25):
                c = mq.RawClient(inletd.mqtt_port, version=5 if (k + i) % 2 else 4)
                try:
                    ack = c.connect(ids[(k + i) % len(ids)], DEV, TOK)
                    assert ack.reason == 0
                    if i % 3 == 0:
                        c.publish(TOPIC, json.dumps(mq.fleet_event(unique("storm"))), 1, 1)
                    if i % 2:
                        c.send(mq.disconnect(version=c.version))
                except (mq.Closed, OSError, TimeoutError):
                    pass  # taken over by a sibling: expected in a storm
                finally:
                    c.close()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=storm, args=(k,)) for k in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]
    still_serving(healthy)
    deadline = time.time() + 10
    while time.time() < deadline:
        m = mq.metrics(inletd)
        if m["inlet_mqtt_connections"] <= 3:
            break
        time.sleep(0.2)
    assert m["inlet_mqtt_connections"] <= 3, m["inlet_mqtt_connections"]
    assert m['inlet_mqtt_disconnects_total{reason="session_taken_over"}'] >= 1


# ---- CONNECT refusals --------------------------------------------------------------------------

@pytest.mark.parametrize("version,user,password,cid,props,expected", [
    (5, DEV, "wrong", None, (), 0x86),
    (4, DEV, "wrong", None, (), 4),
    (5, None, None, None, (), 0x87),
    (4, None, None, None, (), 5),
    (5, DEV2, TOK, None, (), 0x86),  # user name is not the token's device
    (4, DEV2, TOK, None, (), 4),
    (5, DEV, TOK, "has+plus", (), 0x85),
    (4, DEV, TOK, "has#hash", (), 2),
    (5, DEV, TOK, None, (mq.prop(mq.P_AUTH_METHOD, "SCRAM-SHA-1"),), 0x8C),
    # identities that are not clean UTF-8 (the CVE-2017-7650 class)
    (5, DEV, TOK, b"bad\xff", (), 0x81),
    (4, DEV, TOK, b"bad\xff", (), None),  # malformed: 3.1.1 has no code, just close
    (5, DEV, TOK, b"nul\x00", (), 0x81),
    (5, DEV, TOK, b"ctl\x07", (), 0x85),
    (5, b"truck\x00", TOK, None, (), 0x81),
    (5, "dev+#", TOK, None, (), 0x86),
])
def test_connect_refusals(inletd, healthy, version, user, password, cid, props, expected):
    with mq.RawClient(inletd.mqtt_port, version=version) as c:
        c.send(mq.connect(cid or unique(RUN), version, user, password, props=props))
        got = c.expect_closed(5)
        assert [(p.type, p.reason) for p in got] == ([(mq.CONNACK, expected)]
                                                      if expected is not None else [])
    still_serving(healthy)


def test_mqtt31_gets_unacceptable_protocol_version(inletd):
    with mq.RawClient(inletd.mqtt_port, version=4) as c:
        vh = mq.utf8("MQIsdp") + bytes([3, 0x02]) + struct.pack(">H", 60)
        c.send(mq.packet(mq.CONNECT, 0, vh + mq.utf8("old")))
        assert [(p.type, p.reason) for p in c.expect_closed(5)] == [(mq.CONNACK, 1)]


def test_keep_alive_rules(inletd, healthy):
    # 1.5 x the client's keep alive, then MQTT 5 gets DISCONNECT 0x8D (5.0 §3.1.2.10)
    with client(inletd, keep_alive=2) as c:
        t0 = time.time()
        assert [(p.type, p.reason) for p in c.expect_closed(10)] == [(mq.DISCONNECT, 0x8D)]
        assert 2.5 <= time.time() - t0 < 6
    with client(inletd, version=4, keep_alive=2) as c:
        assert c.expect_closed(10) == []
    # above max_keep_alive (60 s): MQTT 5 is told the maximum, 3.1.1 is refused
    with mq.RawClient(inletd.mqtt_port) as c:
        ack = c.connect(unique(RUN), DEV, TOK, keep_alive=3600)
        assert ack.reason == 0 and ack.props[mq.P_SERVER_KEEP_ALIVE] == 60
    with mq.RawClient(inletd.mqtt_port, version=4) as c:
        assert c.connect(unique(RUN), DEV, TOK, keep_alive=3600).reason == 2
    # pings keep a quiet client alive
    with client(inletd, keep_alive=2) as c:
        for _ in range(4):
            time.sleep(1)
            c.ping()
    still_serving(healthy)


# ---- PUBLISH refusals --------------------------------------------------------------------------

def test_v5_publish_reason_codes(inletd, healthy):
    run = unique("rc")
    cases = [
        (TOPIC, b"{not json", (), 0x99),
        (TOPIC, json.dumps(mq.fleet_event(f"{run}-1", lat=123.4)), (), 0x99),
        (f"devices/{DEV2}/events", json.dumps(mq.fleet_event(f"{run}-2")), (), 0x87),
        (f"devices/{DEV}/no.such.schema/v1", b"{}", (), 0x90),
        ("somewhere/else", b"{}", (), 0x90),
        (TOPIC, b"\xff\xfe", (mq.prop(mq.P_PAYLOAD_FORMAT, 1),), 0x99),
        (TOPIC, json.dumps(mq.fleet_event(f"{run}-3")), (mq.prop(mq.P_CONTENT_TYPE, "text/csv"),),
         0x99),
        (TOPIC, json.dumps(mq.fleet_event(f"{run}-4")),
         (mq.prop(mq.P_USER_PROPERTY, ("inlet-tenant", "evil")),), 0x83),
        (TOPIC, json.dumps({"events": [mq.fleet_event(f"{run}-b{i}") for i in range(4)]}), (),
         0x97),  # max_events is 3
    ]
    with client(inletd) as c:
        for i, (topic, payload, props, reason) in enumerate(cases, 1):
            p = c.publish_qos1(topic, payload, i, props=list(props))
            assert p.reason == reason, (i, p)
            assert mq.P_REASON_STRING in p.props  # problem information is on by default
        # QoS 2 refusals are PUBREC with the reason; the exchange ends there
        c.publish(TOPIC, b"[]", 2, 50)
        assert c.expect(mq.PUBREC).reason == 0x99
        c.ping()
    assert events_with_prefix(run) == []
    still_serving(healthy)


def test_v311_refused_publish_closes_the_connection(inletd, healthy):
    with client(inletd, version=4) as c:
        c.publish(TOPIC, b"{}", 0)  # QoS 0: dropped and counted, the connection stays
        c.ping()
        c.publish(TOPIC, b"{not json", 1, 1)
        assert c.expect_closed(5) == []  # 3.1.1 has no reason code: no PUBACK, close
    assert mq.metrics(inletd)['inlet_mqtt_disconnects_total{reason="publish_refused_v311"}'] >= 1
    still_serving(healthy)


# ---- SUBSCRIBE is refused cleanly --------------------------------------------------------------

def test_subscribe_is_refused_with_failure_codes(inletd, healthy):
    with client(inletd, version=4) as c:
        c.send(mq.subscribe(3, [("a/b", 1), ("c/#", 0)], version=4))
        p = c.expect(mq.SUBACK)
        assert (p.packet_id, p.codes) == (3, b"\x80\x80")
        c.send(mq.unsubscribe(4, ["a/b"], version=4))
        p = c.expect(mq.UNSUBACK)
        assert p.packet_id == 4
        c.publish_qos1(TOPIC, json.dumps(mq.fleet_event(unique("sub"))), 5)
    with client(inletd) as c:
        c.send(mq.subscribe(3, [("a/b", 1), ("$share/g/a/b", 0), ("a/+", 0)]))
        p = c.expect(mq.SUBACK)
        assert (p.packet_id, p.codes) == (3, bytes([0x87, 0x9E, 0xA2]))
        c.send(mq.unsubscribe(4, ["a/b", "c"]))
        p = c.expect(mq.UNSUBACK)
        assert (p.packet_id, p.codes) == (4, b"\x11\x11")
        c.publish_qos1(TOPIC, json.dumps(mq.fleet_event(unique("sub"))), 5)
    still_serving(healthy)


# ---- a client that does not read ---------------------------------------------------------------

def test_client_that_does_not_read_is_disconnected(inletd, healthy):
    c = mq.RawClient(inletd.mqtt_port)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    assert c.connect(unique(RUN), DEV, TOK).reason == 0
    before = mq.metrics(inletd).get('inlet_mqtt_disconnects_total{reason="slow_reader"}', 0)
    try:
        for _ in range(3000):  # 6M PINGREQ, each answered with a PINGRESP nobody reads
            c.send(mq.pingreq() * 2000)
    except OSError:
        pass  # the server closed on us: that is the point
    deadline = time.time() + 20
    while time.time() < deadline:
        if mq.metrics(inletd).get('inlet_mqtt_disconnects_total{reason="slow_reader"}', 0) > before:
            break
        time.sleep(0.2)
    assert mq.metrics(inletd)['inlet_mqtt_disconnects_total{reason="slow_reader"}'] > before
    c.close()
    still_serving(healthy)


# ---- shutdown ----------------------------------------------------------------------------------

def test_shutdown_sends_0x8b_after_answering():
    d = mq.start_inletd(TENANTS, MQTT_EXTRA)
    try:
        c = mq.RawClient(d.mqtt_port)
        assert c.connect(unique(RUN), DEV, TOK).reason == 0
        assert c.publish_qos1(TOPIC, json.dumps(mq.fleet_event(unique("sd"))), 1).reason == 0
        d.proc.send_signal(signal.SIGTERM)
        got = c.expect_closed(20)
        assert [(p.type, p.reason) for p in got] == [(mq.DISCONNECT, 0x8B)]
    finally:
        assert d.stop() == 0, d.logs()
    assert os.path.exists(d.log_path)
