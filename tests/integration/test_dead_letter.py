"""Dead-letter topic (docs/DEAD-LETTER.md): a request refused as invalid is still refused (400)
and its original bytes land once in the tenant's dead-letter topic with headers that say why;
the dead-letter rate bounds how many records a broken fleet makes, and the rest are counted."""
import json
import subprocess

import mqtt_raw as mq
from harness import BOOTSTRAP, FLEET_EVENT, Inletd, create_topic, curl, sha256_hex, unique


def read_all(topic):
    """Every record of topic (raw bytes values, headers as a dict), read with kcat."""
    out = subprocess.run(["kcat", "-C", "-b", BOOTSTRAP, "-t", topic, "-o", "beginning", "-e",
                          "-J", "-q"], capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    recs = []
    # kcat writes values as they are: not every one is UTF-8
    for line in out.stdout.decode("utf-8", "surrogateescape").splitlines():
        if line.strip():
            m = json.loads(line)
            h = m.get("headers") or []
            m["headers"] = {h[i]: h[i + 1] for i in range(0, len(h), 2)}
            recs.append(m)
    return recs


def raw_bytes(rec):
    return rec["payload"].encode("utf-8", "surrogateescape")


def wait_records(topic, n, timeout=20):
    import time
    deadline = time.time() + timeout
    recs = []
    while time.time() < deadline:
        recs = read_all(topic)
        if len(recs) >= n:
            return recs
        time.sleep(0.3)
    return recs


def tenant(dev, tok, dlq, rate):
    return f"""devices: [{{id: {dev}}}]
tokens: [{{sha256: {sha256_hex(tok)}, device: {dev}}}]
acl: [{{effect: allow, schemas: ["*"]}}]
shared_topics: true
dead_letter: {{topic: {dlq}, rate: {rate}}}
"""


def test_an_invalid_event_is_refused_and_dead_lettered_with_its_reason():
    name, dev, tok, dlq = unique("dl"), unique("truck"), unique("tok"), unique("dlq.t")
    create_topic(dlq)
    d = Inletd({name: tenant(dev, tok, dlq, 10)}).start()
    try:
        bad = dict(FLEET_EVENT, device_id=dev, event_id=unique("bad"))
        bad["payload"] = dict(bad["payload"], lat=123.4)
        body = json.dumps({"events": [bad]}).encode()
        st, _, text = curl(d.url + "/ingest", body, token=tok)
        assert st == 400, text
        assert json.loads(text)["errors"][0]["pointer"] == "/payload/lat"
        # a bare payload under <ingest_path>/<schema>/<version> names its schema
        raw = b'{"lat": "north"}'
        st, _, text = curl(d.url + "/ingest/fleet.position/v1", raw, token=tok)
        assert st == 400, text
        # a valid event is not dead-lettered
        ok = dict(FLEET_EVENT, device_id=dev, event_id=unique("ok"))
        assert curl(d.url + "/ingest", {"events": [ok]}, token=tok)[0] == 200
        # a body that is not JSON at all
        st, _, _ = curl(d.url + "/ingest", b"\xff\xfenot json", token=tok)
        assert st == 400

        recs = wait_records(dlq, 3)
        assert len(recs) == 3, recs
        first, second, third = recs
        assert raw_bytes(first) == body
        assert first["key"] == dev
        h = first["headers"]
        assert h["inlet-dlq-reason"] == "invalid"
        assert h["inlet-dlq-pointer"] == "/payload/lat"
        assert h["inlet-dlq-index"] == "0" and h["inlet-dlq-errors"] == "1"
        assert "greater than" in h["inlet-dlq-message"] or "maximum" in h["inlet-dlq-message"], h
        assert h["inlet-tenant"] == name and h["inlet-device"] == dev
        assert h["inlet-source"] == "http"
        assert h["inlet-content-type"] == "application/json"
        assert int(h["inlet-received-at"]) > 0
        assert "inlet-schema" not in h  # the batch form names it per event
        assert raw_bytes(second) == raw
        assert second["headers"]["inlet-schema"] == "fleet.position"
        assert second["headers"]["inlet-schema-version"] == "v1"
        assert second["headers"]["inlet-dlq-pointer"] == "/lat"
        assert third["headers"]["inlet-dlq-reason"] == "invalid"
        assert raw_bytes(third) == b"\xff\xfenot json"
        m = mq.metrics(d)
        assert m.get(f'inlet_dead_letter_produced_total{{tenant="{name}"}}') == 3
    finally:
        assert d.stop() == 0, d.logs()


def test_the_dead_letter_rate_bounds_a_broken_fleet_over_mqtt():
    name, dev, tok, dlq = unique("dr"), unique("truck"), unique("tok"), unique("dlq.r")
    create_topic(dlq)
    d = mq.start_inletd({name: tenant(dev, tok, dlq, 2)})
    try:
        with mq.RawClient(d.mqtt_port) as c:
            assert c.connect(unique("cid"), username=dev, password=tok).reason == 0
            for i in range(20):
                ev = mq.fleet_event(unique("bad"))
                ev["payload"]["speed_kmh"] = "fast"
                r = c.publish_qos1(f"devices/{dev}/events", json.dumps(ev).encode(), i + 1)
                assert r.reason == 0x99, r  # payload format invalid: refused as before
        m = mq.metrics(d)
        produced = m.get(f'inlet_dead_letter_produced_total{{tenant="{name}"}}', 0)
        dropped = m.get(f'inlet_dead_letter_dropped_total{{tenant="{name}",reason="rate"}}', 0)
        assert produced + dropped == 20, m
        # burst 2, refill 2/s: the 20 publishes take well under 3 s on loopback
        assert 2 <= produced <= 8, produced
        recs = wait_records(dlq, int(produced))
        assert len(recs) == produced
        assert {r["headers"]["inlet-source"] for r in recs} == {"mqtt"}
        assert all(r["headers"]["inlet-dlq-pointer"] == "/payload/speed_kmh" for r in recs), recs
    finally:
        assert d.stop() == 0, d.logs()
