"""The example module (contrib/example-module) as a third-party author builds it: against an
installed prefix only (cmake --install, then find_package(InletModule)), loaded by path from
conf.d twice (two instances, one named with "name:"), used over UDP, every acknowledged event
read back from Kafka, and the instances' metrics kept apart."""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile

import pytest

from harness import BUILD, SOURCE, Inletd, curl, find_events, free_port, sha256_hex, unique

TOKEN = unique("tok")


def sanitized():
    with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
        return "INLET_SANITIZE:BOOL=ON" in f.read()


def run(*cmd):
    env = dict(os.environ)
    if sanitized():  # the installed libraries are instrumented: link the runtime too
        env["CFLAGS"] = "-g -fsanitize=address,undefined -fno-omit-frame-pointer"
        env["LDFLAGS"] = "-fsanitize=address,undefined"
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert out.returncode == 0, " ".join(cmd) + "\n" + out.stdout + out.stderr


@pytest.fixture(scope="module")
def module_so():
    tmp = tempfile.mkdtemp(prefix="udp-json-sdk-")
    prefix, src, build = (os.path.join(tmp, d) for d in ("prefix", "src", "build"))
    run("cmake", "--install", BUILD, "--prefix", prefix)
    shutil.copytree(os.path.join(SOURCE, "contrib", "example-module"), src)
    run("cmake", "-S", src, "-B", build, f"-DCMAKE_PREFIX_PATH={prefix}")
    run("cmake", "--build", build)
    yield os.path.join(build, "udp_json.so")
    shutil.rmtree(tmp, ignore_errors=True)


def ask(port, data, timeout=15):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(data, ("127.0.0.1", port))
        return s.recv(1024).decode()


def batch(eid, **payload):
    p = {"lat": 1, "lon": 2, "speed_kmh": 0, "status": "idle"}
    p.update(payload)
    return json.dumps({"events": [{"use_case": "fleet.position", "schema": "v1",
                                   "event_id": eid, "payload": p}]}).encode()


def metric(text, labels):
    m = re.search(r"^inlet_udp_datagrams_total\{" + re.escape(labels) + r"\} (\d+)$", text, re.M)
    return int(m.group(1)) if m else None


def test_udp_json_module(module_so):
    pa, pb = free_port(), free_port()
    d = Inletd({"demo": f"""devices: [{{id: truck-0042}}]
tokens: [{{sha256: {sha256_hex(TOKEN)}, device: truck-0042}}]
acl: [{{effect: allow, schemas: ["*"]}}]
"""}, extra_confd={
        "udp-a.yaml": f"module: udp_json\npath: {module_so}\naddress: 127.0.0.1:{pa}\n",
        "udp2.yaml": f"module: udp_json\nname: udp-b\npath: {module_so}\n"
                     f"address: 127.0.0.1:{pb}\nmax_inflight: 8\n"})
    d.start()
    try:
        ea, eb = unique("udpa"), unique("udpb")
        assert ask(pa, TOKEN.encode() + b"\n" + batch(ea)) == f"OK {ea}\n"
        assert ask(pb, TOKEN.encode() + b"\n" + batch(eb)) == f"OK {eb}\n"
        for eid in (ea, eb):
            [m] = find_events("fleet.updates.v1", lambda v, eid=eid: v["event_id"] == eid)
            assert m["value"]["source"] == "udp" and m["key"] == "truck-0042"
        assert ask(pa, b"wrong\n{}") == "ERR unauthenticated \n"
        bad = ask(pa, TOKEN.encode() + b"\n" + batch(ea + "b", lat=99))
        assert bad.startswith("ERR invalid "), bad
        assert find_events("fleet.updates.v1", lambda v: v["event_id"] == ea + "b") == []

        st, _, text = curl(d.admin_url + "/metrics")
        assert st == 200
        assert metric(text, 'module="udp-a",result="ok"') == 1, text
        assert metric(text, 'module="udp-a",result="error"') == 2, text
        assert metric(text, 'module="udp-b",result="ok"') == 1, text
        assert metric(text, 'module="udp-b",result="error"') == 0, text
        logs = d.logs()
        assert "module udp-a (udp_json 1.0.0) started" in logs
        assert "module udp-b (udp_json 1.0.0) started" in logs
        assert re.search(r"\[refusal\] refused unauthenticated .*module=udp-a .*peer=127\.0\.0\.1:\d+", logs), logs
    finally:
        assert d.stop() == 0, d.logs()
