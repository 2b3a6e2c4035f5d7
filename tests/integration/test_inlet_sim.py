"""inlet-sim (tools/inlet-sim) against a real inletd and the real broker, on each protocol: a
generated tenant, a few seconds at a small scale, and the summary's acked count equals the
events of its devices in Kafka (and none is missing or extra). A tenant the daemon does not know
is counted as refused and produces nothing."""
import json
import os
import subprocess
import tempfile
import time

import pytest

from harness import INLETD, SOURCE, Inletd, consume, free_port, unique

SIM = os.path.join(SOURCE, "tools", "inlet-sim", "inlet-sim")
RUN = unique("sim")
DEVICES = 8
TOPIC = "fleet.updates.v1"


@pytest.fixture(scope="module")
def daemon():
    gen = tempfile.mkdtemp(prefix="inlet-sim-tenant-")
    out = subprocess.run([SIM, "--generate-tenant", gen, "--devices", str(DEVICES),
                          "--tenant-name", "simt", "--device-prefix", f"{RUN}-"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    with open(os.path.join(gen, "tenant-simt.yaml")) as f:
        tenant_file = f.read()
    assert oct(os.stat(os.path.join(gen, "tokens.tsv")).st_mode & 0o777) == "0o600"
    ports = {p: free_port() for p in ("mqtt", "coap", "binary")}
    extra = {
        "tenant-simt.yaml": tenant_file,
        "mqtt.yaml": f"module: mqtt\nlisteners:\n  - address: 127.0.0.1:{ports['mqtt']}\n",
        "coap.yaml": f"module: coap\nlisteners:\n  - address: 127.0.0.1:{ports['coap']}\n"
                     "    allow_token: true\n",
        "binary.yaml": f"module: binary\nlisteners:\n  - address: 127.0.0.1:{ports['binary']}\n",
    }
    d = Inletd({}, extra_confd=extra).start()
    ports["http"] = d.port
    yield d, gen, ports
    d.stop()


def sim(*args, timeout=120):
    out = subprocess.run([SIM, "--json", "--seed", "7", *args], capture_output=True, text=True,
                         timeout=timeout)
    summary = json.loads(out.stdout)
    return out.returncode, summary, out.stderr


def in_kafka(source, since_ms):
    return consume(TOPIC, since_ms=since_ms, predicate=lambda v: v.get("source") == source and
                   v.get("device_id", "").startswith(RUN + "-"))


@pytest.mark.parametrize("protocol", ["http", "mqtt", "coap", "binary"])
def test_summary_matches_kafka(daemon, protocol):
    d, gen, ports = daemon
    since = int(time.time() * 1000) - 1000
    rc, s, err = sim("--protocol", protocol, "--target", f"127.0.0.1:{ports[protocol]}",
                     "--tenant", gen, "--devices", str(DEVICES), "--rate", "4/s",
                     "--duration", "3s", "--workers", "2")
    assert rc == 0, (s, err, d.logs()[-3000:])
    # 8 vehicles at 4/s for 3 s: about 96 fixes, each answered
    assert 70 <= s["sent"] <= 110, s
    assert s["acked"] == s["sent"] and s["refused"] == 0 and s["errors"] == 0, s
    assert s["connect_errors"] == 0, s
    assert s["unanswered"] == 0 and s["workers"] == 2
    lat = s["latency_ms"]
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"], lat
    # the progress line, once a second on stderr
    assert sum(1 for line in err.splitlines() if " acked " in line) >= 2, err
    msgs = in_kafka(protocol, since)
    assert len(msgs) == s["acked"], (len(msgs), s)
    assert len({m["value"]["event_id"] for m in msgs}) == len(msgs)
    devices = {m["value"]["device_id"] for m in msgs}
    assert devices == {f"{RUN}-{i:05d}" for i in range(DEVICES)}
    for m in msgs:
        assert m["key"] == m["value"]["device_id"]
        p = m["value"]["payload"]
        assert -90 <= p["lat"] <= 90 and -180 <= p["lon"] <= 180 and p["speed_kmh"] >= 0
    # the tracks move: some vehicle reports more than one position
    by_dev = {}
    for m in msgs:
        by_dev.setdefault(m["value"]["device_id"], set()).add(
            (m["value"]["payload"]["lat"], m["value"]["payload"]["lon"]))
    assert max(len(v) for v in by_dev.values()) > 1


@pytest.mark.parametrize("protocol,code", [("http", "401"), ("mqtt", "connack 0x86"),
                                           ("coap", "4.01"), ("binary", "welcome 0x86")])
def test_unknown_tokens_are_counted_refused(daemon, protocol, code):
    """The demo tenant is not loaded here: its tokens are refused in each protocol's terms."""
    d, gen, ports = daemon
    rc, s, err = sim("--protocol", protocol, "--target", f"127.0.0.1:{ports[protocol]}",
                     "--tenant", "demo", "--devices", "3", "--rate", "2/s", "--duration", "2s",
                     "--quiet")
    assert rc == 1, s
    assert s["acked"] == 0 and s["refused"] == s["sent"] > 0, s
    assert s["refused_by_code"] == {code: s["sent"]}, s
    assert s["errors"] == 0 and s["unanswered"] == 0, s
    assert err == ""


def test_generated_tenant_passes_check_config(daemon):
    d, gen, ports = daemon
    out = subprocess.run([INLETD, "--check-config", "-c", d.dir], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
