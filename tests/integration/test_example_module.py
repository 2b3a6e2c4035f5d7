"""The example out-of-tree module (contrib/example-module), built outside the tree against the
public header only, loaded by path from conf.d, and used over UDP."""
import json
import os
import socket
import subprocess
import tempfile

import pytest

from harness import SOURCE, Inletd, find_events, free_port, sha256_hex, unique

TOKEN = unique("tok")


@pytest.fixture(scope="module")
def module_so():
    build = tempfile.mkdtemp(prefix="udp-json-build-")
    for cmd in (["cmake", "-S", os.path.join(SOURCE, "contrib", "example-module"), "-B", build,
                 f"-DINLET_INCLUDE_DIR={SOURCE}/core/include"],
                ["cmake", "--build", build]):
        out = subprocess.run(cmd, capture_output=True, text=True)
        assert out.returncode == 0, out.stdout + out.stderr
    return os.path.join(build, "udp_json.so")


def ask(port, data, timeout=15):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(data, ("127.0.0.1", port))
        return s.recv(1024).decode()


def test_udp_json_module(module_so):
    port = free_port()
    d = Inletd({"demo": f"""devices: [{{id: truck-0042}}]
tokens: [{{sha256: {sha256_hex(TOKEN)}, device: truck-0042}}]
acl: [{{effect: allow, schemas: ["*"]}}]
"""}, extra_confd={"udp.yaml": f"module: udp_json\npath: {module_so}\naddress: 127.0.0.1:{port}\n"})
    d.start()
    try:
        eid = unique("udp")
        body = {"events": [{"use_case": "fleet.position", "schema": "v1", "event_id": eid,
                            "payload": {"lat": 1, "lon": 2, "speed_kmh": 0, "status": "idle"}}]}
        answer = ask(port, TOKEN.encode() + b"\n" + json.dumps(body).encode())
        assert answer == f"OK 1 {eid}\n"
        [m] = find_events("fleet.updates.v1", lambda v: v["event_id"] == eid)
        assert m["value"]["source"] == "udp" and m["key"] == "truck-0042"
        assert ask(port, b"wrong\n{}").startswith("ERR 401")
        bad = json.dumps({"events": [dict(body["events"][0], event_id=eid + "b",
                                          payload={"lat": 99})]}).encode()
        assert ask(port, TOKEN.encode() + b"\n" + bad).startswith("ERR 400")
        assert "module udp (udp_json 1.0.0) started" in d.logs()
    finally:
        assert d.stop() == 0, d.logs()
