"""HTTP/2 over TLS (ALPN), mTLS with per-tenant CAs, and JWT bearer tokens, with real curl."""
import json
import os
import subprocess
import tempfile

import pytest

from harness import (FLEET_EVENT, INLET_TOKEN, Inletd, curl, find_events, free_port, make_ca,
                     make_cert, sha256_hex, unique)

TOKEN = unique("tok")


@pytest.fixture(scope="module")
def pki():
    d = tempfile.mkdtemp(prefix="inlet-pki-")
    make_ca(d, "server-ca")
    make_ca(d, "demo-ca")
    make_ca(d, "acme-ca")
    make_ca(d, "rogue-ca")
    make_cert(d, "server-ca", "server", "localhost", server=True)
    make_cert(d, "demo-ca", "truck", "truck-0042")
    make_cert(d, "acme-ca", "acme-dev", "truck-0042")  # same CN, other tenant's CA
    make_cert(d, "rogue-ca", "rogue", "truck-0042")
    with open(os.path.join(d, "hs256.key"), "wb") as f:
        f.write(os.urandom(32))
    return d


@pytest.fixture(scope="module")
def inletd(pki):
    tls_port, mtls_port = free_port(), free_port()
    tenants = {
        # both without topic_prefix: the test is about which tenant a CA names, on one topic
        "demo": f"""shared_topics: true
devices:
  - id: truck-0042
    groups: [trucks]
tokens:
  - sha256: {sha256_hex(TOKEN)}
    device: truck-0042
jwt:
  - kid: demo-hs
    alg: HS256
    secret_file: {pki}/hs256.key
    issuer: https://auth.demo.example
    audience: inlet
mtls:
  ca_file: {pki}/demo-ca.pem
  device_id_from: cn
acl:
  - effect: allow
    groups: [trucks]
    schemas: ["*"]
""",
        "acme": f"""shared_topics: true
mtls:
  ca_file: {pki}/acme-ca.pem
  allow_unlisted_devices: true
acl:
  - effect: allow
    schemas: ["*"]
""",
    }
    d = Inletd(tenants)
    listeners = f"""  - address: 127.0.0.1:{d.port}
  - address: 127.0.0.1:{tls_port}
    tls:
      cert: {pki}/server.pem
      key: {pki}/server.key
  - address: 127.0.0.1:{mtls_port}
    tls:
      cert: {pki}/server.pem
      key: {pki}/server.key
      client_auth: require
"""
    with open(os.path.join(d.dir, "conf.d", "http.yaml"), "w") as f:
        f.write(f"module: http\nthreads: 2\nlisteners:\n{listeners}")
    d.tls_url = f"https://localhost:{tls_port}"
    d.mtls_url = f"https://localhost:{mtls_port}"
    d.start()
    yield d
    assert d.stop() == 0, d.logs()


def resolve(url):
    port = url.rsplit(":", 1)[1]
    return ["--resolve", f"localhost:{port}:127.0.0.1"]


def test_http2_over_tls_with_token(inletd, pki):
    eid = unique("h2")
    ev = dict(FLEET_EVENT, event_id=eid)
    st, hdrs, text = curl(inletd.tls_url + "/ingest", {"events": [ev]}, token=TOKEN,
                          extra=["--http2", "--cacert", f"{pki}/server-ca.pem", *resolve(inletd.tls_url)])
    assert st == 200, text
    out = subprocess.run(["curl", "-sS", "--http2", "--cacert", f"{pki}/server-ca.pem",
                          *resolve(inletd.tls_url), "-o", "/dev/null", "-w", "%{http_version}",
                          inletd.tls_url + "/healthz"], capture_output=True, text=True)
    assert out.stdout == "2", out.stderr
    [m] = find_events("fleet.updates.v1", lambda v: v["event_id"] == eid)
    assert m["value"]["tenant"] == "demo"


def test_http11_over_tls_still_works(inletd, pki):
    st, _, _ = curl(inletd.tls_url + "/healthz",
                    extra=["--http1.1", "--cacert", f"{pki}/server-ca.pem",
                           *resolve(inletd.tls_url)])
    assert st == 200


def test_mtls_tenant_comes_from_the_verifying_ca(inletd, pki):
    eid = unique("mtls")
    ev = dict(FLEET_EVENT, event_id=eid)
    st, _, text = curl(inletd.mtls_url + "/ingest", {"events": [ev]},
                       extra=["--cacert", f"{pki}/server-ca.pem", "--cert", f"{pki}/truck.pem",
                              "--key", f"{pki}/truck.key", *resolve(inletd.mtls_url)])
    assert st == 200, text
    [m] = find_events("fleet.updates.v1", lambda v: v["event_id"] == eid)
    assert m["value"]["tenant"] == "demo" and m["value"]["device_id"] == "truck-0042"

    # Same CN, but acme's CA signed it: the event belongs to tenant acme, never demo.
    eid2 = unique("mtls-acme")
    ev2 = dict(FLEET_EVENT, event_id=eid2)
    st, _, text = curl(inletd.mtls_url + "/ingest", {"events": [ev2]},
                       extra=["--cacert", f"{pki}/server-ca.pem", "--cert",
                              f"{pki}/acme-dev.pem", "--key", f"{pki}/acme-dev.key",
                              *resolve(inletd.mtls_url)])
    assert st == 200, text
    [m] = find_events("fleet.updates.v1", lambda v: v["event_id"] == eid2)
    assert m["value"]["tenant"] == "acme"
    assert m["headers"]["inlet-tenant"] == "acme"


def test_mtls_unknown_ca_and_missing_cert_refused(inletd, pki):
    eid = unique("rogue")
    st, _, _ = curl(inletd.mtls_url + "/ingest", {"events": [dict(FLEET_EVENT, event_id=eid)]},
                    extra=["--cacert", f"{pki}/server-ca.pem", "--cert", f"{pki}/rogue.pem",
                           "--key", f"{pki}/rogue.key", *resolve(inletd.mtls_url)])
    assert st == 401
    # client_auth: require -> the handshake itself fails without a certificate
    st, _, _ = curl(inletd.mtls_url + "/ingest", {"events": [dict(FLEET_EVENT, event_id=eid)]},
                    extra=["--cacert", f"{pki}/server-ca.pem", *resolve(inletd.mtls_url)])
    assert st in (0, 401)
    assert not find_events("fleet.updates.v1", lambda v: v["event_id"] == eid)


def test_jwt_bearer(inletd, pki):
    out = subprocess.run([INLET_TOKEN, "jwt", "-c", inletd.dir, "--tenant", "demo", "--device",
                          "truck-0042", "--kid", "demo-hs", "--ttl", "5m"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    jwt = out.stdout.strip().splitlines()[-1]
    assert jwt.count(".") == 2
    eid = unique("jwt")
    st, _, text = curl(inletd.url + "/ingest", {"events": [dict(FLEET_EVENT, event_id=eid)]},
                       token=jwt)
    assert st == 200, text
    [m] = find_events("fleet.updates.v1", lambda v: v["event_id"] == eid)
    assert m["value"]["device_id"] == "truck-0042"
    # tampered signature
    bad = jwt[:-2] + ("AA" if not jwt.endswith("AA") else "BB")
    st, _, _ = curl(inletd.url + "/ingest", {"events": [dict(FLEET_EVENT, event_id=eid + "x")]},
                    token=bad)
    assert st == 401
