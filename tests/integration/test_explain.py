"""`inletd explain` answers what the running daemon answers: for each input (accepted, an ACL
deny by a protocol rule and by a method rule, an unknown schema, an invalid payload, a wrong
token) the decision explain prints offline from the configuration directory is the status the
daemon gives over HTTP (POST /ingest/<schema>/<version>), and the reasons match: the deciding
rule by index and file:line, the topic, the JSON pointers of the validation errors."""
import json
import os
import re
import subprocess
import tempfile

from harness import INLETD, Inletd, curl, sha256_hex, unique

TRUCK, SENSOR = unique("et"), unique("es")
TENANT = f"""devices:
  - id: truck-1
    groups: [trucks]
  - id: sensor-1
    groups: [trailers]
tokens:
  - sha256: {sha256_hex(TRUCK)}
    device: truck-1
  - sha256: {sha256_hex(SENSOR)}
    device: sensor-1
acl:
  - effect: deny
    schemas: ["driver.panic@v1"]
    protocols: [http]
    reason: "panics come over MQTT only"
  - effect: allow
    groups: [trucks]
    schemas: ["fleet.position@v1", "driver.panic@*"]
  - effect: deny
    schemas: ["coldchain.temp@v1"]
    methods: [token]
    reason: "cold-chain sensors use certificates"
  - effect: deny
    schemas: ["*"]
"""

POSITION = {"lat": 52.52, "lon": 13.405, "speed_kmh": 61.2, "heading_deg": 270,
            "status": "delivering"}
PANIC = {"lat": 52.52, "lon": 13.405}


def explain(d, schema, token, payload, device="truck-1"):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        f.write(json.dumps(payload))
    try:
        r = subprocess.run([INLETD, "explain", "-c", d.dir, "--tenant", "a", "--device", device,
                            "--schema", schema, "--token", token, "--payload", f.name],
                           capture_output=True, text=True, timeout=30)
    finally:
        os.unlink(f.name)
    assert r.returncode in (0, 1), (r.returncode, r.stderr)
    m = re.search(r"^answer: HTTP (\d+)", r.stdout, re.M)
    assert m, r.stdout
    return int(m.group(1)), r.stdout


def daemon(d, schema, token, payload):
    name, version = schema.split("@")
    st, _, body = curl(f"{d.url}/ingest/{name}/{version}", payload, token=token)
    return st, body


def line_of(d, needle, nth=1):
    path = os.path.join(d.dir, "conf.d", "tenant-a.yaml")
    with open(path) as f:
        lines = [i + 1 for i, l in enumerate(f.read().splitlines()) if needle in l]
    return path, lines[nth - 1]


def test_explain_matches_the_daemon():
    d = Inletd({"a": TENANT}).start()
    try:
        cases = [
            ("fleet.position@v1", TRUCK, POSITION, 200),
            ("driver.panic@v1", TRUCK, PANIC, 403),            # protocol rule acl[0]
            ("coldchain.temp@v1", SENSOR, {"temp_c": 4.0}, 403),  # method rule acl[2]
            ("fleet.positon@v1", TRUCK, POSITION, 400),        # unknown schema
            ("fleet.position@v1", TRUCK, dict(POSITION, lat=123.4, status="flying"), 400),
            ("fleet.position@v1", unique("wrong"), POSITION, 401),
        ]
        outputs = []
        for schema, token, payload, want in cases:
            got_daemon, body = daemon(d, schema, token, payload)
            got_explain, out = explain(d, schema, token, payload)
            assert got_daemon == want, (schema, body)
            assert got_explain == got_daemon, (schema, out, body)
            outputs.append((out, body))

        path = os.path.join(d.dir, "conf.d", "tenant-a.yaml")
        accepted, _ = outputs[0]
        rule1 = line_of(d, "- effect: allow")[1]
        assert f"acl: rule acl[1] at {path}:{rule1} allows" in accepted, accepted
        assert re.search(r"^event: \S+ -> topic fleet\.updates\.v1, key truck-1$", accepted, re.M)
        assert f"credential: opaque token of a/truck-1, tenant a tokens[0] at {path}:" in accepted

        protocol, body = outputs[1]
        rule0 = line_of(d, "- effect: deny", 1)[1]
        assert f"acl: rule acl[0] at {path}:{rule0} denies (panics come over MQTT only)" \
            in protocol, protocol
        assert "panics come over MQTT only" in body

        method, body = outputs[2]
        rule2 = line_of(d, "- effect: deny", 2)[1]
        assert f"acl: rule acl[2] at {path}:{rule2} denies (cold-chain sensors use " \
               f"certificates)" in method, method

        unknown, body = outputs[3]
        assert "decision: refused: " in unknown and "is not loaded" in unknown

        invalid, body = outputs[4]
        daemon_pointers = sorted(e["pointer"] for e in json.loads(body)["errors"])
        explain_pointers = sorted(re.findall(r"^error: \S+ (\S+): ", invalid, re.M))
        assert daemon_pointers and explain_pointers == daemon_pointers, (invalid, body)

        wrong, _ = outputs[5]
        assert "credential: bearer token refused: unknown bearer token" in wrong
    finally:
        assert d.stop() == 0, d.logs()


def test_explain_without_payload_and_with_configuration_errors():
    d = Inletd({"a": TENANT})
    r = subprocess.run([INLETD, "explain", "-c", d.dir, "--tenant", "a", "--device", "truck-1",
                        "--schema", "fleet.position@v1", "--protocol", "mqtt"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "payload: none given, not validated" in r.stdout
    assert "decision: accepted" in r.stdout
    with open(os.path.join(d.dir, "conf.d", "tenant-a.yaml"), "a") as f:
        f.write("  - effect: allow\n    schemas: [nope@v1]\n")
    r = subprocess.run([INLETD, "explain", "-c", d.dir, "--tenant", "a", "--device", "truck-1",
                        "--schema", "fleet.position@v1"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 3
    assert re.search(r"tenant-a\.yaml:\d+: acl\[4\]\.schemas\[0\]: no schema \"nope\"", r.stderr)


def test_explain_with_a_client_certificate(tmp_path):
    from harness import make_ca, make_cert
    ca = make_ca(str(tmp_path), "acme-ca")
    cert, _ = make_cert(str(tmp_path), "acme-ca", "truck", "truck-1")
    other_ca = make_ca(str(tmp_path), "other-ca")
    stranger, _ = make_cert(str(tmp_path), "other-ca", "stranger", "truck-1")
    assert other_ca
    d = Inletd({"a": TENANT + f"mtls: {{ca_file: {ca}}}\n"})

    def run(pem):
        return subprocess.run([INLETD, "explain", "-c", d.dir, "--tenant", "a", "--device",
                               "truck-1", "--schema", "coldchain.temp@v1", "--cert", pem],
                              capture_output=True, text=True, timeout=30)
    r = run(cert)
    # the method rule acl[2] denies tokens only: a certificate passes it, and then acl[3] denies
    assert "credential: certificate of a/truck-1" in r.stdout, r.stdout + r.stderr
    assert "acl: rule acl[3]" in r.stdout and r.returncode == 1, r.stdout
    r = run(stranger)
    assert "credential: certificate refused" in r.stdout, r.stdout
    assert "answer: HTTP 401" in r.stdout


def test_a_file_with_module_and_tenant_is_reported_once():
    d = Inletd({"a": TENANT}, extra_confd={"both.yaml": "module: http\ntenant: b\n"})
    r = subprocess.run([INLETD, "--check-config", "-c", d.dir], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 1
    assert r.stderr.count("both.yaml:2: a file configures either a module or a tenant") == 1, \
        r.stderr
