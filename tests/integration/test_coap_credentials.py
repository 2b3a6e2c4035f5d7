"""A DTLS session lasts no longer than its client certificate (docs/COAP.md): the first request
after notAfter, and every later one of that session, is answered 4.01 "the client certificate
expired", and nothing of it is produced; a new handshake with the expired certificate fails.
Real inletd, real coap-client (one session, repeated requests), real Kafka."""
import json
import time

import pytest

import coap_raw as cr
from harness import FLEET_EVENT, consume, make_ca, make_cert, short_lived_cert, unique

DEV = unique("ctruck")


@pytest.fixture(scope="module")
def inletd(tmp_path_factory):
    certs = str(tmp_path_factory.mktemp("certs"))
    make_ca(certs, "demo-ca")
    make_cert(certs, "demo-ca", "server", "localhost", server=True)
    tenants = {"demo": f"""devices: [{{id: {DEV}}}]
mtls: {{ca_file: {certs}/demo-ca.pem}}
acl: [{{effect: allow, schemas: ["*"]}}]
"""}
    from harness import free_port
    port = free_port()
    listeners = (f"  - address: 127.0.0.1:{port}\n    security: dtls\n    psk: false\n"
                 f"    cert: {certs}/server.pem\n    key: {certs}/server.key\n"
                 f"    client_auth: require\n")
    d = cr.start_inletd(tenants, listeners=listeners)
    d.pki_port, d.certs = port, certs
    yield d
    assert d.stop() == 0, d.logs()


def event(acc):
    return json.dumps(dict(FLEET_EVENT["payload"], accuracy_m=acc))


def test_certificate_expiry_ends_the_dtls_session(inletd):
    acc = int(time.time() * 1000) % 100000 / 100.0
    cert = short_lived_cert(inletd.certs, "demo-ca", DEV, "brief", 3)
    url = f"coaps://127.0.0.1:{inletd.pki_port}/e/fleet.position/v1"
    _, text = cr.client(url, event(acc), cert=cert, repeat=7, timeout=30)
    got = cr.codes(text)
    assert got and got[0] == "2.04", text
    assert "4.01" in got, got  # notAfter passed during the session
    first = got.index("4.01")
    assert set(got[first:]) == {"4.01"}, got  # and stays refused until a new handshake
    assert "expired" in text
    stored = [m for m in consume("fleet.updates.v1")
              if m["value"] and m["value"]["device_id"] == DEV]
    assert len(stored) == first, (len(stored), got)  # only the 2.04s were produced
    # A new session with the same, now expired, certificate gets no further than the handshake.
    code, text = cr.client(url, event(acc), cert=cert, timeout=5)
    assert code != "2.04", text
