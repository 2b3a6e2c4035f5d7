"""docs/OPERATIONS.md's openssl recipe, run exactly as written (the shell block between the
`<!-- recipe: pki -->` markers), then used as the doc says: an HTTPS listener with the server
certificate and client_auth, a tenant trusting the device CA with the CRL. The device
certificate gets 200 and its event is in Kafka as that tenant's device; the revoked one gets 401;
a certificate from another CA gets 401."""
import os
import re
import subprocess
import tempfile

import pytest

from harness import FLEET_EVENT, SOURCE, Inletd, curl, find_events, free_port, make_ca, \
    make_cert, unique

DOC = os.path.join(SOURCE, "docs", "OPERATIONS.md")


def recipe():
    text = open(DOC).read()
    m = re.search(r"<!-- recipe: pki -->\s*```sh\n(.*?)```\s*<!-- /recipe -->", text, re.S)
    assert m, "docs/OPERATIONS.md lost its <!-- recipe: pki --> block"
    return m.group(1)


@pytest.fixture(scope="module")
def pki():
    d = tempfile.mkdtemp(prefix="inlet-ops-pki-")
    out = subprocess.run(["bash", "-euo", "pipefail", "-c", recipe()], cwd=d,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    for f in ("acme-ca.pem", "truck-0042.pem", "truck-0042.key", "server.pem", "server.key",
              "server-ca.pem", "truck-0099.pem", "acme-crl.pem"):
        assert os.path.getsize(os.path.join(d, f)) > 0, f
    assert "truck-0042.pem: OK" in out.stdout
    make_ca(d, "rogue-ca")  # a CA the tenant does not trust, for the negative case
    make_cert(d, "rogue-ca", "rogue", "truck-0042")
    return d


@pytest.fixture(scope="module")
def daemon(pki):
    port = free_port()
    tenant = f"""devices:
  - id: truck-0042
  - id: truck-0099
mtls:
  ca_file: {pki}/acme-ca.pem
  device_id_from: cn
  crl_file: {pki}/acme-crl.pem
acl:
  - {{effect: allow, schemas: ["fleet.position@v1"]}}
"""
    d = Inletd({"acme": tenant})
    listeners = f"""  - address: 127.0.0.1:{d.port}
  - address: 127.0.0.1:{port}
    tls:
      cert: {pki}/server.pem
      key: {pki}/server.key
      client_auth: optional
"""
    with open(os.path.join(d.dir, "conf.d", "http.yaml"), "w") as f:
        f.write(f"module: http\nthreads: 1\nadmin_address: 127.0.0.1:{d.admin_port}\n"
                f"listeners:\n{listeners}")
    d.tls_url = f"https://localhost:{port}"
    d.start()
    yield d
    assert d.stop() == 0, d.logs()


def post(d, pki, name, eid):
    port = d.tls_url.rsplit(":", 1)[1]
    ev = dict(FLEET_EVENT, event_id=eid)
    ev.pop("device_id")
    return curl(d.tls_url + "/ingest", {"events": [ev]},
                extra=["--cacert", f"{pki}/server-ca.pem", "--cert", f"{pki}/{name}.pem",
                       "--key", f"{pki}/{name}.key", "--resolve", f"localhost:{port}:127.0.0.1"])


def test_device_certificate_from_the_recipe_is_accepted(daemon, pki):
    eid = unique("ops-pki")
    st, _, text = post(daemon, pki, "truck-0042", eid)
    assert st == 200, text
    [m] = find_events("fleet.updates.v1", lambda v: v.get("event_id") == eid)
    assert m["value"]["tenant"] == "acme" and m["value"]["device_id"] == "truck-0042"


def test_revoked_certificate_is_refused(daemon, pki):
    eid = unique("ops-pki-revoked")
    st, _, text = post(daemon, pki, "truck-0099", eid)
    assert st == 401, text
    assert not find_events("fleet.updates.v1", lambda v: v.get("event_id") == eid)


def test_certificate_of_another_ca_is_refused(daemon, pki):
    st, _, text = post(daemon, pki, "rogue", unique("ops-pki-rogue"))
    assert st == 401, text


def test_server_certificate_names_localhost(pki):
    out = subprocess.run(["openssl", "verify", "-CAfile", f"{pki}/server-ca.pem", "-purpose",
                          "sslserver", f"{pki}/server.pem"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
