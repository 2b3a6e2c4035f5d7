"""MQTT while Kafka is down: QoS 1 publishes get no PUBACK (3.1.1: the connection is closed) or,
in MQTT 5, a reason code >= 0x80 once the delivery timeout has passed; never a PUBACK 0. When
Kafka is back, publishing resumes, and everything that was acknowledged is in Kafka. Uses its own
broker, like test_kafka_outage.py, so the other tests keep theirs."""
import json
import time

import pytest

import mqtt_raw as mq
from harness import PrivateBroker, curl, find_events, sha256_hex, unique

RUN = unique("mqout")
DEV = f"{RUN}-dev"
TOK = unique("tok")
TOPIC = f"devices/{DEV}/events"
DELIVERY_TIMEOUT = 3


@pytest.fixture(scope="module")
def broker():
    b = PrivateBroker(["fleet.updates.v1:12"], prefix="inlet-mqtt-outage-kafka-")
    yield b
    b.close()


def body(eid):
    return json.dumps(mq.fleet_event(eid))


def test_outage_never_acknowledges_and_recovers(broker):
    tenants = {"demo": f"""devices: [{{id: {DEV}}}]
tokens: [{{sha256: {sha256_hex(TOK)}, device: {DEV}}}]
acl: [{{effect: allow, schemas: ["*"]}}]
"""}
    d = mq.start_inletd(tenants, "receive_maximum: 64\n", bootstrap=broker.bootstrap,
                        delivery_timeout=f"{DELIVERY_TIMEOUT}s")
    acked = []
    try:
        v5 = mq.RawClient(d.mqtt_port, timeout=30)
        assert v5.connect(f"{RUN}-v5", DEV, TOK, keep_alive=600).reason == 0
        assert v5.publish_qos1(TOPIC, body(f"{RUN}-before"), 1).reason == 0
        acked.append(f"{RUN}-before")

        broker.stop()
        # MQTT 5: every QoS 1 publish gets an answer, and while Kafka is gone never 0x00
        # (an answer 0x00 could only be for a message Kafka took before it went away).
        reasons = []
        pid = 2
        deadline = time.time() + 25
        while time.time() < deadline:
            eid = f"{RUN}-during-{pid}"
            t0 = time.time()
            p = v5.publish_qos1(TOPIC, body(eid), pid)
            waited = time.time() - t0
            reasons.append(p.reason)
            if p.reason == 0:
                acked.append(eid)
            else:
                assert p.reason >= 0x80, p
                assert mq.P_REASON_STRING in p.props
            pid += 1
            if curl(d.url + "/readyz")[0] == 503 and len(reasons) >= 3 and p.reason >= 0x80:
                break
            time.sleep(0.2 if waited > 1 else 0.5)
        assert curl(d.url + "/readyz")[0] == 503
        assert reasons[-1] >= 0x80 and sum(r >= 0x80 for r in reasons) >= 2, reasons

        # A publish Kafka cannot take is answered after the delivery timeout at the latest.
        t0 = time.time()
        p = v5.publish_qos1(TOPIC, body(f"{RUN}-late"), pid)
        assert p.reason == 0x80 and time.time() - t0 < DELIVERY_TIMEOUT + 10, p

        # MQTT 3.1.1 has no reason code: no PUBACK, the connection is closed.
        v3 = mq.RawClient(d.mqtt_port, version=4, timeout=30)
        assert v3.connect(f"{RUN}-v3", DEV, TOK, keep_alive=600).reason == 0
        v3.publish(TOPIC, body(f"{RUN}-v3-during"), 1, 1)
        got = v3.expect_closed(DELIVERY_TIMEOUT + 15)
        assert all(x.type != mq.PUBACK for x in got), got
        v3.close()

        broker.start()
        deadline = time.time() + 60
        while time.time() < deadline and curl(d.url + "/readyz")[0] != 200:
            time.sleep(0.3)
        assert curl(d.url + "/readyz")[0] == 200
        # The device retries until it is acknowledged (what a real device does after 0x80).
        deadline = time.time() + 30
        reason = None
        while time.time() < deadline:
            pid += 1
            reason = v5.publish_qos1(TOPIC, body(f"{RUN}-after"), pid).reason
            if reason == 0:
                break
            time.sleep(0.5)
        assert reason == 0
        acked.append(f"{RUN}-after")
        v5.close()

        seen = {m["value"]["event_id"] for m in
                find_events("fleet.updates.v1", lambda v: v["event_id"].startswith(RUN),
                            bootstrap=broker.bootstrap)}
        missing = set(acked) - seen
        assert not missing, f"acknowledged but not in Kafka: {sorted(missing)}"
    finally:
        assert d.stop() == 0, d.logs()
