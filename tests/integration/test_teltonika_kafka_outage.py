"""Teltonika while Kafka is down: a packet is answered 0 records (never its count), the tracker
keeps it and sends it again, and once Kafka is back the resent packet is acknowledged and its
records are in Kafka, with the same event ids. Uses its own broker, like
test_mqtt_kafka_outage.py, so the other tests keep theirs."""
import time

import pytest

import teltonika_raw as tr
from harness import PrivateBroker, curl, find_events, unique

RUN = unique("tltout")
DEV = f"{RUN}-dev"
IMEI = "35" + str(int(time.time() * 1000))[-13:]
DELIVERY_TIMEOUT = 3


@pytest.fixture(scope="module")
def broker():
    b = PrivateBroker(["teltonika.avl.v1:12"], prefix="inlet-tlt-outage-kafka-")
    yield b
    b.close()


def pk(ts):
    return tr.packet(0x08, [tr.record8(ts, priority=1, lon=13.405, lat=52.52, sats=7, speed=50,
                                       io={239: (1, 1)}), tr.record8(ts + 1000)])


def test_outage_answers_0_and_the_resent_packet_is_produced(broker):
    tenants = {"demo": f'devices: [{{id: {DEV}, imei: "{IMEI}"}}]\n'
                       'acl: [{effect: allow, schemas: ["*"]}]\n'}
    d = tr.start_inletd(tenants, bootstrap=broker.bootstrap,
                        delivery_timeout=f"{DELIVERY_TIMEOUT}s")
    try:
        t = tr.Tracker(d.tlt_port, timeout=30)
        assert t.hello(IMEI) == 1
        assert t.send_packet(pk(1764100000000)) == 2

        broker.stop()
        # While Kafka is gone a packet is never acknowledged with its count.
        answers = []
        deadline = time.time() + 25
        while time.time() < deadline:
            answers.append(t.send_packet(pk(1764100100000)))
            if answers[-1] == 0 and curl(d.url + "/readyz")[0] == 503 and len(answers) >= 2:
                break
            time.sleep(0.5)
        assert answers[-1] == 0, answers
        assert all(a in (0, 2) for a in answers), answers
        t0 = time.time()
        assert t.send_packet(pk(1764100100000)) == 0
        assert time.time() - t0 < DELIVERY_TIMEOUT + 10

        broker.start()
        deadline = time.time() + 60
        while time.time() < deadline and curl(d.url + "/readyz")[0] != 200:
            time.sleep(0.3)
        # the tracker resends what was answered 0 until it is acknowledged
        deadline = time.time() + 30
        ack = None
        while time.time() < deadline:
            ack = t.send_packet(pk(1764100100000))
            if ack == 2:
                break
            time.sleep(0.5)
        assert ack == 2
        t.close()

        msgs = find_events("teltonika.avl.v1", lambda v: v["event_id"].startswith(IMEI + "-"),
                           bootstrap=broker.bootstrap)
        stamps = {m["value"]["ts"] for m in msgs}
        assert {"2025-11-25T19:46:40.000Z", "2025-11-25T19:46:41.000Z"} <= stamps, stamps
        resent = [m for m in msgs if m["value"]["ts"].startswith("2025-11-25T19:48:20")]
        assert resent, stamps  # the resent packet's first record, produced once Kafka was back
        assert len({m["value"]["event_id"] for m in resent}) == 1
        assert all(m["key"] == DEV and m["value"]["source"] == "teltonika" for m in msgs)
    finally:
        assert d.stop() == 0, d.logs()
