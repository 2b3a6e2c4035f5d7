"""The binary protocol while Kafka is down: DATA frames are answered with 0x88 (unavailable,
retry_after set; "possibly stored" when Kafka had been handed the frame), never 0x00. When Kafka
is back, frames are accepted again, and every frame acknowledged 0x00 is in Kafka. Uses its own
broker, like test_mqtt_kafka_outage.py, so the other tests keep theirs."""
import time

import pytest

import binary_raw as br
from harness import PrivateBroker, curl, find_events, sha256_hex, unique

RUN = unique("binout")
DEV = f"{RUN}-dev"
TOK = unique("tok")
DELIVERY_TIMEOUT = 3


@pytest.fixture(scope="module")
def broker():
    b = PrivateBroker(["fleet.updates.v1:12"], prefix="inlet-binary-outage-kafka-")
    yield b
    b.close()


def send_one(c, seq):
    c.send(br.data(br.REFERENCE, seq=seq, event_id=f"{RUN}-{seq}"))
    t0 = time.time()
    a = c.recv(timeout=DELIVERY_TIMEOUT + 20)
    assert a is not None and a.type == br.ACK and a.seq == seq, a
    return a, time.time() - t0


def test_outage_never_acknowledges_and_recovers(broker):
    tenants = {"demo": f"""devices: [{{id: {DEV}}}]
tokens: [{{sha256: {sha256_hex(TOK)}, device: {DEV}}}]
acl: [{{effect: allow, schemas: ["*"]}}]
"""}
    d = br.start_inletd(tenants, bootstrap=broker.bootstrap,
                        delivery_timeout=f"{DELIVERY_TIMEOUT}s")
    acked = []
    try:
        c = br.Conn(d.binary_port, timeout=30)
        assert c.hello(TOK, keep_alive=600).status == 0
        a, _ = send_one(c, 1)
        assert a.status == 0
        acked.append(f"{RUN}-1")

        broker.stop()
        statuses, flags = [], []
        seq = 2
        deadline = time.time() + 30
        while time.time() < deadline:
            a, waited = send_one(c, seq)
            statuses.append(a.status)
            if a.status == 0:
                acked.append(f"{RUN}-{seq}")  # Kafka took it before it went away
            else:
                assert a.status == 0x88 and a.retry_after == 3, a
                flags.append(a.flags)
            seq += 1
            if curl(d.url + "/readyz")[0] == 503 and sum(s == 0x88 for s in statuses) >= 3:
                break
            time.sleep(0.2 if waited > 1 else 0.5)
        assert statuses[-1] == 0x88 and sum(s == 0x88 for s in statuses) >= 3, statuses
        # refused at submit (Kafka known down): not stored; a delivery that timed out: possibly
        assert flags[-1] == 0, flags
        assert set(flags) <= {0, 1}

        broker.start()
        deadline = time.time() + 60
        while time.time() < deadline and curl(d.url + "/readyz")[0] != 200:
            time.sleep(0.3)
        assert curl(d.url + "/readyz")[0] == 200
        status = None
        deadline = time.time() + 30
        while time.time() < deadline:
            a, _ = send_one(c, seq)
            status = a.status
            if status == 0:
                acked.append(f"{RUN}-{seq}")
                break
            seq += 1
            time.sleep(0.5)
        assert status == 0
        c.close()
        seen = {m["value"]["event_id"] for m in
                find_events("fleet.updates.v1", lambda v: v["event_id"].startswith(RUN),
                            bootstrap=broker.bootstrap)}
        missing = set(acked) - seen
        assert not missing, f"acknowledged but not in Kafka: {sorted(missing)}"
        assert all(m["value"]["source"] == "binary" for m in find_events(
            "fleet.updates.v1", lambda v: v["event_id"].startswith(RUN),
            bootstrap=broker.bootstrap))
    finally:
        assert d.stop() == 0, d.logs()
