"""SIGTERM: inletd stops accepting, waits for Kafka to acknowledge what is in flight, answers the
devices and exits 0."""
import json
import os
import subprocess
import time

from harness import FLEET_EVENT, Inletd, curl, find_events, sha256_hex, unique

TOKEN = unique("tok")
TENANTS = {"demo": f"""devices: [{{id: truck-0042}}]
tokens: [{{sha256: {sha256_hex(TOKEN)}, device: truck-0042}}]
acl: [{{effect: allow, schemas: ["*"]}}]
"""}


def test_sigterm_answers_in_flight_requests_and_exits_0():
    d = Inletd(TENANTS).start()
    run = unique("term")
    body = os.path.join(d.dir, "body.json")
    with open(body, "w") as f:
        json.dump({"events": [dict(FLEET_EVENT, event_id=f"{run}-{i}") for i in range(1000)]}, f)
    procs = [subprocess.Popen(["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "-H",
                               f"Authorization: Bearer {TOKEN}", "-H",
                               "Content-Type: application/json", "--data-binary", "@" + body,
                               d.url + "/ingest"], stdout=subprocess.PIPE, text=True)
             for _ in range(4)]
    time.sleep(0.15)
    t0 = time.time()
    rc = d.stop(timeout=30)
    assert rc == 0, d.logs()
    assert time.time() - t0 < 15
    codes = []
    for p in procs:
        out, _ = p.communicate(timeout=30)
        codes.append(out.rsplit("\n", 1)[-1])
    # Every device got an HTTP answer (a request that arrived after the listener closed gets a
    # connection error, code 000, and was never accepted).
    for c in codes:
        assert c in ("200", "503", "000"), codes
    accepted = codes.count("200")
    assert accepted + codes.count("503") >= 1, codes  # at least one was in flight at SIGTERM
    msgs = find_events("fleet.updates.v1", lambda v: v["event_id"].startswith(run + "-"))
    # Each 200 means its 1000 events are in Kafka.
    assert len(msgs) >= 1000 * accepted
    print("answers at SIGTERM:", codes)
    assert "shutting down" in d.logs()
    # the port is closed now
    assert curl(d.url + "/healthz", timeout=3)[0] == 0
