"""Opaque tokens with not_after and disabled: refused over HTTP from then on; an open MQTT
connection ends at not_after (MQTT 5 DISCONNECT 0xA0, the credential's end, as for an expiring
JWT) and, after a reload that disables its token or moves not_after into the past, at its next
PUBLISH (DISCONNECT 0x87)."""
import datetime
import json
import os
import signal
import time

import mqtt_raw as mq
from harness import FLEET_EVENT, curl, sha256_hex, unique

LIVE, PAST, OFF, SOON = unique("live"), unique("past"), unique("off"), unique("soon")
TOPIC = "devices/truck-0042/events"


def rfc3339(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def tenant(soon_at=None, live_disabled=False, off_disabled=True):
    soon_at = soon_at or time.time() + 3600
    return f"""devices: [{{id: truck-0042}}]
tokens:
  - sha256: {sha256_hex(LIVE)}
    device: truck-0042
    not_after: "{rfc3339(time.time() + 3600)}"
    disabled: {str(live_disabled).lower()}
  - sha256: {sha256_hex(PAST)}
    device: truck-0042
    not_after: "2020-01-01T00:00:00Z"
  - sha256: {sha256_hex(OFF)}
    device: truck-0042
    disabled: {str(off_disabled).lower()}
  - sha256: {sha256_hex(SOON)}
    device: truck-0042
    not_after: "{rfc3339(soon_at)}"
acl: [{{effect: allow, schemas: ["*"]}}]
"""


def post(d, token):
    st, _, body = curl(d.url + "/ingest", {"events": [dict(FLEET_EVENT, event_id=unique("tl"))]},
                       token=token)
    return st


def reload(d, body):
    before = d.logs().count("reloaded 1 tenants")
    with open(os.path.join(d.dir, "conf.d", "tenant-demo.yaml"), "w") as f:
        f.write("tenant: demo\n" + body)
    d.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while time.time() < deadline and d.logs().count("reloaded 1 tenants") <= before:
        time.sleep(0.1)
    assert d.logs().count("reloaded 1 tenants") > before, d.logs()


def event():
    return json.dumps(mq.fleet_event(unique("tl"))).encode()


def test_http_not_after_and_disabled_and_their_reload():
    d = mq.start_inletd({"demo": tenant()})
    try:
        assert post(d, LIVE) == 200
        assert post(d, PAST) == 401
        assert post(d, OFF) == 401
        # the operator disables LIVE and re-enables OFF: both take effect on reload
        reload(d, tenant(live_disabled=True, off_disabled=False))
        assert post(d, LIVE) == 401
        assert post(d, OFF) == 200
    finally:
        assert d.stop() == 0, d.logs()


def test_mqtt_connection_ends_at_not_after():
    soon = time.time() + 4
    d = mq.start_inletd({"demo": tenant(soon_at=soon)})
    try:
        c = mq.RawClient(d.mqtt_port, timeout=15)
        assert c.connect(unique("c"), username="truck-0042", password=SOON,
                         keep_alive=600).reason == 0
        assert c.publish_qos1(TOPIC, event(), 1).reason == 0
        got = c.expect_closed(timeout=12)
        assert [(p.type, p.reason) for p in got] == [(mq.DISCONNECT, 0xA0)], got
        assert time.time() >= soon - 1.5  # not before not_after (second-granular)
        c.close()
        # and a new connection with it is refused
        c = mq.RawClient(d.mqtt_port, timeout=15)
        assert c.connect(unique("c"), username="truck-0042", password=SOON).reason != 0
        c.close()
    finally:
        assert d.stop() == 0, d.logs()


def test_mqtt_reload_disabling_the_token_ends_the_connection_with_0x87():
    d = mq.start_inletd({"demo": tenant()})
    try:
        c = mq.RawClient(d.mqtt_port, timeout=15)
        assert c.connect(unique("c"), username="truck-0042", password=LIVE,
                         keep_alive=600).reason == 0
        assert c.publish_qos1(TOPIC, event(), 1).reason == 0
        reload(d, tenant(live_disabled=True))
        c.publish(TOPIC, event(), 1, 2)
        got = c.expect_closed()
        assert [(p.type, p.reason) for p in got] == [(mq.DISCONNECT, 0x87)], got
        c.close()
    finally:
        assert d.stop() == 0, d.logs()


def test_mqtt_reload_moving_not_after_into_the_past_ends_the_connection():
    d = mq.start_inletd({"demo": tenant()})
    try:
        c = mq.RawClient(d.mqtt_port, timeout=15)
        assert c.connect(unique("c"), username="truck-0042", password=SOON,
                         keep_alive=600).reason == 0
        assert c.publish_qos1(TOPIC, event(), 1).reason == 0
        reload(d, tenant(soon_at=time.time() - 60))
        c.publish(TOPIC, event(), 1, 2)
        got = c.expect_closed()
        assert [(p.type, p.reason) for p in got] == [(mq.DISCONNECT, 0x87)], got
        c.close()
    finally:
        assert d.stop() == 0, d.logs()
