"""Why is my device refused? Refusals logged at info with their fields (rate-limited per tenant and
reason), the recent ones on the admin listener (/refusals), refusal and acceptance counts per
module, tenant and schema, inlet_build_info, certificate expiry gauges, JSON logs, and log
settings that SIGHUP applies. Real inletd, real Kafka, real curl and mosquitto_pub."""
import json
import os
import re
import signal
import subprocess
import tempfile
import time
from datetime import datetime, timezone

from harness import (FLEET_EVENT, Inletd, curl, find_events, make_ca, make_cert, sha256_hex,
                     unique)

TOKEN = unique("obs")
TENANT = f"""devices: [{{id: truck-0042}}]
tokens: [{{sha256: {sha256_hex(TOKEN)}, device: truck-0042}}]
acl:
  - effect: deny
    schemas: ["driver.panic"]
    reason: "panic needs a certificate"
  - effect: allow
    schemas: ["fleet.position"]
"""


def post(d, event, token=TOKEN, **kw):
    return curl(d.url + "/ingest", {"events": [event]}, token=token, **kw)


def wait_for(pred, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    return None


def refusal_lines(d):
    return [l for l in d.logs().splitlines() if "[refusal]" in l and "event=refusal " in l]


def fields(line):
    """key=value and key="quoted value" pairs of a text log line."""
    out = {}
    for m in re.finditer(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)', line):
        v = m.group(2)
        out[m.group(1)] = json.loads(v) if v.startswith('"') else v
    return out


def metrics(d):
    st, _, text = curl(d.admin_url + "/metrics")
    assert st == 200, text
    return text


def sample(text, name, **labels):
    """The value of the one series of name whose labels include labels, or None."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        series, value = line.rsplit(" ", 1)
        got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', series))
        if all(got.get(k) == v for k, v in labels.items()):
            return float(value)
    return None


def test_http_refusals_are_logged_listed_and_counted_per_tenant_and_schema():
    d = Inletd({"demo": TENANT}).start()
    try:
        ok_id = unique("ok")
        st, _, body = post(d, dict(FLEET_EVENT, event_id=ok_id))
        assert st == 200, body
        assert post(d, FLEET_EVENT, token="not-a-token")[0] == 401
        bad = dict(FLEET_EVENT, payload=dict(FLEET_EVENT["payload"], lat=123.4))
        assert post(d, bad)[0] == 400
        assert post(d, dict(FLEET_EVENT, use_case="driver.panic"))[0] == 403
        assert curl(d.url + "/ingest", "", token=TOKEN)[0] == 400  # refused by the module

        lines = wait_for(lambda: len(refusal_lines(d)) >= 4 and refusal_lines(d))
        assert lines, d.logs()
        by_reason = {}
        for l in lines:
            assert " info  [refusal] refused " in l, l
            f = fields(l)
            by_reason.setdefault(f["reason"], []).append(f)
        tok = by_reason["unauthenticated"][0]
        assert tok["protocol"] == "http" and tok["module"] == "http", tok
        assert re.fullmatch(r"127\.0\.0\.1:\d+", tok["peer"]), tok
        assert tok["tenant"] == "-" and "unknown bearer token" in tok["detail"], tok

        inv = [f for f in by_reason["invalid"] if f.get("schema")][0]
        assert inv["tenant"] == "demo" and inv["device"] == "truck-0042", inv
        assert inv["schema"] == "fleet.position@v1" and inv["pointer"] == "/payload/lat", inv
        assert "123.4" in inv["detail"], inv
        empty = [f for f in by_reason["invalid"] if not f.get("schema")][0]
        assert "body is empty" in empty["detail"], empty

        deny = by_reason["forbidden"][0]
        assert deny["schema"] == "driver.panic@v1", deny
        assert "panic needs a certificate" in deny["detail"], deny  # the deciding rule's reason

        # the ring buffer on the admin listener, newest first
        st, hdrs, text = curl(d.admin_url + "/refusals")
        assert st == 200 and hdrs["content-type"].startswith("application/json"), text
        doc = json.loads(text)
        assert doc["total"] == 4 and doc["kept"] == 256, doc
        reasons = [r["reason"] for r in doc["refusals"]]
        assert reasons == ["invalid", "forbidden", "invalid", "unauthenticated"], reasons
        assert doc["refusals"][2]["pointer"] == "/payload/lat"
        assert doc["refusals"][1]["peer"].startswith("127.0.0.1:")
        # not on the device listener
        assert curl(d.url + "/refusals")[0] == 404

        m = metrics(d)
        assert sample(m, "inlet_tenant_events_accepted_total", module="http", tenant="demo",
                      schema="fleet.position@v1") == 1, m
        assert sample(m, "inlet_refusals_total", module="http", tenant="demo",
                      schema="fleet.position@v1", reason="invalid") == 1, m
        assert sample(m, "inlet_refusals_total", tenant="demo", schema="driver.panic@v1",
                      reason="forbidden") == 1, m
        assert sample(m, "inlet_refusals_total", tenant="", reason="unauthenticated") == 1, m
        info = [l for l in m.splitlines() if l.startswith("inlet_build_info{")]
        assert len(info) == 1 and info[0].endswith(" 1"), info
        assert re.search(r'version="[^"]+",abi="1\.\d+",librdkafka="\d+\.\d+\.\d+"', info[0])

        # the accepted one really is in Kafka
        assert find_events("fleet.updates.v1", lambda e: e["event_id"] == ok_id)
    finally:
        assert d.stop() == 0, d.logs()


def test_mqtt_bad_credentials_are_logged_with_the_peer():
    from mqtt_raw import start_inletd
    d = start_inletd({"demo": TENANT})
    try:
        out = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(d.mqtt_port), "-V",
                              "mqttv5", "-i", "obs-1", "-u", "truck-0042", "-P", "wrong-token",
                              "-t", "fleet/position", "-m", "{}"], capture_output=True, text=True,
                             timeout=20)
        assert out.returncode != 0, out
        line = wait_for(lambda: [l for l in refusal_lines(d) if "protocol=mqtt" in l])
        assert line, d.logs()
        f = fields(line[0])
        assert f["reason"] == "unauthenticated" and f["module"] == "mqtt", f
        assert re.fullmatch(r"127\.0\.0\.1:\d+", f["peer"]), f
        assert "unknown bearer token" in f["detail"], f
        doc = json.loads(curl(d.admin_url + "/refusals")[2])
        assert doc["refusals"][0]["protocol"] == "mqtt", doc
        assert sample(metrics(d), "inlet_refusals_total", module="mqtt",
                      reason="unauthenticated") == 1
    finally:
        assert d.stop() == 0, d.logs()


def test_refusal_log_is_rate_limited_per_tenant_and_reason_and_the_ring_is_bounded():
    d = Inletd({"demo": TENANT}, main_extra="refusal_log_burst: 3\nrefusal_log_window: 4s\n"
               "recent_refusals: 5\n").start()
    try:
        started = time.time()
        for _ in range(10):
            assert post(d, FLEET_EVENT, token="nope")[0] == 401
        assert time.time() - started < 3.5, "too slow for the 4 s window this test needs"
        # another reason has its own budget
        assert post(d, dict(FLEET_EVENT, use_case="driver.panic"))[0] == 403
        lines = refusal_lines(d)
        assert len([l for l in lines if "reason=unauthenticated" in l]) == 3, d.logs()
        assert len([l for l in lines if "reason=forbidden" in l]) == 1, d.logs()
        time.sleep(max(0.0, started + 4.3 - time.time()))
        assert post(d, FLEET_EVENT, token="nope")[0] == 401  # next window: a summary, then it
        summary = wait_for(lambda: [l for l in d.logs().splitlines()
                                    if "event=refusals_suppressed" in l])
        assert summary, d.logs()
        f = fields(summary[0])
        assert f["suppressed"] == "7" and f["reason"] == "unauthenticated", f
        assert len([l for l in refusal_lines(d) if "reason=unauthenticated" in l]) == 4

        doc = json.loads(curl(d.admin_url + "/refusals")[2])
        assert doc["total"] == 12 and doc["kept"] == 5 and len(doc["refusals"]) == 5, doc
        assert doc["refusals"][0]["reason"] == "unauthenticated"
        assert doc["refusals"][1]["reason"] == "forbidden"
        # the counter counts every one, logged or not
        assert sample(metrics(d), "inlet_refusals_total", reason="unauthenticated") == 11
    finally:
        assert d.stop() == 0, d.logs()


def test_json_logs_parse_and_log_settings_reload_on_sighup():
    d = Inletd({"demo": TENANT}, main_extra="log_format: json\n").start()
    main = os.path.join(d.dir, "inletd.yaml")
    try:
        assert post(d, FLEET_EVENT, token="nope")[0] == 401
        assert wait_for(lambda: '"event":"refusal"' in d.logs()), d.logs()
        objs = [json.loads(l) for l in d.logs().splitlines() if l.strip()]
        assert len(objs) >= 5
        for o in objs:
            assert set(o) >= {"ts", "level", "tag", "msg"}, o
            datetime.strptime(o["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")
        r = [o for o in objs if o.get("event") == "refusal"][0]
        assert r["level"] == "info" and r["tag"] == "refusal", r
        assert r["reason"] == "unauthenticated" and r["protocol"] == "http", r
        assert r["peer"].startswith("127.0.0.1:") and r["tenant"] == "-", r

        # warn: refusals (info) are no longer logged, and text lines come back
        with open(main) as f:
            conf = f.read()
        with open(main, "w") as f:
            f.write(conf.replace("log_level: info", "log_level: warn")
                    .replace("log_format: json", "log_format: text"))
        d.proc.send_signal(signal.SIGHUP)
        time.sleep(1)
        n = d.logs().count('"event":"refusal"')
        assert post(d, FLEET_EVENT, token="nope")[0] == 401
        time.sleep(0.5)
        logs = d.logs()
        assert logs.count('"event":"refusal"') == n and "event=refusal" not in logs, logs

        # debug: the reload itself logs, as text
        with open(main, "w") as f:
            f.write(conf.replace("log_level: info", "log_level: debug")
                    .replace("log_format: json", "log_format: text"))
        d.proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: re.search(r"Z info  \[core\] reloaded", d.logs())), d.logs()
        assert post(d, FLEET_EVENT, token="nope")[0] == 401
        assert wait_for(lambda: "event=refusal" in d.logs()), d.logs()
        assert " debug [" in d.logs()  # debug lines (the HTTP module's token refusal)
    finally:
        assert d.stop() == 0, d.logs()


def not_after(pem):
    out = subprocess.run(["openssl", "x509", "-in", pem, "-noout", "-enddate"], check=True,
                         capture_output=True, text=True).stdout.strip()
    t = datetime.strptime(out.split("=", 1)[1], "%b %d %H:%M:%S %Y %Z")
    return int(t.replace(tzinfo=timezone.utc).timestamp())


def test_server_certificate_and_tenant_ca_expiry_gauges():
    tmp = tempfile.mkdtemp(prefix="inlet-obs-certs-")
    make_ca(tmp, "server-ca")
    cert, key = make_cert(tmp, "server-ca", "server", "localhost", server=True)
    tenant_ca = make_ca(tmp, "demo-ca")
    tls_port = __import__("harness").free_port()
    d = Inletd({"demo": TENANT + f"mtls:\n  ca_file: {tenant_ca}\n"},
               listeners=None, http_extra="")
    # a second, TLS listener beside the plaintext one the harness waits on
    with open(os.path.join(d.dir, "conf.d", "http.yaml"), "a") as f:
        f.write(f"  - address: 127.0.0.1:{tls_port}\n    tls:\n      cert: {cert}\n"
                f"      key: {key}\n")
    d.start()
    try:
        m = metrics(d)
        assert sample(m, "inlet_tls_certificate_expiry_seconds", module="http",
                      listener=f"127.0.0.1:{tls_port}") == not_after(cert), m
        assert sample(m, "inlet_tenant_ca_expiry_seconds", tenant="demo",
                      subject="/CN=demo-ca") == not_after(tenant_ca), m
    finally:
        assert d.stop() == 0, d.logs()


def test_binary_coap_and_teltonika_refusals_carry_protocol_and_peer():
    import binary_raw
    import coap_raw
    import teltonika_raw
    from harness import free_port
    bport, cport, tport = free_port(), free_port(), free_port()
    d = Inletd({"demo": TENANT}, extra_confd={
        "binary.yaml": f"module: binary\nlisteners:\n  - address: 127.0.0.1:{bport}\n",
        "coap.yaml": f"module: coap\nlisteners:\n  - address: 127.0.0.1:{cport}\n"
                     "    allow_token: true\n",
        "teltonika.yaml": f"module: teltonika\nlisteners:\n  - address: 127.0.0.1:{tport}\n",
    }).start()
    try:
        c = binary_raw.Conn(bport)
        c.hello("wrong-token")
        c.close()
        code, text = coap_raw.client(f"coap://127.0.0.1:{cport}/ingest?t=wrong-token",
                                     json.dumps({"events": [FLEET_EVENT]}))
        assert code == "4.01", text
        with teltonika_raw.Tracker(tport) as t:
            assert t.hello("356307042441099") in (0, None)

        def by_protocol():
            got = {fields(l)["protocol"]: fields(l) for l in refusal_lines(d)}
            return got if {"binary", "coap", "teltonika"} <= set(got) else None
        got = wait_for(by_protocol)
        assert got, d.logs()
        for proto, f in got.items():
            assert f["reason"] == "unauthenticated", f
            assert re.fullmatch(r"127\.0\.0\.1:\d+", f["peer"]), f
        assert "unknown bearer token" in got["binary"]["detail"], got["binary"]
        assert "unknown bearer token" in got["coap"]["detail"], got["coap"]
        assert "356307042441099" in got["teltonika"]["detail"], got["teltonika"]
        m = metrics(d)
        for mod in ("binary", "coap", "teltonika"):
            assert sample(m, "inlet_refusals_total", module=mod, reason="unauthenticated") == 1, m
    finally:
        assert d.stop() == 0, d.logs()
