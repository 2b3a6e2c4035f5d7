"""Credentials stay checked while a long-lived MQTT connection uses them: it ends when its JWT
expires or its client certificate's notAfter passes (MQTT 5: DISCONNECT 0xA0 Maximum connect
time; 3.1.1: the socket is closed), and a reload that removes the JWT key or the CA ends it at its
next PUBLISH (MQTT 5: DISCONNECT 0x87 Not authorized). Real inletd, real Kafka."""
import json
import os
import signal
import tempfile
import time

import pytest

import mqtt_raw as mq
from harness import free_port, hs256, make_ca, make_cert, short_lived_cert, unique

DEV = "truck-0042"
TOPIC = f"devices/{DEV}/events"
ISS = "https://auth.cred.example"


@pytest.fixture(scope="module")
def pki():
    d = tempfile.mkdtemp(prefix="inlet-cred-pki-")
    make_ca(d, "server-ca")
    make_ca(d, "demo-ca")
    make_cert(d, "server-ca", "server", "localhost", server=True)
    make_cert(d, "demo-ca", "device", DEV)
    with open(os.path.join(d, "hs.key"), "wb") as f:
        f.write(os.urandom(32))
    with open(os.path.join(d, "hs.key"), "rb") as f:
        d_secret = f.read()
    return d, d_secret


def tenant(pki_dir, jwt=True, mtls=True):
    t = f"devices: [{{id: {DEV}}}]\nacl: [{{effect: allow, schemas: [\"*\"]}}]\n"
    if jwt:
        t += (f"jwt:\n  - kid: k1\n    alg: HS256\n    secret_file: {pki_dir}/hs.key\n"
              f"    issuer: {ISS}\n    clock_skew: 0s\n")
    if mtls:
        t += f"mtls:\n  ca_file: {pki_dir}/demo-ca.pem\n"
    return t


@pytest.fixture
def inletd(pki):
    d_pki, _ = pki
    plain, mtls = free_port(), free_port()
    listeners = (f"  - address: 127.0.0.1:{plain}\n  - address: 127.0.0.1:{mtls}\n"
                 f"    tls: {{cert: {d_pki}/server.pem, key: {d_pki}/server.key, "
                 f"client_auth: require}}\n")
    d = mq.start_inletd({"demo": tenant(d_pki)}, listeners=listeners)
    d.mqtt_port, d.mtls = plain, mtls
    yield d
    assert d.stop() == 0, d.logs()


def token(secret, ttl):
    now = int(time.time())
    return hs256(secret, {"iss": ISS, "sub": DEV, "iat": now, "exp": now + ttl})


def reload(d, body, before):
    with open(os.path.join(d.dir, "conf.d", "tenant-demo.yaml"), "w") as f:
        f.write("tenant: demo\n" + body)
    d.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while time.time() < deadline and d.logs().count("reloaded 1 tenants") <= before:
        time.sleep(0.1)
    assert d.logs().count("reloaded 1 tenants") > before, d.logs()


def event():
    return json.dumps(mq.fleet_event(unique("cred"))).encode()


def test_jwt_expiry_ends_mqtt5_connection_with_0xa0(inletd, pki):
    _, secret = pki
    c = mq.RawClient(inletd.mqtt_port, timeout=15)
    assert c.connect(unique("c"), password=token(secret, 3), keep_alive=600).reason == 0
    assert c.publish_qos1(TOPIC, event(), 1).reason == 0
    start = time.time()
    got = c.expect_closed(timeout=10)
    assert [p.type for p in got] == [mq.DISCONNECT], got
    assert got[0].reason == 0xA0, got  # Maximum connect time
    assert time.time() - start < 6
    c.close()


def test_jwt_expiry_closes_mqtt311_connection(inletd, pki):
    _, secret = pki
    c = mq.RawClient(inletd.mqtt_port, version=4, timeout=15)
    assert c.connect(unique("c"), username=DEV, password=token(secret, 3),
                     keep_alive=600).reason == 0
    start = time.time()
    assert c.expect_closed(timeout=10) == []  # 3.1.1 servers send no DISCONNECT
    assert time.time() - start < 6
    c.close()


def test_certificate_expiry_ends_connection(inletd, pki):
    d_pki, _ = pki
    cert, key = short_lived_cert(d_pki, "demo-ca", DEV, "brief", 4)
    ctx = mq.tls_context(f"{d_pki}/server-ca.pem", cert, key)
    c = mq.RawClient(inletd.mtls, timeout=15, tls_context=ctx)
    assert c.connect(unique("c"), keep_alive=600).reason == 0
    got = c.expect_closed(timeout=10)
    assert [(p.type, p.reason) for p in got] == [(mq.DISCONNECT, 0xA0)], got
    c.close()


def test_reload_removing_the_jwt_key_ends_the_connection(inletd, pki):
    d_pki, secret = pki
    c = mq.RawClient(inletd.mqtt_port, timeout=15)
    assert c.connect(unique("c"), password=token(secret, 600), keep_alive=600).reason == 0
    assert c.publish_qos1(TOPIC, event(), 1).reason == 0
    reload(inletd, tenant(d_pki, jwt=False), inletd.logs().count("reloaded 1 tenants"))
    c.publish(TOPIC, event(), qos=1, packet_id=2)
    got = c.expect_closed(timeout=10)
    assert [(p.type, p.reason) for p in got] == [(mq.DISCONNECT, 0x87)], got
    c.close()


def test_reload_removing_the_ca_ends_the_connection(inletd, pki):
    d_pki, _ = pki
    ctx = mq.tls_context(f"{d_pki}/server-ca.pem", f"{d_pki}/device.pem", f"{d_pki}/device.key")
    c = mq.RawClient(inletd.mtls, timeout=15, tls_context=ctx)
    assert c.connect(unique("c"), keep_alive=600).reason == 0
    assert c.publish_qos1(TOPIC, event(), 1).reason == 0
    # an unrelated reload keeps it: the chain verifies again under the same CA
    reload(inletd, tenant(d_pki) + "# touched\n", inletd.logs().count("reloaded 1 tenants"))
    assert c.publish_qos1(TOPIC, event(), 2).reason == 0
    reload(inletd, tenant(d_pki, mtls=False), inletd.logs().count("reloaded 1 tenants"))
    c.publish(TOPIC, event(), qos=1, packet_id=3)
    got = c.expect_closed(timeout=10)
    assert [(p.type, p.reason) for p in got] == [(mq.DISCONNECT, 0x87)], got
    c.close()
