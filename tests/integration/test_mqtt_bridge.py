"""The MQTT bridge against a real Mosquitto started here and the real Kafka broker: envelope and
headers, MQTT 3.1.1 and 5, QoS 0 and 1, rejections that are acknowledged and never produced,
per-device ordering, an inletd restart (SIGTERM and SIGKILL) in the middle of a stream with
nothing lost, a shared subscription split between two inletd instances, TLS with client
certificates and a password file, and Kafka refusing or losing messages (never acknowledged
upstream, all in Kafka afterwards)."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest

import mqtt_raw as raw
from harness import (BOOTSTRAP, INLETD, SOURCE, Inletd, curl, free_port, java_partition, make_ca,
                     make_cert, unique)

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"

# Paho 1.3.12 tunnels upstream connections through these when set (docs/MQTT-BRIDGE.md); the
# inletd processes of this file inherit the environment and talk to a loopback broker.
for _var in ("http_proxy", "https_proxy"):
    os.environ.pop(_var, None)
TOPIC = "fleet.updates.v1"
PARTITIONS = 12


# --- Mosquitto ------------------------------------------------------------------------------------

class Mosquitto:
    """A real Mosquitto on a free loopback port, with persistence, in its own directory."""

    def __init__(self, tls=None, password_file=None):
        self.dir = tempfile.mkdtemp(prefix="mosquitto-test-")
        self.port = free_port()
        self.log_path = os.path.join(self.dir, "mosquitto.log")
        lines = [
            f"listener {self.port} 127.0.0.1",
            f"allow_anonymous {'false' if password_file else 'true'}",
            "persistence true",
            f"persistence_location {self.dir}/",
            # Queue without limit for an offline persistent session: the restart tests publish
            # faster than the bridge drains, and Mosquitto's default (1000) would drop the rest.
            "max_queued_messages 0",
            f"log_dest file {self.log_path}",
            "log_type error", "log_type warning", "log_type notice", "log_type information",
            "log_type subscribe",
        ]
        if os.geteuid() == 0:
            lines.append("user root")  # else it drops to "mosquitto", who cannot read our files
        if password_file:
            lines.append(f"password_file {password_file}")
        if tls:
            lines += [f"cafile {tls['ca']}", f"certfile {tls['cert']}", f"keyfile {tls['key']}",
                      "require_certificate true"]
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([MOSQUITTO, "-c", self.conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            assert self.proc.poll() is None, "mosquitto exited:\n" + self.logs()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError("mosquitto did not start:\n" + self.logs())

    def logs(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


@pytest.fixture
def broker():
    b = Mosquitto().start()
    yield b
    b.stop()


def publish(port, topic, payload, qos=1, version="mqttv5", props=(), extra=(), host="127.0.0.1"):
    args = ["mosquitto_pub", "-h", host, "-p", str(port), "-q", str(qos), "-V", version,
            "-i", unique("pub"), "-t", topic, "-m", payload, *extra]
    for name, value in props:
        args += ["-D", "publish", "user-property", name, value]
    out = subprocess.run(args, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr


class Stream(threading.Thread):
    """mosquitto_pub -l for one topic, fed `count` JSON lines at `rate` per second."""

    def __init__(self, port, topic, lines, rate):
        super().__init__(daemon=True)
        self.proc = subprocess.Popen(
            ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-V", "mqttv5",
             "-i", unique("stream"), "-t", topic, "-l"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines, self.rate, self.error = lines, rate, None

    def run(self):
        try:
            start = time.time()
            for i, line in enumerate(self.lines):
                self.proc.stdin.write(line + "\n")
                self.proc.stdin.flush()
                delay = start + (i + 1) / self.rate - time.time()
                if delay > 0:
                    time.sleep(delay)
            self.proc.stdin.close()
            self.proc.wait(timeout=60)
            if self.proc.returncode != 0:
                self.error = self.proc.stderr.read()
        except Exception as e:  # reported by the test through .error
            self.error = repr(e)


# --- inletd with the bridge -----------------------------------------------------------------------

def position(seq):
    """A fleet.position v1 payload; accuracy_m carries the sequence number."""
    return json.dumps({"lat": 52.52, "lon": 13.405, "speed_kmh": seq % 300, "heading_deg": 270,
                       "status": "delivering", "accuracy_m": seq})


def seq_of(m):
    return m["value"]["payload"]["accuracy_m"]


TENANT = """devices:
  - id: truck-0042
    groups: [trucks]
acl:
  - effect: deny
    devices: ["{denied}"]
    schemas: ["*"]
    reason: "this device is blocked"
  - effect: allow
    devices: ["*"]
    schemas: ["fleet.position@v1"]
"""


def tenant(denied="nobody"):
    return TENANT.replace("{denied}", denied)


def bridge_yaml(upstreams, extra=""):
    return "module: mqtt_bridge\nshutdown_timeout: 3s\n" + extra + "upstreams:\n" + upstreams


def upstream_yaml(port, client_id, prefix, mqtt_version="5", extra="", scheme="tcp",
                  host="127.0.0.1", mappings_extra=""):
    return f"""  - uri: {scheme}://{host}:{port}
    client_id: {client_id}
    mqtt_version: "{mqtt_version}"
    reconnect_min: 200ms
    reconnect_max: 2s
{extra}    mappings:
      - pattern: "{prefix}/{{tenant}}/{{device}}/position"
        schema: fleet.position
        version: v1
      - pattern: "{prefix}/{{tenant}}/{{device}}/{{schema}}/{{version}}"
{mappings_extra}"""


def set_linger(d, linger):
    """Replace the harness's kafka.linger in d's inletd.yaml (before d.start())."""
    path = os.path.join(d.dir, "inletd.yaml")
    with open(path) as f:
        text = f.read()
    assert "linger: 2ms" in text
    with open(path, "w") as f:
        f.write(text.replace("linger: 2ms", f"linger: {linger}"))


def pool_yaml(name, sessions=None):
    """A named upstream in a shared group of its own, with the default pool or `sessions`."""
    extra = f"    name: {name}\n    shared_group: {unique('grp')}\n"
    return extra + (f"    sessions: {sessions}\n" if sessions else "")


def start_inletd(tenants, bridge, **kw):
    wait_ready = kw.pop("wait_ready", True)
    d = Inletd(tenants, extra_confd={"mqtt_bridge.yaml": bridge}, **kw)
    return d.start(wait_ready=wait_ready)


def metrics(d):
    st, _, text = curl(d.admin_url + "/metrics", timeout=5)
    assert st == 200
    out = {}
    for line in text.splitlines():
        if line.startswith("inlet_mqtt_bridge_"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def metric(d, name, **labels):
    """Sum of a bridge metric over the series whose labels include `labels`."""
    total = 0.0
    for series, value in metrics(d).items():
        base = series.split("{", 1)[0]
        if base != name:
            continue
        if all(f'{k}="{v}"' in series for k, v in labels.items()):
            total += value
    return total


def wait_for(cond, timeout=30, step=0.1, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what}")


def wait_connected(d, name, timeout=20):
    """Every session of the upstream's pool connected."""
    def all_connected():
        m = metrics(d)
        want = [v for k, v in m.items() if k.startswith("inlet_mqtt_bridge_sessions{")
                and f'upstream="{name}"' in k]
        got = [v for k, v in m.items() if k.startswith("inlet_mqtt_bridge_connected{")
               and f'upstream="{name}"' in k]
        return want and got and want[0] >= 1 and got[0] == want[0]
    wait_for(all_connected, timeout, what=f"upstream {name} connected\n{d.logs()}")


def consume_since(since_ms, topic=TOPIC, bootstrap=None):
    """Messages of topic produced since since_ms (Kafka timestamps), in partition-offset order."""
    out = subprocess.run(["kcat", "-C", "-b", bootstrap or BOOTSTRAP, "-t", topic, "-o",
                          f"s@{since_ms}", "-e", "-J", "-q"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    msgs = []
    for line in out.stdout.splitlines():
        if not line.strip():
            continue
        m = json.loads(line)
        hdrs = m.get("headers") or []
        m["headers"] = {hdrs[i]: hdrs[i + 1] for i in range(0, len(hdrs), 2)}
        m["value"] = json.loads(m["payload"]) if m.get("payload") else None
        msgs.append(m)
    msgs.sort(key=lambda m: (m["partition"], m["offset"]))
    return msgs


def events_of(since_ms, devices, bootstrap=None):
    devices = set(devices)
    return [m for m in consume_since(since_ms, bootstrap=bootstrap)
            if m["value"] and m["value"].get("device_id") in devices]


def now_ms():
    return int(time.time() * 1000) - 1000  # Kafka's clock is this host's; allow for rounding


# --- tests ----------------------------------------------------------------------------------------

def test_envelope_headers_and_partition(broker):
    """A QoS 1 MQTT 5 message becomes the canonical envelope with the core's headers, the MQTT
    topic and the user properties; it is keyed and partitioned by device."""
    ten, dev, since = unique("br"), unique("truck"), now_ms()
    up = upstream_yaml(broker.port, unique("inlet"), "fleet",
                       extra="    name: fleet-broker\n    event_id_property: event-id\n")
    d = start_inletd({ten: tenant()}, bridge_yaml(up))
    try:
        wait_connected(d, "fleet-broker")
        topic = f"fleet/{ten}/{dev}/position"
        publish(broker.port, topic, position(1), props=[("trip", "T-17"), ("event-id", "ev-1.a")])
        publish(broker.port, topic, position(2), props=[("inlet-tenant", "evil")])
        wait_for(lambda: len(events_of(since, [dev])) == 2, what="two events in Kafka")
        first, second = events_of(since, [dev])
        v = first["value"]
        assert list(v) == ["tenant", "device_id", "event_id", "ts", "received_at", "schema",
                           "schema_version", "source", "payload"]
        assert v["tenant"] == ten and v["device_id"] == dev
        assert v["event_id"] == "ev-1.a"
        assert v["schema"] == "fleet.position" and v["schema_version"] == "v1"
        assert v["source"] == "mqtt-bridge"
        assert v["ts"] == v["received_at"]
        assert v["payload"] == json.loads(position(1))
        assert first["key"] == dev
        assert first["partition"] == java_partition(dev, PARTITIONS)
        h = first["headers"]
        assert h["inlet-tenant"] == ten
        assert h["inlet-schema"] == "fleet.position"
        assert h["inlet-schema-version"] == "v1"
        assert h["inlet-source"] == "mqtt-bridge"
        assert h["content-type"] == "application/json"
        assert h["inlet-event-id"] == "ev-1.a"
        assert h["mqtt-topic"] == topic
        assert h["trip"] == "T-17"
        assert "event-id" not in h  # consumed as the event id
        # A device cannot forge the core's headers through user properties.
        assert second["headers"]["inlet-tenant"] == ten
        assert second["value"]["event_id"] == second["headers"]["inlet-event-id"]
        assert metric(d, "inlet_mqtt_bridge_messages_accepted_total", upstream="fleet-broker") == 2
    finally:
        assert d.stop() == 0, d.logs()


def test_mqtt311_qos0_and_schema_from_topic(broker):
    """Two upstreams on one broker: MQTT 3.1.1 and MQTT 5; QoS 0 and 1; schema and version
    taken from the topic; the event format with the device's own event id and ts."""
    ten, dev, since = unique("br"), unique("truck"), now_ms()
    ups = (upstream_yaml(broker.port, unique("v3"), "v3", mqtt_version="3.1.1",
                         extra="    name: v3\n") +
           upstream_yaml(broker.port, unique("v5"), "v5", extra="    name: v5\n",
                         mappings_extra="""      - pattern: "events/{tenant}/{device}"
        format: event
        schema: fleet.position
        version: v1
"""))
    d = start_inletd({ten: tenant()}, bridge_yaml(ups))
    try:
        wait_connected(d, "v3")
        wait_connected(d, "v5")
        publish(broker.port, f"v3/{ten}/{dev}/position", position(1), version="mqttv311")
        publish(broker.port, f"v3/{ten}/{dev}/position", position(2), qos=0, version="mqttv311")
        publish(broker.port, f"v5/{ten}/{dev}/fleet.position/v1", position(3), qos=0)
        event = {"ts": "2026-11-21T10:15:30.123+01:00", "event_id": "evt-42",
                 "payload": json.loads(position(4))}
        publish(broker.port, f"events/{ten}/{dev}", json.dumps(event), version="mqttv5")
        wait_for(lambda: len(events_of(since, [dev])) == 4, what="four events")
        got = {seq_of(m): m for m in events_of(since, [dev])}
        assert sorted(got) == [1, 2, 3, 4]
        assert got[1]["headers"]["mqtt-topic"] == f"v3/{ten}/{dev}/position"
        assert got[3]["value"]["schema"] == "fleet.position"
        assert got[4]["value"]["event_id"] == "evt-42"
        assert got[4]["value"]["ts"] == "2026-11-21T09:15:30.123Z"
        assert metric(d, "inlet_mqtt_bridge_messages_received_total", upstream="v3", qos="0") == 1
        assert metric(d, "inlet_mqtt_bridge_messages_received_total", upstream="v3", qos="1") == 1
        assert metric(d, "inlet_mqtt_bridge_messages_received_total", upstream="v5", qos="0") == 1
    finally:
        assert d.stop() == 0, d.logs()


def test_rejected_messages_are_acknowledged_and_never_produced(broker):
    """ACL deny, invalid payload, unknown schema, unknown tenant, unmapped topic, retained and
    oversized messages: counted by reason, acknowledged upstream (nothing is redelivered), never
    produced, and they do not block the messages behind them."""
    ten, dev, blocked, since = unique("br"), unique("truck"), unique("blocked"), now_ms()
    # Retained before the bridge subscribes: the broker sends it with RETAIN=1 (§3.3.1.3).
    publish(broker.port, f"rj/{ten}/{dev}/position", position(99), extra=["-r"])
    up = upstream_yaml(broker.port, unique("inlet"), "rj",
                       extra="    name: rj\n    subscriptions: [\"rj/#\"]\n")
    d = start_inletd({ten: tenant(denied=blocked)},
                     bridge_yaml(up, extra="max_payload_size: 1k\n"))
    try:
        wait_connected(d, "rj")
        bad = [
            (f"rj/{ten}/{blocked}/position", position(1), "forbidden"),
            (f"rj/{ten}/{dev}/position", '{"lat": 123}', "invalid"),
            (f"rj/{ten}/{dev}/position", "not json", "invalid"),
            (f"rj/{ten}/{dev}/fleet.position/v9", position(1), "unknown_schema"),
            (f"rj/nosuchtenant/{dev}/position", position(1), "unauthenticated"),
            (f"rj/{ten}/{'d' * 129}/position", position(1), "unmapped"),
            (f"rj/{ten}/{dev}/x/y/z", position(1), "unmapped"),
            (f"rj/{ten}/{dev}/position", json.dumps({"pad": "x" * 2000}), "too_large"),
        ]
        for topic, payload, _ in bad:
            publish(broker.port, topic, payload)
        publish(broker.port, f"rj/{ten}/{dev}/position", position(7))
        wait_for(lambda: len(events_of(since, [dev])) == 1, what="the good message")
        time.sleep(0.5)
        assert [seq_of(m) for m in events_of(since, [dev, blocked])] == [7]
        expected = {"retained": 1}
        for _, _, reason in bad:
            expected[reason] = expected.get(reason, 0) + 1
        for reason, n in expected.items():
            got = metric(d, "inlet_mqtt_bridge_messages_rejected_total", upstream="rj",
                         reason=reason)
            assert got == n, f"{reason}: {got} != {n}\n{d.logs()}"
        assert metric(d, "inlet_mqtt_bridge_messages_accepted_total", upstream="rj") == 1
        assert "message rejected (forbidden)" in d.logs()
        # All acknowledged: the resumed session holds nothing to redeliver, and the retained
        # message is not sent again to an existing subscription (MQTT 5 retain handling 1).
        d.stop()
        d.start()
        wait_connected(d, "rj")
        time.sleep(1)
        assert metric(d, "inlet_mqtt_bridge_messages_received_total", upstream="rj") == 0
    finally:
        assert d.stop() == 0, d.logs()


def test_per_device_ordering(broker):
    """Each device's messages reach Kafka in the order it published them."""
    ten, since = unique("br"), now_ms()
    devices = [unique("truck") for _ in range(3)]
    up = upstream_yaml(broker.port, unique("inlet"), "ord", extra="    name: ord\n")
    d = start_inletd({ten: tenant()}, bridge_yaml(up))
    try:
        wait_connected(d, "ord")
        n = 150
        streams = [Stream(broker.port, f"ord/{ten}/{dev}/position",
                          [position(i) for i in range(n)], rate=400) for dev in devices]
        for s in streams:
            s.start()
        for s in streams:
            s.join(60)
            assert s.error is None, s.error
        wait_for(lambda: len(events_of(since, devices)) >= n * len(devices), timeout=60,
                 what="every message")
        evs = events_of(since, devices)
        for dev in devices:
            seqs = [seq_of(m) for m in evs if m["value"]["device_id"] == dev]
            assert seqs == list(range(n)), f"{dev}: {seqs[:20]}..."
            parts = {m["partition"] for m in evs if m["value"]["device_id"] == dev}
            assert parts == {java_partition(dev, PARTITIONS)}
    finally:
        assert d.stop() == 0, d.logs()


def first_occurrences(seqs):
    seen, out = set(), []
    for s in seqs:
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_restart_mid_stream_loses_nothing(broker, how):
    """2,000 messages published while inletd is stopped (SIGTERM, or SIGKILL: a crash) and
    started again mid-stream: afterwards every one is in Kafka. Duplicates are allowed (a
    message Kafka had but whose PUBACK was not sent); each device's first copies are in order."""
    ten, since = unique("br"), now_ms()
    devices = [unique("truck") for _ in range(4)]
    client = unique("inlet")
    up = upstream_yaml(broker.port, client, "rs", extra="    name: rs\n")
    d = start_inletd({ten: tenant()}, bridge_yaml(up))
    per_device = 500
    streams = [Stream(broker.port, f"rs/{ten}/{dev}/position",
                      [position(i) for i in range(per_device)], rate=80) for dev in devices]
    try:
        wait_connected(d, "rs")
        for s in streams:
            s.start()
        wait_for(lambda: metric(d, "inlet_mqtt_bridge_messages_accepted_total", upstream="rs")
                 >= 300, timeout=30, what="the stream to flow")
        if how == "sigkill":
            d.proc.send_signal(signal.SIGKILL)
        rc = d.stop()
        assert rc == (0 if how == "sigterm" else -signal.SIGKILL), d.logs()
        time.sleep(1.5)  # the stream goes on into the broker's queue meanwhile
        d.start()
        for s in streams:
            s.join(60)
            assert s.error is None, s.error
        total = per_device * len(devices)

        def complete():
            evs = events_of(since, devices)
            return len({(m["value"]["device_id"], seq_of(m))
                        for m in evs}) == total
        wait_for(complete, timeout=90, step=0.5, what="every message in Kafka")
        evs = events_of(since, devices)
        for dev in devices:
            seqs = [seq_of(m) for m in evs if m["value"]["device_id"] == dev]
            assert first_occurrences(seqs) == list(range(per_device)), dev
        assert len(evs) - total <= 64, f"{len(evs) - total} duplicates"
        assert f"connected to tcp://127.0.0.1:{broker.port} as {client} (MQTT 5, resumed " \
               "session)" in d.logs()
    finally:
        for s in streams:
            if s.proc.poll() is None:
                s.proc.kill()
        assert d.stop() == 0, d.logs()


def test_shared_subscription_splits_between_instances(broker):
    """Two inletd instances in one $share group: every message is produced at least once and
    both instances take part."""
    ten, since = unique("br"), now_ms()
    devices = [unique("truck") for _ in range(6)]
    group = unique("grp")
    extra = f"    name: shared\n    shared_group: {group}\n"
    d1 = start_inletd({ten: tenant()},
                      bridge_yaml(upstream_yaml(broker.port, unique("a"), "sh", extra=extra)))
    d2 = start_inletd({ten: tenant()},
                      bridge_yaml(upstream_yaml(broker.port, unique("b"), "sh", extra=extra)))
    try:
        wait_connected(d1, "shared")
        wait_connected(d2, "shared")
        n = 100
        streams = [Stream(broker.port, f"sh/{ten}/{dev}/position",
                          [position(i) for i in range(n)], rate=300) for dev in devices]
        for s in streams:
            s.start()
        for s in streams:
            s.join(60)
            assert s.error is None, s.error
        total = n * len(devices)
        wait_for(lambda: len({(m["value"]["device_id"], seq_of(m))
                              for m in events_of(since, devices)}) == total, timeout=60,
                 what="every message")
        a1 = metric(d1, "inlet_mqtt_bridge_messages_accepted_total", upstream="shared")
        a2 = metric(d2, "inlet_mqtt_bridge_messages_accepted_total", upstream="shared")
        assert a1 > 0 and a2 > 0, (a1, a2)
        assert a1 + a2 >= total
        assert f"$share/{group}/sh/+/+/position" in broker.logs()
    finally:
        assert d1.stop() == 0, d1.logs()
        assert d2.stop() == 0, d2.logs()


@pytest.mark.parametrize("version", ["5", "3.1.1"])
def test_pool_sessions_take_messages_in_parallel(broker, version):
    """The sessions of a pool each have a message in flight at once: with a Kafka round trip
    of at least 400 ms (linger), 16 messages take about one round trip, not 16. Mosquitto
    takes $share filters from MQTT 3.1.1 clients too."""
    ten, since = unique("br"), now_ms()
    devs = [unique("truck") for _ in range(16)]
    client = unique("inlet")
    d = Inletd({ten: tenant()}, extra_confd={"mqtt_bridge.yaml": bridge_yaml(
        upstream_yaml(broker.port, client, "par", mqtt_version=version,
                      extra=pool_yaml("par", sessions=16)))})
    set_linger(d, "400ms")
    d.start()
    try:
        wait_connected(d, "par")
        time.sleep(0.5)  # the SUBACKs
        for i in range(1, 16):
            assert f"as {client}-s{i} (MQTT {version}, new session)" in d.logs()
        procs = [subprocess.Popen(["mosquitto_pub", "-p", str(broker.port), "-q", "1", "-i",
                                   unique("pub"), "-t", f"par/{ten}/{dev}/position", "-m",
                                   position(i)]) for i, dev in enumerate(devs)]
        t0 = time.time()
        for p in procs:
            assert p.wait(30) == 0
        wait_for(lambda: metric(d, "inlet_mqtt_bridge_messages_accepted_total", upstream="par")
                 >= 16, timeout=30, step=0.02, what="16 messages")
        took = time.time() - t0
        print(f"\n16 messages in {took:.2f}s")
        assert took < 3.0, f"{took:.2f}s: the sessions did not work in parallel\n{d.logs()}"
        assert {m["value"]["device_id"] for m in events_of(since, devs)} == set(devs)
        assert "share a copy of Eclipse Paho" not in d.logs()
    finally:
        assert d.stop() == 0, d.logs()


def test_pool_sigkill_with_many_in_flight_loses_nothing(broker):
    """inletd with the default pool, a Kafka round trip of 20 ms and a steady stream, killed
    while dozens of messages are in flight: the next inletd resumes every session, the broker
    redelivers what was not acknowledged, and every message is in Kafka; a duplicate is at
    most one message per session (in Kafka, not yet acknowledged upstream)."""
    ten, since = unique("br"), now_ms()
    devs = [unique("truck") for _ in range(4)]
    client = unique("inlet")
    d = Inletd({ten: tenant()}, extra_confd={"mqtt_bridge.yaml": bridge_yaml(
        upstream_yaml(broker.port, client, "pk", extra=pool_yaml("pk")))})
    set_linger(d, "20ms")
    d.start()
    per_device = 1000
    streams = [Stream(broker.port, f"pk/{ten}/{dev}/position",
                      [position(i) for i in range(per_device)], rate=500) for dev in devs]
    try:
        wait_connected(d, "pk")
        sessions = metric(d, "inlet_mqtt_bridge_sessions", upstream="pk")
        assert sessions == 64
        time.sleep(0.5)  # the SUBACKs
        for s in streams:
            s.start()
        wait_for(lambda: metric(d, "inlet_mqtt_bridge_messages_accepted_total", upstream="pk")
                 >= 800, timeout=30, step=0.02, what="the stream to flow")
        # 2,000 msg/s against a 20 ms round trip: about 40 sessions have one in flight.
        d.proc.send_signal(signal.SIGKILL)
        assert d.stop() == -signal.SIGKILL
        time.sleep(1)  # the stream goes on into the sessions' queues meanwhile
        d.start()
        for s in streams:
            s.join(60)
            assert s.error is None, s.error
        total = per_device * len(devs)

        def complete():
            return len({(m["value"]["device_id"], seq_of(m))
                        for m in events_of(since, devs)}) == total
        wait_for(complete, timeout=90, step=0.5, what="every message in Kafka")
        evs = events_of(since, devs)
        redelivered = metric(d, "inlet_mqtt_bridge_messages_redelivered_total", upstream="pk")
        print(f"\n{len(evs) - total} duplicates, {redelivered:.0f} redelivered")
        assert len(evs) - total <= sessions, f"{len(evs) - total} duplicates"
        # The broker resent what it had sent and not had acknowledged (DUP).
        assert redelivered >= 10
        assert d.logs().count("resumed session") == 64, d.logs()
    finally:
        for s in streams:
            if s.proc.poll() is None:
                s.proc.kill()
        assert d.stop() == 0, d.logs()


class NoSharedSubscriptions(threading.Thread):
    """A stand-in MQTT 5 broker that says Shared Subscription Available = 0 (5.0 §3.2.2.3.13)
    and refuses every SUBSCRIBE with 0x9E: records the client ids that connect."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.open = {}  # client id -> connected now
        self.subscribes = 0

    def run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    @staticmethod
    def read_packet(conn):
        head = conn.recv(1)
        if not head:
            return None, b""
        n, shift = 0, 0
        while True:
            b = conn.recv(1)[0]
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        body = b""
        while len(body) < n:
            chunk = conn.recv(n - len(body))
            if not chunk:
                return None, b""
            body += chunk
        return head[0] >> 4, body

    def serve(self, conn):
        client_id = None
        try:
            while True:
                ptype, body = self.read_packet(conn)
                if ptype is None or ptype == raw.DISCONNECT:
                    break
                if ptype == raw.CONNECT:
                    # protocol name, level, flags, keep-alive, properties, then the client id
                    i = 2 + body[1] + 4
                    plen, j = 0, 0
                    while True:
                        b = body[i + j]
                        plen |= (b & 0x7F) << (7 * j)
                        j += 1
                        if not b & 0x80:
                            break
                    i += j + plen
                    idlen = int.from_bytes(body[i:i + 2], "big")
                    client_id = body[i + 2:i + 2 + idlen].decode()
                    with self.lock:
                        self.open[client_id] = True
                    conn.sendall(raw.packet(raw.CONNACK, 0, bytes([0, 0]) + raw.props_block(
                        raw.prop(raw.P_SHARED_SUB, 0))))
                elif ptype == raw.SUBSCRIBE:
                    with self.lock:
                        self.subscribes += 1
                    i, filters = 2 + 1 + body[2], 0  # packet id, properties (short)
                    while i < len(body):
                        i += 2 + int.from_bytes(body[i:i + 2], "big") + 1
                        filters += 1
                    conn.sendall(raw.packet(raw.SUBACK, 0, body[:2] + b"\x00" +
                                            b"\x9e" * filters))
                elif ptype == raw.PINGREQ:
                    conn.sendall(raw.packet(raw.PINGRESP, 0, b""))
        except OSError:
            pass
        finally:
            conn.close()
            if client_id:
                with self.lock:
                    self.open[client_id] = False

    def connected(self):
        with self.lock:
            return sorted(c for c, up in self.open.items() if up)

    def stop(self):
        self.sock.close()


def test_pool_without_shared_subscriptions_falls_back_to_one_session():
    """An MQTT 5 broker that has no shared subscriptions: the other sessions of the pool leave
    and stay off, so that a broker that would treat the filters as ordinary ones cannot hand
    every message to every session; the first keeps retrying its refused SUBSCRIBE."""
    fake = NoSharedSubscriptions()
    fake.start()
    ten, client = unique("br"), unique("inlet")
    d = start_inletd({ten: tenant()}, bridge_yaml(upstream_yaml(
        fake.port, client, "ns", extra=pool_yaml("ns", sessions=4))))
    try:
        wait_for(lambda: "does not offer shared subscriptions" in d.logs(), what="the error")
        wait_for(lambda: fake.connected() == [client], what="one session left")
        wait_for(lambda: fake.subscribes >= 2, what="the first session retrying")
        time.sleep(1)
        assert fake.connected() == [client]
        assert metric(d, "inlet_mqtt_bridge_connected", upstream="ns") == 1
        assert "upstream ns[1]: disconnected; stays off" in d.logs()
    finally:
        assert d.stop() == 0, d.logs()
        fake.stop()


def test_tls_client_certificate_and_password_file():
    """ssl:// with a private CA, a client certificate and a password read from a file (by a
    pool of two, so that a second copy of Paho does TLS too); a second upstream that trusts the
    wrong CA never connects."""
    certs = tempfile.mkdtemp(prefix="bridge-tls-")
    make_ca(certs, "ca")
    make_ca(certs, "other-ca")
    cert, key = make_cert(certs, "ca", "server", "localhost", server=True)
    ccert, ckey = make_cert(certs, "ca", "client", "inlet-bridge")
    pwfile = os.path.join(certs, "passwd")
    subprocess.run(["mosquitto_passwd", "-b", "-c", pwfile, "inlet", "s3cret pass"], check=True,
                   capture_output=True)
    os.chmod(pwfile, 0o600)
    secret = os.path.join(certs, "bridge.pass")
    with open(secret, "w") as f:
        f.write("s3cret pass\n")
    b = Mosquitto(tls={"ca": os.path.join(certs, "ca.pem"), "cert": cert, "key": key},
                  password_file=pwfile).start()
    ten, dev, since = unique("br"), unique("truck"), now_ms()
    tls = f"""    username: inlet
    password_file: {secret}
    tls:
      ca_file: {certs}/ca.pem
      cert: {ccert}
      key: {ckey}
"""
    good = upstream_yaml(b.port, unique("tls"), "tls", scheme="ssl", host="localhost",
                         extra=pool_yaml("good", sessions=2) + tls)
    wrong = upstream_yaml(b.port, unique("tls"), "tls2", scheme="mqtts", host="localhost",
                          extra="    name: wrong\n" +
                          tls.replace(f"{certs}/ca.pem", f"{certs}/other-ca.pem"))
    d = start_inletd({ten: tenant()}, bridge_yaml(good + wrong))
    try:
        wait_connected(d, "good")
        args = ["--cafile", f"{certs}/ca.pem", "--cert", ccert, "--key", ckey, "-u", "inlet",
                "-P", "s3cret pass"]
        time.sleep(0.5)  # both SUBACKs: the broker hands one message to each session
        for i in range(2):
            publish(b.port, f"tls/{ten}/{dev}/position", position(i), extra=args,
                    host="localhost")
        wait_for(lambda: len(events_of(since, [dev])) == 2, what="the TLS messages")
        wait_for(lambda: metric(d, "inlet_mqtt_bridge_connect_failures_total", upstream="wrong")
                 >= 1, what="the failing upstream")
        assert metric(d, "inlet_mqtt_bridge_connected", upstream="wrong") == 0
        assert "upstream wrong: cannot connect to mqtts://localhost" in d.logs()
        assert "s3cret" not in d.logs()
    finally:
        assert d.stop() == 0, d.logs()
        b.stop()


def test_upstream_down_at_start_is_retried(broker):
    """start() does not fail when the broker is down: the bridge retries with backoff and
    connects once it is up."""
    other = Mosquitto()
    ten, dev, since = unique("br"), unique("truck"), now_ms()
    up = upstream_yaml(other.port, unique("late"), "late", extra="    name: late\n")
    d = start_inletd({ten: tenant()}, bridge_yaml(up))
    try:
        wait_for(lambda: metric(d, "inlet_mqtt_bridge_connect_failures_total", upstream="late")
                 >= 2, what="connection attempts")
        other.start()
        wait_connected(d, "late")
        publish(other.port, f"late/{ten}/{dev}/position", position(1))
        wait_for(lambda: len(events_of(since, [dev])) == 1, what="the message")
        other.stop()
        wait_for(lambda: metric(d, "inlet_mqtt_bridge_connections_lost_total", upstream="late")
                 == 1, what="the lost connection")
        assert "connection to tcp://127.0.0.1" in d.logs()
        other.start()
        wait_connected(d, "late")
    finally:
        assert d.stop() == 0, d.logs()
        other.stop()


@pytest.mark.parametrize("pool", ["single", "shared"])
def test_kafka_unreachable_nothing_acknowledged(broker, pool):
    """inletd whose Kafka is unreachable retries the message without acknowledging it, stops
    in bounded time on SIGTERM, and an inletd with Kafka then produces every message. With a
    pool, several sessions hold a message each."""
    ten, since = unique("br"), now_ms()
    devs = [unique("truck") for _ in range(5 if pool == "single" else 40)]
    client = unique("inlet")
    extra = "    name: ku\n" if pool == "single" else pool_yaml("ku", sessions=16)
    bridge = bridge_yaml(upstream_yaml(broker.port, client, "ku", extra=extra))
    dead = start_inletd({ten: tenant()}, bridge, bootstrap=f"127.0.0.1:{free_port()}",
                        wait_ready=False)
    try:
        wait_connected(dead, "ku")
        for i, dev in enumerate(devs):
            publish(broker.port, f"ku/{ten}/{dev}/position", position(i))
        wait_for(lambda: metric(dead, "inlet_mqtt_bridge_kafka_retries_total", upstream="ku")
                 >= 2, what="retries")
        if pool == "shared":  # the broker spreads them: every session is holding one
            wait_for(lambda: metric(dead, "inlet_mqtt_bridge_messages_received_total",
                                    upstream="ku") >= 16, what="a message in every session")
        assert metric(dead, "inlet_mqtt_bridge_messages_accepted_total", upstream="ku") == 0
        t = time.time()
        assert dead.stop(timeout=40) == 0, dead.logs()
        assert time.time() - t < 30
        assert "stays unacknowledged" in dead.logs()
        if pool == "shared":
            assert dead.logs().count("stays unacknowledged") == 16, dead.logs()
            assert "16 messages not acknowledged upstream" in dead.logs()
    finally:
        dead.stop()
    d = start_inletd({ten: tenant()}, bridge)
    try:
        wait_for(lambda: len(events_of(since, devs)) >= len(devs), timeout=30,
                 what="every message after Kafka came back")
        assert {m["value"]["device_id"] for m in events_of(since, devs)} == set(devs)
    finally:
        assert d.stop() == 0, d.logs()


def test_config_errors_name_the_key():
    cases = [
        ("  - uri: tcp://127.0.0.1:1\n    client_id: x\n    mappings:\n"
         "      - pattern: \"a/{tenant}/b\"\n        schema: s\n        version: v1\n",
         "upstreams[0].mappings[0].pattern", "needs a {device} level"),
        ("  - uri: tcp://127.0.0.1:1\n    client_id: x\n    tls: {ca_file: /etc/hostname}\n"
         "    mappings:\n      - pattern: \"a/{tenant}/{device}\"\n        schema: s\n"
         "        version: v1\n", "upstreams[0].tls", "only with an ssl://"),
        ("  - uri: http://127.0.0.1:1\n    client_id: x\n    mappings:\n"
         "      - pattern: \"a/{tenant}/{device}\"\n        schema: s\n        version: v1\n",
         "upstreams[0].uri", "tcp://"),
        ("  - uri: tcp://127.0.0.1:1\n    client_id: x\n    mappings:\n"
         "      - pattern: \"a/{device}\"\n        schema: s\n        version: v1\n",
         "upstreams[0].mappings[0].pattern", "no tenant"),
        ("  - uri: tcp://127.0.0.1:1\n    client_id: x\n    shared_group: a/b\n    mappings:\n"
         "      - pattern: \"a/{tenant}/{device}\"\n        schema: s\n        version: v1\n",
         "upstreams[0].shared_group", "without '/'"),
        ("  - uri: tcp://127.0.0.1:1\n    client_id: x\n    mappings:\n"
         "      - pattern: \"a/{tenant}/{device}\"\n        version: v1\n",
         "upstreams[0].mappings[0].pattern", "no schema"),
        ("  - uri: tcp://127.0.0.1:1\n    client_id: x\n    sessions: 4\n    mappings:\n"
         "      - pattern: \"a/{tenant}/{device}\"\n        schema: s\n        version: v1\n",
         "upstreams[0].sessions", "needs shared_group"),
        ("  - uri: tcp://127.0.0.1:1\n    client_id: x\n    shared_group: g\n    sessions: 3\n"
         "    mappings:\n      - pattern: \"a/{tenant}/{device}\"\n        schema: s\n"
         "        version: v1\n"
         "  - uri: tcp://127.0.0.1:1\n    client_id: x-s2\n    mappings:\n"
         "      - pattern: \"b/{tenant}/{device}\"\n        schema: s\n        version: v1\n",
         "upstreams[1].client_id", "as x-s2 already"),
    ]
    for ups, key, text in cases:
        d = Inletd({"demo": "devices: [{id: truck-0042}]\n"},
                   extra_confd={"mqtt_bridge.yaml": bridge_yaml(ups)})
        out = subprocess.run([INLETD, "--check-config", "-c", d.dir], capture_output=True,
                             text=True)
        assert out.returncode != 0
        assert key in out.stderr and text in out.stderr, out.stderr


# --- Kafka itself goes away -----------------------------------------------------------------------

KAFKA = os.path.join(SOURCE, "contrib", "kafka")


def kafka(*args):
    out = subprocess.run([KAFKA, *args], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("pool", ["single", "shared"])
def test_kafka_outage_mid_stream(broker, pool):
    """A broker of our own is stopped while the bridge streams: messages Kafka did not
    acknowledge are retried, not acknowledged upstream; when Kafka is back every message is
    there. With the default pool, every session holds a message through the outage."""
    port, ctrl = free_port(), free_port()
    kdir = tempfile.mkdtemp(prefix="bridge-outage-kafka-")
    kafka("start", "--dir", kdir, "--port", str(port), "--controller-port", str(ctrl))
    bootstrap = f"127.0.0.1:{port}"
    d = None
    streams = []
    try:
        kafka("create-topic", TOPIC, str(PARTITIONS), "--port", str(port))
        ten, since = unique("br"), now_ms()
        devs = [unique("truck") for _ in range(1 if pool == "single" else 4)]
        extra = "    name: ko\n" if pool == "single" else pool_yaml("ko")
        d = start_inletd({ten: tenant()},
                         bridge_yaml(upstream_yaml(broker.port, unique("inlet"), "ko",
                                                   extra=extra),
                                     extra="retry_max: 500ms\n"),
                         bootstrap=bootstrap, delivery_timeout="2s")
        wait_connected(d, "ko")
        sessions = metric(d, "inlet_mqtt_bridge_sessions", upstream="ko")
        assert sessions == (1 if pool == "single" else 64)
        n = 300
        streams = [Stream(broker.port, f"ko/{ten}/{dev}/position", [position(i) for i in range(n)],
                          rate=50 if pool == "single" else 150) for dev in devs]
        for s in streams:
            s.start()
        wait_for(lambda: metric(d, "inlet_mqtt_bridge_messages_accepted_total", upstream="ko")
                 >= 50 * len(devs), what="the stream to flow")
        kafka("stop", "--dir", kdir)
        wait_for(lambda: metric(d, "inlet_mqtt_bridge_kafka_retries_total", upstream="ko")
                 >= 3 * sessions, timeout=30, what="retries while Kafka is down")
        held = metric(d, "inlet_mqtt_bridge_messages_accepted_total", upstream="ko")
        time.sleep(2)
        assert metric(d, "inlet_mqtt_bridge_messages_accepted_total", upstream="ko") == held
        kafka("start", "--dir", kdir, "--port", str(port), "--controller-port", str(ctrl))
        for s in streams:
            s.join(60)
            assert s.error is None, s.error
        total = n * len(devs)
        wait_for(lambda: len({(m["value"]["device_id"], seq_of(m))
                              for m in events_of(since, devs, bootstrap=bootstrap)}) == total,
                 timeout=120, step=1, what="every message after the outage")
        if pool == "single":
            seqs = [seq_of(m) for m in events_of(since, devs, bootstrap=bootstrap)]
            assert first_occurrences(seqs) == list(range(n))
    finally:
        for s in streams:
            if s.proc.poll() is None:
                s.proc.kill()
        if d:
            assert d.stop() == 0, d.logs()
        subprocess.run([KAFKA, "stop", "--dir", kdir], capture_output=True)


# --- benchmark (opt-in) ---------------------------------------------------------------------------

@pytest.mark.skipif(not os.environ.get("INLET_BENCH"), reason="set INLET_BENCH=1 to measure")
@pytest.mark.parametrize("linger", ["0ms", "2ms", "5ms"])
@pytest.mark.parametrize("size", [130, 1024])
@pytest.mark.parametrize("pool", ["single", "shared"])
def test_bench_drain_rate(broker, linger, size, pool):
    """Messages/s one inletd drains from a backlog: N QoS 1 messages queued in the bridge's
    persistent session(s) while inletd is stopped, then the time from the restart's connection
    until Kafka acknowledged all N (docs/BENCHMARKS.md, "MQTT bridge"). pool=single: one
    session, no shared subscription; pool=shared: a shared_group with the default pool
    (INLET_BENCH_SESSIONS sets another size)."""
    n = int(os.environ.get("INLET_BENCH_MESSAGES", "3000"))
    ten, dev, since = unique("bench"), unique("truck"), now_ms()
    extra = "    name: bench\n"
    if pool == "shared":
        extra += f"    shared_group: {unique('bench')}\n"
        if os.environ.get("INLET_BENCH_SESSIONS"):
            extra += f"    sessions: {int(os.environ['INLET_BENCH_SESSIONS'])}\n"
    d = Inletd({ten: tenant()}, extra_confd={"mqtt_bridge.yaml": bridge_yaml(
        upstream_yaml(broker.port, unique("bench"), "bench", extra=extra))})
    set_linger(d, linger)
    d.start()
    try:
        wait_connected(d, "bench")
        sessions = metric(d, "inlet_mqtt_bridge_sessions", upstream="bench")
        time.sleep(0.5)  # every session's SUBACK, so that the broker queues for all of them
        d.stop()
        base = position(0)
        pad = max(0, size - len(base))
        lines = [position(i)[:-1] + " " * (pad - len(str(i)) + 1) + "}" for i in range(n)]
        out = subprocess.run(["mosquitto_pub", "-p", str(broker.port), "-q", "1", "-t",
                              f"bench/{ten}/{dev}/position", "-l"], input="\n".join(lines) + "\n",
                             text=True, capture_output=True, timeout=300)
        assert out.returncode == 0, out.stderr
        d.start()
        wait_for(lambda: metric(d, "inlet_mqtt_bridge_connected", upstream="bench") >= 1,
                 timeout=20, step=0.01, what="a connection")
        t0 = time.time()
        wait_for(lambda: metric(d, "inlet_mqtt_bridge_messages_accepted_total",
                                upstream="bench") >= n, timeout=600, step=0.05, what="the backlog")
        rate = n / (time.time() - t0)
        print(f"\nmqtt bridge: linger={linger} payload={len(lines[0])}B sessions={sessions:.0f} "
              f"{rate:.0f} msg/s")
        assert len({seq_of(m) for m in events_of(since, [dev])}) == n
    finally:
        assert d.stop() == 0, d.logs()
