"""Failover under load, against a real 3-node KRaft cluster (contrib/kafka cluster: RF 3,
min.insync.replicas=2, unclean leader election off): a leader killed with -9 and restarted, a
rolling restart, inletd killed with -9, and every broker down for ~20 s.

Each test runs bounded HTTP and MQTT 5 load (failover_load.py: 4 + 4 connections, 25 events/s
each, every event with its own event_id) through one inletd, then reads every event back from
Kafka and asserts acked-but-lost = 0: each event_id that was acknowledged is in Kafka. It prints
the refusals by reason and the duplicates (an event_id more than once in Kafka: a retry that was
stored twice, allowed, and what event_id is for). inletd runs with delivery_timeout 30 s, which
covers the ~9 s stall (broker.session.timeout.ms) after a broker dies while it still is in the
ISR; at the 10 s default an event could time out in that stall.

One cluster for the whole module (fixture); its ports come from INLET_FAILOVER_KAFKA_PORT (six
from there) or a free block, its directory from INLET_FAILOVER_DIR or a temporary one, so that
contrib/test can stop it even if this process is killed. Label `failover` in ctest.
"""
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

import mqtt_raw as mq
from failover_load import Load
from harness import SOURCE, consume, sha256_hex, unique

KAFKA = os.path.join(SOURCE, "contrib", "kafka")
TOPIC = "fleet.updates.v1"
HTTP_DEVICES = [f"fo-h{i}" for i in range(4)]
MQTT_DEVICES = [f"fo-m{i}" for i in range(4)]
RATE = 25  # events/s per connection: 200 events/s in all
DELIVERY_TIMEOUT = "30s"

# The leader-kill test's "no unreachable refusal" relies on readiness that means "can write"
# (core/kafka/health.c, docs/KAFKA.md): one broker's death must not make readiness flip.
READINESS_CAN_WRITE = True


def token_of(dev):
    return f"tok-{dev}"


def free_block(n=6):
    """A base port with n consecutive ports free (the cluster's nodes take two each)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + n > 65535:
            continue
        ok = True
        for p in range(base, base + n):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", p))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise AssertionError("no block of free ports")


class Cluster:
    def __init__(self):
        self.port = int(os.environ.get("INLET_FAILOVER_KAFKA_PORT") or free_block())
        self.own_dir = not os.environ.get("INLET_FAILOVER_DIR")
        self.dir = os.environ.get("INLET_FAILOVER_DIR") or tempfile.mkdtemp(prefix="inlet-failover-")
        self.bootstrap = ",".join(f"127.0.0.1:{self.port + 2 * i}" for i in range(3))

    def run(self, *args, timeout=240):
        t0 = time.time()
        out = subprocess.run([KAFKA, "cluster", *args, "--port", str(self.port), "--dir", self.dir],
                             capture_output=True, text=True, timeout=timeout)
        assert out.returncode == 0, f"contrib/kafka cluster {' '.join(args)}:\n{out.stderr}"
        print(f"  cluster {' '.join(args)}: {time.time() - t0:.1f}s")
        return out.stdout

    def node_port(self, node):
        return self.port + 2 * (node - 1)

    def leaders(self):
        """{node id: partitions of TOPIC it leads}."""
        out = subprocess.run(["kcat", "-b", self.bootstrap, "-L", "-t", TOPIC, "-m", "10"],
                             capture_output=True, text=True, timeout=30).stdout
        led = {}
        for line in out.splitlines():
            parts = line.split()
            if parts[:1] == ["partition"] and "leader" in parts:
                node = int(parts[parts.index("leader") + 1].rstrip(","))
                led[node] = led.get(node, 0) + 1
        return led

    def healthy(self):
        """Every node up and every partition in sync (restart is a no-op for a running node)."""
        for node in (1, 2, 3):
            self.run("restart", str(node))


@pytest.fixture(scope="module")
def cluster():
    c = Cluster()
    try:
        c.run("start")
        c.run("create-topics", f"{TOPIC}:12")
        yield c
    finally:
        subprocess.run([KAFKA, "cluster", "stop", "--port", str(c.port), "--dir", c.dir],
                       capture_output=True, timeout=120)
        if c.own_dir:
            shutil.rmtree(c.dir, ignore_errors=True)


def start_inletd(cluster, http_port=None, mqtt_port=None):
    devices = HTTP_DEVICES + MQTT_DEVICES
    tenant = "devices: [" + ", ".join(f"{{id: {d}}}" for d in devices) + "]\n"
    tenant += "tokens:\n" + "".join(
        f"  - {{sha256: {sha256_hex(token_of(d))}, device: {d}}}\n" for d in devices)
    tenant += 'acl: [{effect: allow, schemas: ["*"]}]\n'
    return mq.start_inletd({"demo": tenant}, "receive_maximum: 64\n", bootstrap=cluster.bootstrap,
                           delivery_timeout=DELIVERY_TIMEOUT)


def restart_inletd(d):
    """Starts d again on the same ports and config directory, after it was stopped or killed."""
    d.log.close()
    return d.start()


def check(cluster, load, t_start, name):
    """acked-but-lost = 0 against what Kafka has; prints refusals and duplicates."""
    since = int(t_start * 1000) - 5000
    msgs = consume(TOPIC, bootstrap=cluster.bootstrap, since_ms=since,
                   predicate=lambda v: str(v.get("event_id", "")).startswith(load.run + "-"))
    seen = {}
    for m in msgs:
        eid = m["value"]["event_id"]
        seen[eid] = seen.get(eid, 0) + 1
    acked = load.acked()
    lost = sorted(acked - set(seen))
    dups = {e: n for e, n in seen.items() if n > 1}
    refusals = load.refusals()
    not_acked_but_stored = sum(1 for e, (o, _) in load.outcomes.items()
                               if o != "acked" and e in seen)
    load.summary = (f"sent {len(load.outcomes)}, acked {len(acked)}, in Kafka {len(seen)} "
                    f"unique ({len(msgs)} records), acked-but-lost {len(lost)}, duplicates "
                    f"{len(dups)}, refused-or-unanswered but stored {not_acked_but_stored}")
    print(f"\n[{name}] {load.summary}")
    for reason, n in sorted(refusals.items(), key=lambda kv: -kv[1]):
        when = [t - t_start for o, t in load.outcomes.values() if o == reason]
        print(f"[{name}]   {n:5d}  {reason}  (answered at t+{min(when):.1f}..{max(when):.1f}s)")
    assert not lost, f"acknowledged but not in Kafka: {len(lost)}, e.g. {lost[:10]}"
    assert len(acked) > 0
    return refusals


def unreachable(refusals):
    return sum(n for r, n in refusals.items() if "unreachable" in r.lower())


def scenario(cluster, name, disrupt, warm=3, settle=3):
    """Load through a fresh inletd; after warm seconds disrupt(d) returns when things are back
    (its time); settle seconds more, then check. Returns the refusals."""
    cluster.healthy()
    d = start_inletd(cluster)
    t0 = time.time()
    try:
        load = Load(unique(name.split()[0]), d.port, d.mqtt_port, HTTP_DEVICES, MQTT_DEVICES,
                    token_of, rate=RATE).start()
        time.sleep(warm)
        print(f"  disruption at t+{time.time() - t0:.1f}s")
        t_back = disrupt(d, load)
        print(f"  recovered at t+{t_back - t0:.1f}s")
        time.sleep(settle)
        load.stop()
        assert d.proc.poll() is None, d.logs()
    finally:
        d.stop()
    refusals = check(cluster, load, t0, name)
    assert load.acked_since(t_back) > 0, f"{name}: nothing acknowledged after the recovery"
    return refusals, load.summary


def test_leader_kill_and_restart(cluster):
    def disrupt(d, load):
        led = cluster.leaders()
        leader = max(led, key=led.get)
        print(f"  partition leaders {led}; killing node {leader}")
        cluster.run("kill", str(leader))
        time.sleep(8)
        cluster.run("restart", str(leader))
        return time.time()

    refusals, summary = scenario(cluster, "leader kill -9", disrupt)
    n = unreachable(refusals)
    if n and not READINESS_CAN_WRITE:
        pytest.xfail(f"{n} 'Kafka is unreachable' refusals while 2 of 3 brokers could write: "
                     "needs the readiness change of issue 10 (branch health); then set "
                     "READINESS_CAN_WRITE = True in tests/integration/test_failover.py "
                     f"({summary}; refusals {refusals})")
    assert n == 0, f"{n} 'Kafka is unreachable' refusals while two of three brokers were up"


def test_rolling_restart(cluster):
    # One node down at a time, each back in every ISR before the next: min.insync.replicas=2
    # always holds, so nothing should be refused; only acked-but-lost is asserted, since a slow
    # machine can still stretch a produce past a leader move.
    def disrupt(d, load):
        for node in (1, 2, 3):
            cluster.run("term", str(node))
            cluster.run("restart", str(node))
        return time.time()

    scenario(cluster, "rolling restart", disrupt, warm=2, settle=2)


def test_inletd_kill_and_restart(cluster):
    def disrupt(d, load):
        d.proc.kill()
        d.proc.wait()
        time.sleep(1)
        restart_inletd(d)
        return time.time()

    scenario(cluster, "inletd kill -9", disrupt)


def test_full_outage(cluster):
    def disrupt(d, load):
        for node in (1, 2, 3):
            cluster.run("kill", str(node))
        t_down = time.time()
        time.sleep(3)  # plus the cluster's start (15-25 s here): down ~20 s in all
        cluster.run("start")
        print(f"  all brokers down for {time.time() - t_down:.1f}s (until every node is back)")
        t_back = time.time()
        # Back: readiness returns and events are acknowledged again, without restarting inletd.
        deadline = time.time() + 40
        while load.acked_since(t_back) == 0 and time.time() < deadline:
            time.sleep(0.5)
        return t_back

    # Whether anything is refused depends on timing: events in flight at the kill wait up to
    # the delivery timeout (30 s) and may still be stored once the cluster is back; readiness
    # may refuse new ones at once ("unreachable"). Both are honest; acked-but-lost is the check.
    scenario(cluster, "full outage", disrupt, settle=2)
