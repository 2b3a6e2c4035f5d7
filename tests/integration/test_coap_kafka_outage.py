"""CoAP while Kafka is slow, frozen or down, on a broker of its own (like test_kafka_outage.py)
so that the other tests keep theirs. A raw UDP client sees every message:

- slow Kafka (linger 1s > ack_timeout 100ms): an empty ACK first, then the 2.04 as a separate
  CON, which the client ACKs (and libcoap then stops retransmitting it); a retransmission of
  the request gets the empty ACK again; the event is in Kafka once;
- Kafka frozen (SIGSTOP): the request is accepted, gets its empty ACK, and when the delivery
  times out a separate 5.03 with Max-Age = retry_after, never 2.04;
- Kafka stopped: 5.03 with Max-Age (piggybacked once the core knows), never 2.04; once Kafka is
  back the device's retry gets 2.04 and its event is in Kafka exactly once."""
import json
import os
import signal
import time

import pytest

import coap_raw as cr
from harness import PrivateBroker, curl, find_events, sha256_hex, unique

RUN = unique("coapout")
DEV = f"{RUN}-dev"
TOK = unique("tok")
DELIVERY_TIMEOUT = 3
RETRY_AFTER = 3  # harness.Inletd: retry_after: 3s
TENANTS = {"demo": f"""devices: [{{id: {DEV}}}]
tokens: [{{sha256: {sha256_hex(TOK)}, device: {DEV}}}]
acl: [{{effect: allow, schemas: ["*"]}}]
"""}


@pytest.fixture(scope="module")
def broker():
    b = PrivateBroker(["fleet.updates.v1:12"], prefix="inlet-coap-outage-kafka-")
    yield b
    b.close()


def broker_pid(b):
    with open(os.path.join(b.dir, "kafka.pid")) as f:
        return int(f.read().strip())


def event(eid):
    return json.dumps({"events": [{"ts": "2026-11-21T10:15:30.123Z", "use_case": "fleet.position",
                                   "schema": "v1", "event_id": eid,
                                   "payload": {"lat": 52.52, "lon": 13.405, "speed_kmh": 61.2,
                                               "heading_deg": 270, "status": "delivering"}}]}
                      ).encode()


class Device:
    def __init__(self, d):
        self.u = cr.Udp(d.coap_port, timeout=0.5)
        self.mid = int.from_bytes(os.urandom(2), "big") & 0x7FFF
        self.opts = cr.path_opts("/ingest", f"t={TOK}", 50)

    def post(self, eid, wait=30.0):
        self.mid = (self.mid + 1) & 0xFFFF
        token = os.urandom(4)
        final, seen = cr.con_post(self.u, self.mid, token, self.opts, event(eid), wait)
        return final, seen, self.mid, token

    def close(self):
        self.u.close()


def in_kafka(b, eid):
    return [m for m in find_events("fleet.updates.v1", lambda v: v["event_id"] == eid,
                                   bootstrap=b.bootstrap)]


def test_slow_kafka_separate_response(broker):
    d = cr.start_inletd(TENANTS, "ack_timeout: 100ms\n", bootstrap=broker.bootstrap,
                        linger="1s")
    try:
        dev = Device(d)
        eid = f"{RUN}-slow"
        final, seen, mid, token = dev.post(eid)
        assert final is not None, seen
        # first the empty ACK for the request's Message ID, then the separate CON 2.04
        assert (seen[0][0], seen[0][1], seen[0][2], seen[0][3]) == (2, "0.00", mid, b""), seen
        assert final[0] == 0 and final[1] == "2.04" and final[3] == token, seen
        assert final[2] != mid  # a separate response is a new message
        # the request retransmitted after its separate answer: the empty ACK again
        dev.u.send(cr.message(0, 2, mid, token, dev.opts, event(eid)))
        r = dev.u.recv()
        assert r is not None and cr.parse(r)[:3] == (2, "0.00", mid), r
        # the separate response was ACKed: libcoap does not retransmit it (ACK_TIMEOUT 2-3 s)
        t_end = time.time() + 3.5
        while time.time() < t_end:
            r = dev.u.recv()
            assert r is None, ("retransmitted after the ACK", cr.parse(r))
        dev.close()
        assert len(in_kafka(broker, eid)) == 1
    finally:
        assert d.stop() == 0, d.logs()


def test_outage_never_204_and_recovers(broker):
    d = cr.start_inletd(TENANTS, bootstrap=broker.bootstrap,
                        delivery_timeout=f"{DELIVERY_TIMEOUT}s")
    dev = Device(d)
    try:
        final, seen, _, _ = dev.post(f"{RUN}-before")
        assert final is not None and final[1] == "2.04", seen

        # Kafka frozen: the core still takes the request; the delivery fails after
        # delivery_timeout and the device, which had its empty ACK, gets a separate 5.03.
        pid = broker_pid(broker)
        os.kill(pid, signal.SIGSTOP)
        try:
            t0 = time.time()
            final, seen, mid, token = dev.post(f"{RUN}-frozen", wait=DELIVERY_TIMEOUT + 15)
            waited = time.time() - t0
        finally:
            os.kill(pid, signal.SIGCONT)
        assert final is not None, seen
        assert final[1] == "5.03" and cr.max_age(final) == RETRY_AFTER, seen
        assert all(p[1] != "2.04" for p in seen), seen
        # the delivery failure: the empty ACK at ack_timeout, then the 5.03 as a separate CON
        assert final[0] == 0 and final[3] == token, seen
        assert seen[0][:4] == (2, "0.00", mid, b""), seen
        assert waited >= DELIVERY_TIMEOUT - 0.5, waited

        # Kafka stopped: never 2.04, 5.03 with Max-Age, until readiness is 503 as well
        broker.stop()
        codes = []
        deadline = time.time() + 30
        n = 0
        while time.time() < deadline:
            n += 1
            final, seen, _, _ = dev.post(f"{RUN}-during-{n}", wait=DELIVERY_TIMEOUT + 15)
            assert final is not None, seen
            assert final[1] == "5.03", seen
            assert cr.max_age(final) == RETRY_AFTER, final
            codes.append((final[0], final[1]))
            if curl(d.url + "/readyz")[0] == 503 and final[0] == 2 and len(codes) >= 2:
                break
            time.sleep(0.2)
        assert curl(d.url + "/readyz")[0] == 503
        assert codes[-1] == (2, "5.03"), codes  # refused at once: piggybacked

        broker.start()
        deadline = time.time() + 60
        while time.time() < deadline and curl(d.url + "/readyz")[0] != 200:
            time.sleep(0.3)
        assert curl(d.url + "/readyz")[0] == 200
        # the device retries after Max-Age until it gets 2.04, as a device should
        eid = f"{RUN}-after"
        deadline = time.time() + 30
        code = None
        while time.time() < deadline:
            final, seen, _, _ = dev.post(eid)
            code = final and final[1]
            if code == "2.04":
                break
            assert code == "5.03", seen
            time.sleep(0.5)
        assert code == "2.04"
        assert len(in_kafka(broker, eid)) == 1
        assert len(in_kafka(broker, f"{RUN}-before")) == 1
    finally:
        dev.close()
        assert d.stop() == 0, d.logs()
