"""SIGHUP reloads tenants (and schemas) without a restart; a broken reload keeps the running
configuration."""
import os
import signal

from harness import FLEET_EVENT, Inletd, curl, sha256_hex, unique, wait_for

OLD, NEW = unique("old"), unique("new")


def post(d, token):
    return curl(d.url + "/ingest", {"events": [dict(FLEET_EVENT, event_id=unique("rl"))]},
                token=token)[0]


def test_sighup_adds_a_token_and_a_bad_file_keeps_the_old_config():
    tenant = """devices: [{{id: truck-0042}}]
tokens: [{{sha256: {h}, device: truck-0042}}]
acl: [{{effect: allow, schemas: ["*"]}}]
"""
    d = Inletd({"demo": tenant.format(h=sha256_hex(OLD))}).start()
    try:
        assert post(d, OLD) == 200
        assert post(d, NEW) == 401
        path = os.path.join(d.dir, "conf.d", "tenant-demo.yaml")
        with open(path, "w") as f:
            f.write("tenant: demo\n" + tenant.format(h=sha256_hex(NEW)))
        d.proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: post(d, NEW) == 200), d.logs()
        assert post(d, OLD) == 401
        assert "reloaded 1 tenants" in d.logs()

        with open(path, "a") as f:
            f.write("bogus_key: 1\n")
        d.proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: "reload failed" in d.logs()), d.logs()
        assert "bogus_key: unknown option" in d.logs()
        assert post(d, NEW) == 200  # still serving with the last good configuration
    finally:
        assert d.stop() == 0, d.logs()


def test_reload_revokes_the_token_of_an_open_mqtt_connection():
    import json

    from mqtt_raw import DISCONNECT, RawClient, fleet_event, start_inletd

    tok = unique("mq")
    tenant = """devices: [{{id: truck-0042}}]
tokens: [{{sha256: {h}, device: truck-0042}}]
acl: [{{effect: allow, schemas: ["*"]}}]
"""
    d = start_inletd({"demo": tenant.format(h=sha256_hex(tok))})
    try:
        with RawClient(d.mqtt_port) as c:
            assert c.connect("truck-0042", username="truck-0042", password=tok).reason == 0
            topic = "devices/truck-0042/events"
            ok = c.publish_qos1(topic, json.dumps(fleet_event(unique("rv"))).encode(), 1)
            assert ok.reason == 0
            # the operator replaces the token; the connection stays open
            path = os.path.join(d.dir, "conf.d", "tenant-demo.yaml")
            with open(path, "w") as f:
                f.write("tenant: demo\n" + tenant.format(h=sha256_hex(unique("other"))))
            d.proc.send_signal(signal.SIGHUP)
            assert wait_for(lambda: "reloaded 1 tenants" in d.logs()), d.logs()
            # the next PUBLISH ends the connection: DISCONNECT 0x87, not authorized any more
            c.publish(topic, json.dumps(fleet_event(unique("rv"))).encode(), 1, 2)
            got = c.expect_closed()
            assert [(p.type, p.reason) for p in got] == [(DISCONNECT, 0x87)], got
    finally:
        assert d.stop() == 0, d.logs()
