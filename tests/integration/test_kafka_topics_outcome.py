"""Against a private single broker: a schema whose topic does not exist is refused at once with
the topic's name and heals when the topic is created; a delivery that times out while the broker
holds the request (SIGSTOP) is answered "possibly persisted", and the event is in fact in Kafka
afterwards; kafka.missing_topic: refuse_start refuses to start naming the topic; `inletd topics`
prints the create commands the schemas declare."""
import os
import signal
import subprocess
import tempfile
import time

import pytest

from harness import (FLEET_EVENT, INLETD, SOURCE, Inletd, consume, curl, free_port, sha256_hex,
                     unique)

TOKEN = unique("tok")
KAFKA = os.path.join(SOURCE, "contrib", "kafka")
TENANTS = {"demo": f"""devices: [{{id: truck-0042}}]
tokens: [{{sha256: {sha256_hex(TOKEN)}, device: truck-0042}}]
acl: [{{effect: allow, schemas: ["*"]}}]
"""}


def kafka(*args):
    out = subprocess.run([KAFKA, *args], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.fixture(scope="module")
def broker():
    port, ctrl = free_port(), free_port()
    d = tempfile.mkdtemp(prefix="inlet-topics-kafka-")
    kafka("start", "--dir", d, "--port", str(port), "--controller-port", str(ctrl))
    with open(os.path.join(d, "kafka.pid")) as f:
        pid = int(f.read().strip())
    yield {"dir": d, "port": port, "bootstrap": f"127.0.0.1:{port}", "pid": pid}
    try:
        os.kill(pid, signal.SIGCONT)
    except OSError:
        pass
    subprocess.run([KAFKA, "stop", "--dir", d], capture_output=True)


def post(d, eid, timeout=30):
    t0 = time.time()
    st, hdrs, text = curl(d.url + "/ingest", {"events": [dict(FLEET_EVENT, event_id=eid)]},
                          token=TOKEN, timeout=timeout)
    return st, text, time.time() - t0


def test_missing_topic_refused_at_once_then_heals(broker):
    d = Inletd(TENANTS, bootstrap=broker["bootstrap"], delivery_timeout="10s").start()
    try:
        run = unique("miss")
        # Kafka can write (the cluster is fine): /readyz stays 200, the one schema is refused.
        st, text, took = post(d, f"{run}-0")
        assert st == 503, text
        assert "fleet.updates.v1" in text and "does not exist" in text, text
        assert took < 2, f"answered after {took:.1f}s: a missing topic must not wait for a timeout"
        assert curl(d.url + "/readyz")[0] == 200
        st, _, metrics = curl(d.admin_url + "/metrics")
        assert "inlet_kafka_topics_missing 4" in metrics  # no schema's topic exists yet
        assert "Kafka topic fleet.updates.v1 does not exist (needed by fleet.position@v1)" in \
            d.logs()

        kafka("create-topic", "fleet.updates.v1", "12", "--port", str(broker["port"]))
        deadline = time.time() + 20
        while time.time() < deadline:
            st, text, _ = post(d, f"{run}-1")
            if st == 200:
                break
            assert "does not exist" in text, text
            time.sleep(0.3)
        assert st == 200, text
        assert "Kafka topic fleet.updates.v1 exists now" in d.logs()
        assert "inlet_kafka_topics_missing 3" in curl(d.admin_url + "/metrics")[2]
        got = consume("fleet.updates.v1", broker["bootstrap"],
                      predicate=lambda v: v.get("event_id", "").startswith(run))
        assert [m["value"]["event_id"] for m in got] == [f"{run}-1"]
    finally:
        d.stop()


def test_sigstopped_broker_gives_possibly_persisted(broker):
    kafka("create-topic", "fleet.updates.v1", "12", "--port", str(broker["port"]))
    d = Inletd(TENANTS, bootstrap=broker["bootstrap"], delivery_timeout="3s").start()
    run = unique("maybe")
    try:
        st, text, _ = post(d, f"{run}-warm")
        assert st == 200, text  # the producer holds a connection to the broker now
        os.kill(broker["pid"], signal.SIGSTOP)
        try:
            st, text, took = post(d, f"{run}-held")
        finally:
            os.kill(broker["pid"], signal.SIGCONT)
        assert st == 503, text
        assert took >= 2.5, f"answered after {took:.1f}s, before the delivery timeout"
        assert '"status":"possibly_persisted"' in text, text
        assert "possibly persisted: resend with the same event_id" in text, text
        assert "urn:inlet:problem:possibly-persisted" in text, text
        st, _, metrics = curl(d.admin_url + "/metrics")
        assert 'inlet_kafka_delivery_failures_total{outcome="possibly_persisted"} 1' in metrics
        assert "inlet_kafka_ack_latency_seconds_count" in metrics
        assert "inlet_device_ack_latency_seconds_bucket" in metrics
        # The broker had the request in its socket: once running again it appends it, which is
        # exactly why "not persisted" would have been a lie.
        deadline = time.time() + 30
        got = []
        while time.time() < deadline and not got:
            got = consume("fleet.updates.v1", broker["bootstrap"],
                          predicate=lambda v: v.get("event_id") == f"{run}-held")
            time.sleep(0.5)
        assert len(got) == 1
    finally:
        d.stop()


def test_refuse_start_names_the_topic(broker):
    d = Inletd(TENANTS, bootstrap=broker["bootstrap"])  # configured, not started
    with open(os.path.join(d.dir, "inletd.yaml"), "a") as f:
        f.write("  missing_topic: refuse_start\n")
    # coldchain.temp.v1 and the others do not exist on this broker.
    out = subprocess.run([INLETD, "-c", d.dir], capture_output=True, text=True, timeout=60)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "refusing to start" in out.stderr and "coldchain.temp.v1" in out.stderr, out.stderr


def test_topics_command_prints_declared_sizes():
    d = Inletd(TENANTS)
    out = subprocess.run([INLETD, "topics", "-c", d.dir], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0, out.stderr
    lines = [l for l in out.stdout.splitlines() if l.startswith("kafka-topics.sh")]
    assert len(lines) == 4, out.stdout
    assert any("--topic fleet.updates.v1 --partitions 12 --replication-factor 3" in l
               for l in lines), out.stdout
    assert any("--topic coldchain.temp.v1 --partitions 3 --replication-factor 3" in l
               for l in lines), out.stdout
    assert all("--config min.insync.replicas=2" in l for l in lines)
