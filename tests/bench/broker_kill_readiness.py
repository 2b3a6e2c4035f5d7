"""Readiness under a broker kill (issue 10): light HTTP load (48 clients, 24 devices over the
partitions, 2 requests/s each) against a real inletd on a running 3-broker cluster; 10 s in, run
KILL_COMMAND (e.g. `kill -9 <pid of the broker leading most partitions>`); 30 s later print the
statuses, the refusals ("Kafka is unreachable" must be 0), /readyz samples that were not 200,
latency after the kill, and acked-but-lost read back from Kafka.

usage: broker_kill_readiness.py BOOTSTRAP_LIST KILL_COMMAND
  e.g. broker_kill_readiness.py 127.0.0.1:39092,127.0.0.1:39093,127.0.0.1:39094 \
       "kill -9 $(cat /tmp/c2/kafka.pid)"
Needs fleet.updates.v1 (12 partitions, RF 3) and the other schemas' topics on the cluster, and
INLET_BUILD_DIR / INLET_SOURCE_DIR like the integration tests."""
import collections
import http.client
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import FLEET_EVENT, Inletd, consume, curl, sha256_hex, unique  # noqa: E402

BOOT, KILL_COMMAND = sys.argv[1], sys.argv[2]
NDEV = 24
TOKENS = [unique(f"tok{i}") for i in range(NDEV)]
devs = ", ".join(f"{{id: truck-{i}}}" for i in range(NDEV))
toks = ", ".join(f"{{sha256: {sha256_hex(TOKENS[i])}, device: truck-{i}}}" for i in range(NDEV))
tenants = {"demo": f"""devices: [{devs}]
tokens: [{toks}]
acl: [{{effect: allow, schemas: ["*"]}}]
"""}
d = Inletd(tenants, bootstrap=BOOT, delivery_timeout="30s").start()
run = unique("kill")
res = collections.Counter(); bodies = collections.Counter(); lat = []; acked = []; lock = threading.Lock()
stop = time.time() + 40
def worker(w):
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=60)
    i = 0
    while time.time() < stop:
        eid = f"{run}-{w}-{i}"; i += 1
        ev = dict(FLEET_EVENT, event_id=eid, device_id=f"truck-{w % NDEV}")
        t0 = time.time()
        try:
            conn.request("POST", "/ingest", json.dumps({"events": [ev]}),
                         {"Authorization": f"Bearer {TOKENS[w % NDEV]}", "Content-Type": "application/json"})
            r = conn.getresponse(); body = r.read().decode(); st = r.status
        except Exception as e:
            st, body = 0, str(e); conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=60)
        dt = time.time() - t0
        with lock:
            res[st] += 1; lat.append((t0, dt))
            if st == 200: acked.append(eid)
            else: bodies[body[:160]] += 1
        time.sleep(0.5)
ts = [threading.Thread(target=worker, args=(w,)) for w in range(48)]
[t.start() for t in ts]
time.sleep(10)
tk = time.time()
subprocess.run(KILL_COMMAND, shell=True, check=True)
print("killed the broker at t=10s", flush=True)
ready = []
while time.time() < stop:
    ready.append((time.time() - tk, curl(d.url + "/readyz", timeout=5)[0])); time.sleep(0.25)
[t.join() for t in ts]
print("statuses", dict(res))
print("refusal bodies", dict(bodies))
print("readyz != 200 after kill:", [(round(a, 1), s) for a, s in ready if s != 200])
after = sorted(dt for t0, dt in lat if t0 >= tk)
print("latency after kill: max %.2fs p99 %.2fs p50 %.3fs n=%d" % (after[-1], after[int(len(after) * .99)], after[len(after) // 2], len(after)))
got = {m["value"]["event_id"] for m in consume("fleet.updates.v1", BOOT,
       predicate=lambda v: v.get("event_id", "").startswith(run))}
print("acked", len(acked), "acked-but-lost", len(set(acked) - got), "in kafka", len(got))
unreach = sum(c for b, c in bodies.items() if "unreachable" in b)
print("UNREACHABLE refusals:", unreach)
log = d.logs()
d.stop()
print("\n".join(l for l in log.splitlines() if "[kafka]" in l or "librdkafka" in l)[-4000:])
