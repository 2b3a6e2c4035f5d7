"""The CoAP module with real clients: libcoap's coap-client over UDP (token in Uri-Query) and
DTLS (PSK, certificates), CON and NON, block-wise; raw datagrams for retransmissions and
malformed messages. Every accepted event is read back from Kafka with its exact envelope;
every refusal has its code and leaves nothing in Kafka."""
import json
import os
import re
import signal
import subprocess
import time

import cbor2
import pytest

import coap_raw as cr
from harness import consume, java_partition, make_ca, make_cert, sha256_hex, unique

RUN = unique("coap")
TRUCK, SENSOR, OTHER = f"{RUN}-truck", f"{RUN}-sensor", f"{RUN}-other"
ACME_DEV = f"{RUN}-acme"  # a device of the second tenant, acme
TOK_TRUCK, TOK_SENSOR = unique("tok"), unique("tok")
PSK = unique("psk")
ENVELOPE_KEYS = ["tenant", "device_id", "event_id", "ts", "received_at", "schema",
                 "schema_version", "source", "payload"]


@pytest.fixture(scope="module")
def inletd(tmp_path_factory):
    certs = str(tmp_path_factory.mktemp("certs"))
    make_ca(certs, "demo-ca")
    make_ca(certs, "rogue-ca")
    make_ca(certs, "acme-ca")
    make_cert(certs, "demo-ca", "server", "localhost", server=True)
    make_cert(certs, "demo-ca", "dev", TRUCK)
    make_cert(certs, "rogue-ca", "rogue", TRUCK)
    make_cert(certs, "acme-ca", "acme-truck", TRUCK)  # demo's device name, acme's CA
    make_cert(certs, "acme-ca", "acme-dev", ACME_DEV)
    pskf = os.path.join(certs, "truck.psk")
    with open(pskf, "w") as f:
        f.write(PSK)
    os.chmod(pskf, 0o600)
    # both tenants write fleet.updates.v1 on purpose (distinct device ids)
    tenants = {"demo": f"""shared_topics: true
devices:
  - {{id: {TRUCK}, groups: [trucks], psk_file: {pskf}}}
  - {{id: {SENSOR}, groups: [trailers]}}
  - {{id: {OTHER}, groups: [nobody]}}
tokens:
  - {{sha256: {sha256_hex(TOK_TRUCK)}, device: {TRUCK}}}
  - {{sha256: {sha256_hex(TOK_SENSOR)}, device: {SENSOR}}}
mtls: {{ca_file: {certs}/demo-ca.pem}}
acl:
  - {{effect: allow, groups: [trucks], schemas: ["fleet.position@v1"]}}
  - {{effect: allow, groups: [trailers], schemas: ["coldchain.temp@v1"]}}
""", "acme": f"""shared_topics: true
devices:
  - {{id: {ACME_DEV}, groups: [acme-fleet]}}
mtls: {{ca_file: {certs}/acme-ca.pem}}
acl:
  - {{effect: allow, groups: [acme-fleet], schemas: ["fleet.position@v1"]}}
"""}
    from harness import free_port
    d_port, s_port, pki = free_port(), free_port(), free_port()
    listeners = (f"  - address: 127.0.0.1:{d_port}\n    allow_token: true\n"
                 f"  - address: 127.0.0.1:{s_port}\n    security: dtls\n"
                 f"  - address: 127.0.0.1:{pki}\n    security: dtls\n    psk: false\n"
                 f"    cert: {certs}/server.pem\n    key: {certs}/server.key\n"
                 f"    client_auth: require\n")
    routes = ("routes:\n"
              "  - {tenant: acme, path: /acme/pos, schema: fleet.position, version: v1}\n"
              "  - {tenant: demo, path: \"/d/{version}\", schema: fleet.position}\n")
    d = cr.start_inletd(tenants, coap_extra="max_body_size: 2k\n" + routes, listeners=listeners)
    d.coap_port, d.coaps_port, d.pki_port, d.certs = d_port, s_port, pki, certs
    yield d
    assert d.stop() == 0, d.logs()


def mark():
    return int.from_bytes(os.urandom(3), "big") / 1000.0


def fleet(**kw):
    p = {"lat": 52.52, "lon": 13.405, "speed_kmh": 61.2, "heading_deg": 270,
         "status": "delivering"}
    p.update(kw)
    return p


def uri(d, path, token=TOK_TRUCK):
    return f"coap://127.0.0.1:{d.coap_port}{path}" + (f"?t={token}" if token else "")


def records(topic, device, pred=lambda p: True):
    return [m for m in consume(topic) if m["value"] and m["value"]["device_id"] == device
            and pred(m["value"]["payload"])]


def check_envelope(m, device, schema, content_type, payload):
    v = m["value"]
    assert list(v.keys()) == ENVELOPE_KEYS
    assert v["tenant"] == "demo" and v["device_id"] == device and v["source"] == "coap"
    assert v["schema"] == schema and v["schema_version"] == "v1" and v["payload"] == payload
    assert m["key"] == device
    assert m["partition"] == java_partition(device, 12 if schema == "fleet.position" else 3)
    assert m["headers"] == {"inlet-tenant": "demo", "inlet-schema": schema,
                            "inlet-schema-version": "v1", "inlet-source": "coap",
                            "content-type": "application/json",
                            "inlet-content-type": content_type,
                            "inlet-event-id": v["event_id"]}


def accepted_once(acc, content_type="application/json", device=TRUCK):
    got = records("fleet.updates.v1", device, lambda p: p.get("accuracy_m") == acc)
    assert len(got) == 1, got
    check_envelope(got[0], device, "fleet.position", content_type, fleet(accuracy_m=acc))


def nothing(acc):
    time.sleep(1.0)
    assert records("fleet.updates.v1", TRUCK, lambda p: p.get("accuracy_m") == acc) == []


# --- accepted ---------------------------------------------------------------------------------

@pytest.mark.parametrize("non", [False, True])
def test_udp_token_con_and_non(inletd, non):
    acc = mark()
    code, text = cr.client(uri(inletd, "/e/fleet.position/v1"), json.dumps(fleet(accuracy_m=acc)),
                           non=non)
    assert code == "2.04", text
    accepted_once(acc)


def test_udp_cbor_events_batch(inletd):
    acc = mark()
    ev = {"use_case": "fleet.position", "schema": "v1", "ts": "2026-11-21T10:15:30.123Z",
          "payload": fleet(accuracy_m=acc)}
    code, text = cr.client(uri(inletd, "/ingest"), cbor2.dumps({"events": [ev]}), cf=60)
    assert code == "2.04", text
    accepted_once(acc, "application/cbor")


def test_dtls_psk(inletd):
    acc = mark()
    code, text = cr.client(f"coaps://127.0.0.1:{inletd.coaps_port}/e/fleet.position/v1",
                           json.dumps(fleet(accuracy_m=acc)), psk=(f"{TRUCK}@demo", PSK))
    assert code == "2.04", text
    accepted_once(acc)


def test_dtls_pki(inletd):
    acc = mark()
    c = inletd.certs
    code, text = cr.client(f"coaps://127.0.0.1:{inletd.pki_port}/e/fleet.position/v1",
                           json.dumps(fleet(accuracy_m=acc)),
                           cert=(f"{c}/dev.pem", f"{c}/dev.key"))
    assert code == "2.04", text
    accepted_once(acc)


def test_blockwise_upload(inletd):
    acc = mark()
    body = json.dumps(fleet(accuracy_m=acc)) + " " * 600  # several 64-byte blocks
    code, text = cr.client(uri(inletd, "/e/fleet.position/v1"), body, block=64)
    assert code == "2.04", text
    assert "c:2.04 " in text and "Block1:11/_/64" in text, text  # 12 blocks, the last echoed
    accepted_once(acc)


def test_senml_cbor_pack_becomes_events(inletd):
    battery = round(mark() % 100, 3)
    labels = {"bn": -2, "bt": -3, "n": 0, "u": 1, "v": 2, "vb": 4, "t": 6}
    pack = [{"bn": f"urn:dev:{SENSOR}:", "bt": 1763720130, "n": "temp_c", "u": "Cel", "v": -18.5},
            {"n": "battery_pct", "u": "%EL", "v": battery},
            {"n": "temp_c", "u": "Cel", "v": -18.25, "t": 60}]
    body = cbor2.dumps([{labels[k]: v for k, v in r.items()} for r in pack])
    code, text = cr.client(uri(inletd, "/e/coldchain.temp/v1", TOK_SENSOR), body, cf=112)
    assert code == "2.04", text
    got = [m for m in records("coldchain.temp.v1", SENSOR)
           if m["value"]["ts"] in ("2025-11-21T10:15:30.000Z", "2025-11-21T10:16:30.000Z")]
    first = [m for m in got if m["value"]["payload"].get("battery_pct") == battery]
    assert len(first) == 1
    check_envelope(first[0], SENSOR, "coldchain.temp", "application/senml+cbor",
                   {"temp_c": -18.5, "battery_pct": battery})
    second = [m for m in got if m["offset"] == first[0]["offset"] + 1
              and m["partition"] == first[0]["partition"]]
    assert len(second) == 1
    check_envelope(second[0], SENSOR, "coldchain.temp", "application/senml+cbor",
                   {"temp_c": -18.25})


def test_well_known_core(inletd):
    code, text = cr.client(uri(inletd, "/.well-known/core", None), method="get")
    assert code == "2.05", text
    assert '</ingest>;rt="inlet.events"' in text and "</e/{schema}/{version}>" in text
    assert "/acme/pos" not in text and "/d/" not in text  # tenants' routes are not listed


def test_routes_per_tenant(inletd):
    """/d/{version} is demo's route, /acme/pos acme's: each works for its tenant's device and is
    4.04, with nothing produced, for the other's; the defaults stay for both."""
    c = inletd.certs
    acme = {"cert": (f"{c}/acme-dev.pem", f"{c}/acme-dev.key")}
    pki = f"coaps://127.0.0.1:{inletd.pki_port}"
    acc = mark()
    code, text = cr.client(uri(inletd, "/d/v1"), json.dumps(fleet(accuracy_m=acc)))
    assert code == "2.04", text
    accepted_once(acc)
    acc = mark()
    code, text = cr.client(pki + "/acme/pos", json.dumps(fleet(accuracy_m=acc)), **acme)
    assert code == "2.04", text
    got = records("fleet.updates.v1", ACME_DEV, lambda p: p.get("accuracy_m") == acc)
    assert len(got) == 1 and got[0]["value"]["tenant"] == "acme", got
    assert got[0]["value"]["schema"] == "fleet.position"
    # the other tenant's route: 4.04, nothing produced
    acc = mark()
    code, text = cr.client(uri(inletd, "/acme/pos"), json.dumps(fleet(accuracy_m=acc)))
    assert code == "4.04", text
    code, text = cr.client(pki + "/d/v1", json.dumps(fleet(accuracy_m=acc)), **acme)
    assert code == "4.04", text
    nothing(acc)
    assert records("fleet.updates.v1", ACME_DEV, lambda p: p.get("accuracy_m") == acc) == []
    # the default resource for acme too
    acc = mark()
    code, text = cr.client(pki + "/e/fleet.position/v1", json.dumps(fleet(accuracy_m=acc)), **acme)
    assert code == "2.04", text


# --- refusals ---------------------------------------------------------------------------------

def test_refusals_produce_nothing(inletd):
    acc = mark()
    body = json.dumps(fleet(accuracy_m=acc))
    ep = "/e/fleet.position/v1"
    cases = [
        ("unauthenticated", uri(inletd, ep, None), body, 50, {}, "4.01"),
        ("bad token", uri(inletd, ep, "nope"), body, 50, {}, "4.01"),
        ("acl deny", uri(inletd, ep, TOK_SENSOR), body, 50, {}, "4.03"),
        ("invalid payload", uri(inletd, ep), json.dumps(fleet(lat=123.0, accuracy_m=acc)), 50, {},
         "4.00"),
        ("unsupported format", uri(inletd, ep), body, 0, {}, "4.15"),
        ("oversized block-wise", uri(inletd, ep), body + " " * 3000, 50, {"block": 64}, "4.13"),
        ("oversized", uri(inletd, ep), body + " " * 3000, 50, {}, "4.13"),
        ("another device", uri(inletd, "/ingest"),
         json.dumps({"events": [{"device_id": OTHER, "use_case": "fleet.position", "schema": "v1",
                                 "ts": "2026-11-21T10:15:30.123Z",
                                 "payload": fleet(accuracy_m=acc)}]}), 50, {}, "4.03"),
        ("unknown resource", uri(inletd, "/nope"), body, 50, {}, "4.04"),
    ]
    for name, u, b, cf, kw, want in cases:
        code, text = cr.client(u, b, cf=cf, **kw)
        assert code == want, (name, text)
        if name == "invalid payload":
            assert "/lat: 123 is greater than maximum 90" in text, text
    code, text = cr.client(f"coaps://127.0.0.1:{inletd.coaps_port}{ep}", body,
                           psk=(f"{TRUCK}@demo", "wrong-key"), timeout=5)
    assert code is None, text
    c = inletd.certs
    code, text = cr.client(f"coaps://127.0.0.1:{inletd.pki_port}{ep}", body,
                           cert=(f"{c}/rogue.pem", f"{c}/rogue.key"), timeout=5)
    assert code in (None, "4.01"), text
    nothing(acc)


def test_certificate_of_another_tenants_ca(inletd):
    """TRUCK is demo's device; a certificate with its name issued by acme's CA never speaks for
    demo: the CA decides the tenant (as for HTTP and MQTT), and acme lists no such device, so the
    certificate authenticates nobody (4.01). Nothing is produced."""
    c, ep = inletd.certs, "/e/fleet.position/v1"
    url = f"coaps://127.0.0.1:{inletd.pki_port}{ep}"
    acc = mark()
    code, text = cr.client(url, json.dumps(fleet(accuracy_m=acc)),
                           cert=(f"{c}/acme-truck.pem", f"{c}/acme-truck.key"), timeout=5)
    assert code == "4.01", text  # acme's CA, but not a device acme lists
    time.sleep(1.0)
    assert [m for m in consume("fleet.updates.v1")
            if m["value"] and m["value"]["payload"].get("accuracy_m") == acc] == []
    # acme's CA is live on this listener: its own device is accepted, as acme's
    acc = mark()
    code, text = cr.client(url, json.dumps(fleet(accuracy_m=acc)),
                           cert=(f"{c}/acme-dev.pem", f"{c}/acme-dev.key"))
    assert code == "2.04", text
    got = records("fleet.updates.v1", ACME_DEV, lambda p: p.get("accuracy_m") == acc)
    assert len(got) == 1 and got[0]["value"]["tenant"] == "acme", got
    assert got[0]["headers"]["inlet-tenant"] == "acme"


# --- duplicates and raw datagrams ---------------------------------------------------------------

def test_retransmitted_con_produced_once(inletd):
    acc = mark()
    u = cr.Udp(inletd.coap_port)
    msg = cr.message(0, 2, 0x4242, b"\x07\x07", cr.path_opts("/e/fleet.position/v1",
                     f"t={TOK_TRUCK}", 50), json.dumps(fleet(accuracy_m=acc)).encode())
    first = u.exchange(msg)
    assert first is not None
    t, code, mid, token, _, _ = cr.parse(first)
    assert (t, code, mid) == (2, "2.04", 0x4242)
    for _ in range(3):
        again = u.exchange(msg)
        assert again == first
    u.close()
    accepted_once(acc)


def test_duplicated_block1_blocks_produced_once(inletd):
    acc = mark()
    body = (json.dumps(fleet(accuracy_m=acc)) + " " * 100).encode()
    u = cr.Udp(inletd.coap_port)
    blocks = [body[i:i + 64] for i in range(0, len(body), 64)]
    mid = 0x5000
    for n, chunk in enumerate(blocks):
        more = n < len(blocks) - 1
        opts = cr.path_opts("/e/fleet.position/v1", f"t={TOK_TRUCK}", 50) + \
            [(27, cr.uint_opt(n << 4 | (8 if more else 0) | 2))]
        for rep in range(2):  # each block twice: once with a new Message ID
            r = u.exchange(cr.message(0, 2, mid + rep, bytes([n + 1]), opts, chunk))
            assert r is not None
            _, code, _, _, _, _ = cr.parse(r)
            if more:
                assert code == "2.31"
        mid += 2
    assert code == "2.04" or code == "4.08"  # the final block's duplicate has no transfer left
    u.close()
    accepted_once(acc)


def test_raw_datagram_violations(inletd):
    u = cr.Udp(inletd.coap_port, timeout=1.0)
    # truncated header: silently ignored (RFC 7252 §4.2, too short to be a message)
    assert u.exchange(b"\x40\x02") is None
    # token length 9..15 is a message format error: a CON is rejected with RST (§3, §4.2)
    r = u.exchange(bytes([0x49, 0x02, 0x11, 0x11]) + b"\x00" * 9)
    assert r is None or cr.parse(r)[0] == 3
    # unknown critical option (9 is unassigned, odd = critical): 4.02 Bad Option (§5.4.1)
    r = u.exchange(cr.message(0, 2, 0x1212, b"\x02", cr.path_opts("/ingest") + [(9, b"x")],
                              b"{}"))
    assert r is not None and cr.parse(r)[1] == "4.02"
    # options out of order cannot be encoded with deltas; a delta of 15 is a format error
    r = u.exchange(bytes([0x41, 0x02, 0x13, 0x13, 0x03, 0xF0]))
    assert r is None or cr.parse(r)[0] == 3
    # unknown resource: 4.04
    r = u.exchange(cr.message(0, 2, 0x1414, b"\x03", cr.path_opts("/nowhere", f"t={TOK_TRUCK}",
                                                                    50), b"{}"))
    assert r is not None and cr.parse(r)[1] == "4.04"
    u.close()
    # another client is still served
    acc = mark()
    code, text = cr.client(uri(inletd, "/e/fleet.position/v1"), json.dumps(fleet(accuracy_m=acc)))
    assert code == "2.04", text
    accepted_once(acc)


def test_bad_route_is_refused():
    from harness import INLETD, Inletd
    d = Inletd({"demo": f"devices:\n  - {{id: {TRUCK}}}\n"}, extra_confd={
        "coap.yaml": "module: coap\nroutes:\n  - path: /x/{schema}\nlisteners:\n"
                     "  - address: 127.0.0.1:0\n"})
    out = subprocess.run([INLETD, "--check-config", "-c", d.dir], capture_output=True, text=True,
                         timeout=30)
    text = out.stdout + out.stderr
    assert out.returncode != 0, text
    assert "routes[0]" in text and "form payload needs the schema and its version" in text, text


# --- PSK keys: file permissions and reloads -----------------------------------------------------

def psk_tenant(pskf):
    return {"demo": f"""devices:
  - {{id: {TRUCK}, groups: [trucks], psk_file: {pskf}}}
acl:
  - {{effect: allow, groups: [trucks], schemas: ["fleet.position@v1"]}}
"""}


@pytest.mark.parametrize("mode", [0o640, 0o604])
def test_psk_file_readable_by_others_is_refused(tmp_path, mode):
    pskf = str(tmp_path / "truck.psk")
    with open(pskf, "w") as f:
        f.write(PSK)
    os.chmod(pskf, mode)
    from harness import INLETD, Inletd
    d = Inletd(psk_tenant(pskf), extra_confd={"coap.yaml": "module: coap\nlisteners:\n"
                                              "  - address: 127.0.0.1:0\n    security: dtls\n"})
    out = subprocess.run([INLETD, "--check-config", "-c", d.dir], capture_output=True, text=True,
                         timeout=30)
    text = out.stdout + out.stderr
    assert out.returncode != 0, text
    # file:line of the tenant, the device entry, the key file and the fix
    assert re.search(r"conf\.d/tenant-demo\.yaml:\d+: .*devices\[0\]\.psk_file: " +
                     re.escape(pskf) + f": mode 0{mode:o} lets group or others read the key "
                     r"\(chmod 600\)", text), text


def test_sighup_changes_a_psk_key(tmp_path):
    pskf = str(tmp_path / "truck.psk")
    old, new = unique("old"), unique("new")
    with open(pskf, "w") as f:
        f.write(old)
    os.chmod(pskf, 0o600)
    d = cr.start_inletd(psk_tenant(pskf))
    url = f"coaps://127.0.0.1:{d.coaps_port}/e/fleet.position/v1"
    ident = f"{TRUCK}@demo"
    try:
        acc = mark()
        code, text = cr.client(url, json.dumps(fleet(accuracy_m=acc)), psk=(ident, old))
        assert code == "2.04", text
        accepted_once(acc)

        with open(pskf, "w") as f:  # the mode stays 0600
            f.write(new)
        d.proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: d.logs().count("reloaded 1 tenants") >= 1), d.logs()
        # the old key's handshake fails; the new key's works
        acc = mark()
        code, text = cr.client(url, json.dumps(fleet(accuracy_m=acc)), psk=(ident, old),
                               timeout=5)
        assert code is None, text
        nothing(acc)
        acc = mark()
        code, text = cr.client(url, json.dumps(fleet(accuracy_m=acc)), psk=(ident, new))
        assert code == "2.04", text
        accepted_once(acc)

        # a reload that makes the key world-readable fails with file:line; the key stays
        os.chmod(pskf, 0o644)
        d.proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: "reload failed" in d.logs()), d.logs()
        assert re.search(r"tenant-demo\.yaml:\d+: .*psk_file: .*mode 0644", d.logs()), d.logs()
        acc = mark()
        code, text = cr.client(url, json.dumps(fleet(accuracy_m=acc)), psk=(ident, new))
        assert code == "2.04", text
        accepted_once(acc)
    finally:
        assert d.stop() == 0, d.logs()


def wait_for(cond, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return cond()
