"""With Kafka stopped, devices get 503 + Retry-After and never 200; ingestion resumes when Kafka is
back; nothing acknowledged is missing. Uses its own broker so the other tests keep theirs."""
import time

import pytest

from harness import FLEET_EVENT, Inletd, PrivateBroker, curl, find_events, sha256_hex, unique

TOKEN = unique("tok")


@pytest.fixture(scope="module")
def broker():
    b = PrivateBroker(["fleet.updates.v1:12"], prefix="inlet-outage-kafka-")
    yield b
    b.close()


def post(d, eid):
    return curl(d.url + "/ingest", {"events": [dict(FLEET_EVENT, event_id=eid)]}, token=TOKEN,
                timeout=20)


def test_outage_gives_503_never_200_and_recovers(broker):
    tenants = {"demo": f"""devices: [{{id: truck-0042}}]
tokens: [{{sha256: {sha256_hex(TOKEN)}, device: truck-0042}}]
acl: [{{effect: allow, schemas: ["*"]}}]
"""}
    d = Inletd(tenants, bootstrap=broker.bootstrap, delivery_timeout="3s").start()
    try:
        run = unique("out")
        acked = []
        st, _, text = post(d, f"{run}-before")
        assert st == 200, text
        acked.append(f"{run}-before")

        broker.stop()
        statuses = []
        deadline = time.time() + 20
        i = 0
        while time.time() < deadline:
            eid = f"{run}-during-{i}"
            i += 1
            st, hdrs, text = post(d, eid)
            statuses.append(st)
            assert st != 200, f"acknowledged while Kafka is down: {text}"
            assert st == 503, text
            assert int(hdrs["retry-after"]) >= 1
            if curl(d.url + "/readyz")[0] == 503 and len(statuses) >= 3:
                break
        assert curl(d.url + "/readyz")[0] == 503
        assert statuses and set(statuses) == {503}

        broker.start()
        deadline = time.time() + 60
        while time.time() < deadline and curl(d.url + "/readyz")[0] != 200:
            time.sleep(0.3)
        assert curl(d.url + "/readyz")[0] == 200
        st = 0
        deadline = time.time() + 30
        while time.time() < deadline:
            st, _, text = post(d, f"{run}-after")
            if st == 200:
                break
            assert st == 503
            time.sleep(0.5)
        assert st == 200, text
        acked.append(f"{run}-after")

        seen = {m["value"]["event_id"] for m in
                find_events("fleet.updates.v1", lambda v: v["event_id"].startswith(run),
                            bootstrap=broker.bootstrap)}
        assert set(acked) <= seen, "an acknowledged event is missing from Kafka"
    finally:
        assert d.stop() == 0, d.logs()
