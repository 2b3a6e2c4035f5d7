"""POST /ingest end to end: real curl -> real inletd -> real Kafka, read back with kcat."""
import json
import re
import subprocess

import pytest

from harness import (FLEET_EVENT, INLETD, SOURCE, Inletd, consume, curl, find_events,
                     java_partition, sha256_hex, unique)

TOKENS = {name: unique("tok") for name in ("truck", "trailer", "acme", "other", "nogroup")}


def tenants():
    return {
        "demo": f"""devices:
  - id: truck-0042
    groups: [trucks]
  - id: trailer-9
    groups: [trailers]
  - id: loner-1
tokens:
  - sha256: {sha256_hex(TOKENS['truck'])}
    device: truck-0042
  - sha256: {sha256_hex(TOKENS['trailer'])}
    device: trailer-9
  - sha256: {sha256_hex(TOKENS['nogroup'])}
    device: loner-1
acl:
  - effect: allow
    groups: [trucks]
    schemas: ["fleet.position@v1", "driver.panic@*"]
  - effect: allow
    groups: [trailers]
    schemas: ["coldchain.temp@v1"]
""",
        "acme": f"""topic_prefix: "acme."
devices:
  - id: acme-sensor-1
tokens:
  - sha256: {sha256_hex(TOKENS['acme'])}
    device: acme-sensor-1
acl:
  - effect: allow
    schemas: ["*"]
""",
    }


@pytest.fixture(scope="module")
def inletd():
    d = Inletd(tenants()).start()
    yield d
    rc = d.stop()
    assert rc == 0, d.logs()


def fleet_event(event_id=None, **payload):
    ev = json.loads(json.dumps(FLEET_EVENT))
    ev["payload"].update(payload)
    if event_id:
        ev["event_id"] = event_id
    return ev


def test_reference_fleet_body_lands_with_exact_envelope(inletd):
    body = {"events": [FLEET_EVENT]}
    st, hdrs, text = curl(inletd.url + "/ingest", body, token=TOKENS["truck"])
    assert st == 200, text
    res = json.loads(text)
    assert res["accepted"] == 1
    r = res["results"][0]
    assert r["topic"] == "fleet.updates.v1"
    event_id = r["event_id"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                        event_id)

    msgs = find_events("fleet.updates.v1", lambda v: v["event_id"] == event_id)
    assert len(msgs) == 1
    m = msgs[0]
    assert m["key"] == "truck-0042"
    assert m["partition"] == java_partition("truck-0042", 12) == r["partition"]
    assert m["offset"] == r["offset"]
    assert m["headers"] == {
        "inlet-tenant": "demo",
        "inlet-schema": "fleet.position",
        "inlet-schema-version": "v1",
        "inlet-source": "http",
        "content-type": "application/json",
        "inlet-content-type": "application/json",
        "inlet-event-id": event_id,
    }
    v = m["value"]
    assert list(v.keys()) == ["tenant", "device_id", "event_id", "ts", "received_at", "schema",
                              "schema_version", "source", "payload"]
    assert v["tenant"] == "demo"
    assert v["device_id"] == "truck-0042"
    assert v["ts"] == "2026-11-21T10:15:30.123Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", v["received_at"])
    assert v["schema"] == "fleet.position" and v["schema_version"] == "v1"
    assert v["source"] == "http"
    assert v["payload"] == FLEET_EVENT["payload"]
    # Numbers keep the text the device sent (no 52.520000000000003).
    assert '"lat":52.52,"lon":13.405,"speed_kmh":61.2' in m["payload"]


def test_heading_may_be_absent_and_ts_is_normalized_to_utc(inletd):
    eid = unique("ev")
    ev = fleet_event(eid)
    del ev["payload"]["heading_deg"]
    ev["ts"] = "2026-11-21T12:15:30.5+02:00"
    st, _, text = curl(inletd.url + "/ingest", {"events": [ev]}, token=TOKENS["truck"])
    assert st == 200, text
    [m] = find_events("fleet.updates.v1", lambda v: v["event_id"] == eid)
    assert m["value"]["ts"] == "2026-11-21T10:15:30.500Z"
    assert "heading_deg" not in m["value"]["payload"]


def test_all_three_schemas_reach_their_topics(inletd):
    ids = {k: unique(k) for k in ("fleet", "cold", "panic")}
    cases = [
        (TOKENS["truck"], {"device_id": "truck-0042", "use_case": "fleet.position", "schema": "v1",
                           "event_id": ids["fleet"],
                           "payload": {"lat": 1, "lon": 2, "speed_kmh": 0, "status": "idle"}},
         "fleet.updates.v1"),
        (TOKENS["trailer"], {"use_case": "coldchain.temp", "schema": "v1", "event_id": ids["cold"],
                             "payload": {"temp_c": -18.5, "door_open": False}},
         "coldchain.temp.v1"),
        (TOKENS["truck"], {"use_case": "driver.panic", "schema": "v1", "event_id": ids["panic"],
                           "payload": {"lat": 52.5, "lon": 13.4, "reason": "panic_button"}},
         "driver.panic.v1"),
    ]
    for token, ev, topic in cases:
        st, _, text = curl(inletd.url + "/ingest", {"events": [ev]}, token=token)
        assert st == 200, text
        assert json.loads(text)["results"][0]["topic"] == topic
    for token, ev, topic in cases:
        [m] = find_events(topic, lambda v, e=ev: v["event_id"] == e["event_id"])
        assert m["value"]["payload"] == ev["payload"]
    # device_id was absent in the coldchain event: filled in from the identity
    [m] = find_events("coldchain.temp.v1", lambda v: v["event_id"] == ids["cold"])
    assert m["value"]["device_id"] == "trailer-9" and m["key"] == "trailer-9"


def test_tenant_topic_prefix(inletd):
    eid = unique("acme")
    ev = {"use_case": "coldchain.temp", "schema": "v1", "event_id": eid,
          "payload": {"temp_c": 4}}
    st, _, text = curl(inletd.url + "/ingest", {"events": [ev]}, token=TOKENS["acme"])
    assert st == 200, text
    [m] = find_events("acme.coldchain.temp.v1", lambda v: v["event_id"] == eid)
    assert m["headers"]["inlet-tenant"] == "acme"
    assert not find_events("coldchain.temp.v1", lambda v: v["event_id"] == eid)


@pytest.mark.parametrize("n", [1, 1000])
def test_batches(inletd, n):
    run = unique("b")
    events = [fleet_event(f"{run}-{i}", speed_kmh=float(i % 300)) for i in range(n)]
    st, _, text = curl(inletd.url + "/ingest", {"events": events}, token=TOKENS["truck"])
    assert st == 200, text
    res = json.loads(text)
    assert res["accepted"] == n and len(res["results"]) == n
    msgs = find_events("fleet.updates.v1", lambda v: v["event_id"].startswith(run + "-"))
    assert sorted(m["value"]["event_id"] for m in msgs) == sorted(e["event_id"] for e in events)


def test_per_device_order_across_a_burst(inletd):
    run = unique("ord")
    seq = 0
    for _ in range(20):  # 20 requests of 50 events, back to back
        events = []
        for _ in range(50):
            events.append(fleet_event(f"{run}-{seq:05d}"))
            seq += 1
        st, _, text = curl(inletd.url + "/ingest", {"events": events}, token=TOKENS["truck"])
        assert st == 200, text
    msgs = find_events("fleet.updates.v1", lambda v: v["event_id"].startswith(run + "-"))
    assert len(msgs) == seq
    assert len({m["partition"] for m in msgs}) == 1
    by_offset = sorted(msgs, key=lambda m: m["offset"])
    assert [m["value"]["event_id"] for m in by_offset] == [f"{run}-{i:05d}" for i in range(seq)]


def assert_nothing_in_kafka(marker):
    for topic in ("fleet.updates.v1", "coldchain.temp.v1", "driver.panic.v1"):
        assert not find_events(topic, lambda v: marker in v["event_id"]), topic


def test_bad_token_401(inletd):
    eid = unique("badtok")
    st, hdrs, _ = curl(inletd.url + "/ingest", {"events": [fleet_event(eid)]}, token="nope")
    assert st == 401
    assert hdrs.get("www-authenticate", "").startswith("Bearer")
    st, _, _ = curl(inletd.url + "/ingest", {"events": [fleet_event(eid)]})
    assert st == 401
    assert_nothing_in_kafka(eid)


def test_other_tenants_device_403(inletd):
    eid = unique("other")
    ev = fleet_event(eid)
    ev["device_id"] = "acme-sensor-1"
    st, _, text = curl(inletd.url + "/ingest", {"events": [ev]}, token=TOKENS["truck"])
    assert st == 403, text
    problem = json.loads(text)
    assert problem["status"] == 403
    assert problem["errors"][0]["pointer"] == "/device_id"
    assert_nothing_in_kafka(eid)


def test_acl_deny_403_and_counted(inletd):
    eid = unique("acl")
    before = metric(inletd, 'inlet_acl_denied_total{tenant="demo"}')
    ev = {"use_case": "coldchain.temp", "schema": "v1", "event_id": eid,
          "payload": {"temp_c": 3}}
    st, _, text = curl(inletd.url + "/ingest", {"events": [ev]}, token=TOKENS["truck"])
    assert st == 403, text
    assert "coldchain.temp" in json.loads(text)["errors"][0]["detail"]
    # a device in no group matches no allow rule: default deny
    ev = fleet_event(eid + "-2")
    del ev["device_id"]
    st, _, text = curl(inletd.url + "/ingest", {"events": [ev]}, token=TOKENS["nogroup"])
    assert st == 403, text
    assert metric(inletd, 'inlet_acl_denied_total{tenant="demo"}') == before + 2
    assert_nothing_in_kafka(eid)


def test_invalid_payload_400_problem_json_and_whole_batch_refused(inletd):
    eid = unique("inv")
    good = fleet_event(eid + "-good")
    bad = fleet_event(eid + "-bad", lat=123.4)
    st, hdrs, text = curl(inletd.url + "/ingest", {"events": [good, bad]}, token=TOKENS["truck"])
    assert st == 400, text
    assert hdrs["content-type"].startswith("application/problem+json")
    problem = json.loads(text)
    assert problem["status"] == 400
    [err] = problem["errors"]
    assert err["index"] == 1
    assert err["pointer"] == "/payload/lat"
    assert err["detail"] == "123.4 is greater than maximum 90"
    assert_nothing_in_kafka(eid)


def test_malformed_json_400(inletd):
    st, _, text = curl(inletd.url + "/ingest", '{"events": [ {"device_id": ', token=TOKENS["truck"])
    assert st == 400, text
    assert "malformed JSON" in json.loads(text)["detail"]


def test_oversized_body_413(inletd):
    eid = unique("big")
    events = [fleet_event(f"{eid}-{i}") for i in range(1200)]  # > 256k configured
    st, _, _ = curl(inletd.url + "/ingest", {"events": events}, token=TOKENS["truck"])
    assert st == 413
    st, _, _ = curl(inletd.url + "/ingest", {"events": events}, token=TOKENS["truck"],
                    headers=["Transfer-Encoding: chunked", "Content-Type: application/json"])
    assert st == 413
    assert_nothing_in_kafka(eid)


def test_too_many_events_413(inletd):
    eid = unique("many")
    events = [{"event_id": f"{eid}-{i}", "use_case": "fleet.position", "schema": "v1",
               "payload": {"lat": 0, "lon": 0, "speed_kmh": 0, "status": "idle"}}
              for i in range(1001)]
    st, _, _ = curl(inletd.url + "/ingest", {"events": events}, token=TOKENS["truck"])
    assert st == 413
    assert_nothing_in_kafka(eid)


def test_method_path_and_media_type(inletd):
    st, hdrs, _ = curl(inletd.url + "/ingest", token=TOKENS["truck"])
    assert st == 405 and "POST" in hdrs.get("allow", "")
    st, _, _ = curl(inletd.url + "/nope", {"events": []}, token=TOKENS["truck"])
    assert st == 404
    st, _, _ = curl(inletd.url + "/ingest", "lat=1", token=TOKENS["truck"],
                    headers=["Content-Type: application/x-www-form-urlencoded"])
    assert st == 415
    st, _, _ = curl(inletd.url + "/ingest", {"events": [FLEET_EVENT]}, token=TOKENS["truck"],
                    headers=["Content-Type: application/json; charset=utf-8"])
    assert st == 200


def test_health_ready_metrics(inletd):
    assert curl(inletd.url + "/healthz")[0] == 200
    assert curl(inletd.url + "/readyz")[0] == 200
    st, hdrs, text = curl(inletd.admin_url + "/metrics")
    assert st == 200
    assert "inlet_kafka_delivered_total" in text
    assert 'inlet_http_requests_total{module="http",code="200"}' in text


def test_metrics_only_on_the_admin_listener(inletd):
    # The device listener serves ingest and health, not the operator's metrics.
    assert curl(inletd.url + "/metrics")[0] == 404
    assert curl(inletd.admin_url + "/healthz")[0] == 200
    assert curl(inletd.admin_url + "/readyz")[0] == 200
    st, _, _ = curl(inletd.admin_url + "/ingest", {"events": [FLEET_EVENT]},
                    token=TOKENS["truck"])
    assert st == 404


def test_admin_listener_defaults_to_loopback():
    # Started with the default, every test inletd would want 127.0.0.1:9100; the option table
    # says what an operator gets.
    out = subprocess.run([INLETD, "--print-options", "-c", SOURCE], capture_output=True,
                         text=True, check=True)
    row = next(line for line in out.stdout.splitlines() if line.startswith("| `admin_address`"))
    assert "`127.0.0.1:9100`" in row, row
    row = next(line for line in out.stdout.splitlines()
               if line.startswith("| `listeners[].metrics`"))
    assert "`false`" in row, row


def test_unknown_schema_version_400(inletd):
    ev = fleet_event(unique("ver"))
    ev["schema"] = "v9"
    st, _, text = curl(inletd.url + "/ingest", {"events": [ev]}, token=TOKENS["truck"])
    assert st == 400, text
    assert "v9" in json.loads(text)["errors"][0]["detail"]


def metric(inletd, series):
    st, _, text = curl(inletd.admin_url + "/metrics")
    assert st == 200
    for line in text.splitlines():
        if line.startswith(series + " "):
            return int(line.split()[1])
    return 0


@pytest.mark.parametrize("content_type", ["application/json; charset",
                                          'application/json; charset="utf-8',
                                          "application/json; =x",
                                          "application/json junk"])
def test_malformed_content_type_is_415(inletd, content_type):
    # The core reads only what precedes ';'; the module refuses a value that is no media type
    # (RFC 9110 section 8.3.1) rather than guess (modules/http/parse.c).
    st, _, text = curl(inletd.url + "/ingest", {"events": [fleet_event(unique("ct"))]},
                       token=TOKENS["truck"], headers=[f"Content-Type: {content_type}"])
    assert st == 415, text


def test_well_formed_parameters_are_accepted(inletd):
    st, _, text = curl(inletd.url + "/ingest", {"events": [fleet_event(unique("ct-ok"))]},
                       token=TOKENS["truck"],
                       headers=['Content-Type: application/json ; charset="utf-8" ;'])
    assert st == 200, text


def test_bearer_that_is_no_b64token_is_invalid_token(inletd):
    st, hdrs, _ = curl(inletd.url + "/ingest", {"events": [fleet_event(unique("tok"))]},
                       headers=[f"Authorization: Bearer {TOKENS['truck']} extra"])
    assert st == 401
    assert 'error="invalid_token"' in hdrs["www-authenticate"]
