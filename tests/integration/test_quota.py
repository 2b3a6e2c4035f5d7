"""Rate limits and connection quotas from the tenant files (docs/SECURITY.md), with real clients:
curl gets 429 with Retry-After and the quota-exceeded problem, mosquitto_pub gets CONNACK 0x97
(MQTT 5) or 0x03 (3.1.1), a raw MQTT client gets PUBACK 0x97; the refused events are not in
Kafka, the allowed ones are; a SIGHUP that raises a limit takes effect at once; refusals are
counted per tenant."""
import json
import os
import signal
import subprocess
import time

import mqtt_raw as mq
from harness import FLEET_EVENT, Inletd, consume, curl, sha256_hex, unique, wait_for

TOPIC = "fleet.updates.v1"


def batch(ids, device):
    return {"events": [dict(FLEET_EVENT, event_id=i, device_id=device) for i in ids]}


def tenant_yaml(name, token, device, limits):
    return f"""devices: [{{id: {device}}}]
tokens: [{{sha256: {sha256_hex(token)}, device: {device}}}]
acl: [{{effect: allow, schemas: ["*"]}}]
shared_topics: true
{limits}
"""


def in_kafka(ids):
    want = set(ids)
    return {m["value"]["event_id"] for m in consume(TOPIC) if m["value"]
            and m["value"].get("event_id") in want}


def refusals(d):
    return mq.metrics(d)


def test_http_rate_limit_429_retry_after_and_a_reload_that_raises_it():
    tenant, tok, dev = unique("qh"), unique("tok"), unique("truck")
    d = Inletd({tenant: tenant_yaml(tenant, tok, dev,
                                    "device_limits: {events_per_second: 1, burst: 3}")}).start()
    try:
        allowed = [unique("ok") for _ in range(3)]
        st, _, body = curl(d.url + "/ingest", batch(allowed, dev), token=tok)
        assert st == 200, body
        refused = [unique("no"), unique("no")]
        st, hdrs, body = curl(d.url + "/ingest", batch(refused[:1], dev), token=tok)
        assert st == 429, body
        assert hdrs.get("retry-after") == "1", hdrs
        problem = json.loads(body)
        assert problem["type"] == "urn:inlet:problem:quota-exceeded", problem
        assert "device may send 1 events per second" in problem["detail"], problem
        assert hdrs["content-type"].startswith("application/problem+json")
        # more than the burst can never pass: 413, no Retry-After
        st, hdrs, body = curl(d.url + "/ingest", batch([unique("big") for _ in range(4)], dev),
                              token=tok)
        assert st == 413 and "retry-after" not in hdrs, (st, hdrs, body)
        # after the refill time the device may send again
        time.sleep(1.2)
        later = unique("later")
        st, _, body = curl(d.url + "/ingest", batch([later], dev), token=tok)
        assert st == 200, body
        allowed.append(later)
        st, _, _ = curl(d.url + "/ingest", batch(refused[1:], dev), token=tok)
        assert st == 429

        m = refusals(d)
        key = f'inlet_quota_refusals_total{{tenant="{tenant}",limit="events",scope="device"}}'
        # the two 429s and the batch larger than the burst
        assert m.get(key) == 3, {k: v for k, v in m.items() if "quota" in k}
        assert m.get('inlet_requests_rejected_total{reason="quota_exceeded"}') == 2

        # SIGHUP with a higher limit: a batch of 50 passes at once
        path = os.path.join(d.dir, "conf.d", f"tenant-{tenant}.yaml")
        with open(path, "w") as f:
            f.write(f"tenant: {tenant}\n" + tenant_yaml(
                tenant, tok, dev, "device_limits: {events_per_second: 100, burst: 100}"))
        d.proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: "reloaded" in d.logs()), d.logs()
        more = [unique("more") for _ in range(50)]
        st, _, body = curl(d.url + "/ingest", batch(more, dev), token=tok)
        assert st == 200, body
        allowed += more

        got = in_kafka(allowed + refused)
        assert got == set(allowed), (len(got), len(allowed))
    finally:
        assert d.stop() == 0, d.logs()


def test_http_tenant_bytes_limit_counts_every_device_of_the_tenant():
    tenant, dev_a, dev_b = unique("qb"), unique("a"), unique("b")
    tok_a, tok_b = unique("tok"), unique("tok")
    body_len = len(json.dumps(batch([unique("x")], dev_a)))
    text = f"""devices: [{{id: {dev_a}}}, {{id: {dev_b}}}]
tokens: [{{sha256: {sha256_hex(tok_a)}, device: {dev_a}}}, {{sha256: {sha256_hex(tok_b)}, device: {dev_b}}}]
acl: [{{effect: allow, schemas: ["*"]}}]
shared_topics: true
limits: {{bytes_per_second: 1, bytes_burst: {body_len * 2 + 10}}}
"""
    d = Inletd({tenant: text}).start()
    try:
        a, b, c = unique("x"), unique("x"), unique("x")
        assert curl(d.url + "/ingest", batch([a], dev_a), token=tok_a)[0] == 200
        assert curl(d.url + "/ingest", batch([b], dev_b), token=tok_b)[0] == 200
        st, hdrs, body = curl(d.url + "/ingest", batch([c], dev_a), token=tok_a)
        assert st == 429, body
        assert "tenant may send 1 bytes per second" in json.loads(body)["detail"]
        assert int(hdrs["retry-after"]) >= 2  # about body_len seconds of refill
        m = refusals(d)
        assert m.get(f'inlet_quota_refusals_total{{tenant="{tenant}",limit="bytes",'
                     f'scope="tenant"}}') == 1
        assert in_kafka([a, b, c]) == {a, b}
    finally:
        assert d.stop() == 0, d.logs()


def mosquitto_pub(port, version, device, token, message, qos=1, timeout=15):
    args = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-V", version, "-q", str(qos),
            "-i", unique("cid"), "-u", device, "-P", token, "-t", f"devices/{device}/events",
            "-m", message, "-d"]
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


def test_mqtt_connection_quota_0x97_and_publish_rate_0x97():
    tenant, tok, dev = unique("qm"), unique("tok"), unique("truck")
    d = mq.start_inletd({tenant: tenant_yaml(
        tenant, tok, dev, "device_limits: {events_per_second: 1, burst: 2, connections: 1}")})
    try:
        with mq.RawClient(d.mqtt_port) as c:
            assert c.connect(unique("cid"), username=dev, password=tok).reason == 0
            # a second connection of the same device (another client id): refused
            out = mosquitto_pub(d.mqtt_port, "mqttv5", dev, tok, "{}")
            assert out.returncode != 0, out
            assert "CONNACK (151)" in out.stdout + out.stderr, out
            out = mosquitto_pub(d.mqtt_port, "mqttv311", dev, tok, "{}")
            assert out.returncode != 0, out
            assert "CONNACK (3)" in out.stdout + out.stderr, out

            topic = f"devices/{dev}/events"
            ok = [unique("mok"), unique("mok")]
            for i, eid in enumerate(ok):
                r = c.publish_qos1(topic, json.dumps(mq.fleet_event(eid)).encode(), i + 1)
                assert r.reason == 0, r
            no = unique("mno")
            r = c.publish_qos1(topic, json.dumps(mq.fleet_event(no)).encode(), 3)
            assert r.reason == 0x97, r
        # the connection closed: its place is free again
        def admitted():
            out = mosquitto_pub(d.mqtt_port, "mqttv5", dev, tok, "{}", qos=0)
            return "CONNACK (0)" in out.stdout + out.stderr
        assert wait_for(admitted), d.logs()
        m = refusals(d)
        assert m.get(f'inlet_quota_refusals_total{{tenant="{tenant}",limit="connections",'
                     f'scope="device"}}') == 2
        assert m.get(f'inlet_quota_refusals_total{{tenant="{tenant}",limit="events",'
                     f'scope="device"}}') >= 1
        assert in_kafka(ok + [no]) == set(ok)
    finally:
        assert d.stop() == 0, d.logs()


def test_coap_rate_limit_4_29_with_max_age():
    import coap_raw as cr
    tenant, tok, dev = unique("qc"), unique("tok"), unique("truck")
    d = cr.start_inletd({tenant: tenant_yaml(
        tenant, tok, dev, "device_limits: {events_per_second: 1, burst: 2}")})
    try:
        uri = f"coap://127.0.0.1:{d.coap_port}/ingest?t={tok}"
        ids = [unique("cok"), unique("cok"), unique("cno")]
        codes = []
        for eid in ids:
            body = json.dumps(batch([eid], dev))
            codes.append(cr.client(uri, body))  # libcoap's coap-client
        assert [c for c, _ in codes] == ["2.04", "2.04", "4.29"], codes
        # Max-Age (option 14) says when to try again: the bucket's refill, 1 s (RFC 8516 §4)
        u = cr.Udp(d.coap_port)
        try:
            no = unique("cno")
            final, _ = cr.con_post(u, 0x4242, b"\x42", cr.path_opts("/ingest", f"t={tok}", 50),
                                   json.dumps(batch([no], dev)).encode())
        finally:
            u.close()
        assert final is not None and final[1] == "4.29" and cr.max_age(final) == 1, final
        ids.append(no)
        assert in_kafka(ids) == set(ids[:2])
        m = refusals(d)
        assert m.get(f'inlet_quota_refusals_total{{tenant="{tenant}",limit="events",'
                     f'scope="device"}}') >= 1
    finally:
        assert d.stop() == 0, d.logs()


def test_binary_connection_quota_welcome_0x97_and_data_0x97():
    import binary_raw as br
    tenant, tok, dev = unique("qbin"), unique("tok"), unique("truck")
    d = br.start_inletd({tenant: tenant_yaml(
        tenant, tok, dev, "device_limits: {events_per_second: 1, burst: 1, connections: 1}")})
    try:
        first = br.Conn(d.binary_port)
        try:
            assert first.hello(tok).status == 0
            second = br.Conn(d.binary_port)
            w = second.hello(tok)
            assert (w.type, w.status) == (br.WELCOME, 0x97), w
            assert w.retry_after == 3  # the configured retry_after: connections have no refill
            assert b"connection quota" in w.reason
            assert second.expect_closed() == []
            second.close()
            ok, no = unique("bok"), unique("bno")
            first.send(br.data(br.REFERENCE, seq=1, event_id=ok))
            a = first.recv()
            assert (a.type, a.seq, a.status) == (br.ACK, 1, 0), a
            first.send(br.data(br.REFERENCE, seq=2, event_id=no))
            a = first.recv()
            assert (a.type, a.seq, a.status, a.retry_after) == (br.ACK, 2, 0x97, 1), a
        finally:
            first.close()
        # the first connection's place is free once it closed
        def admitted():
            c = br.Conn(d.binary_port)
            try:
                return c.hello(tok).status == 0
            finally:
                c.close()
        assert wait_for(admitted), d.logs()
        assert in_kafka([ok, no]) == {ok}
    finally:
        assert d.stop() == 0, d.logs()
