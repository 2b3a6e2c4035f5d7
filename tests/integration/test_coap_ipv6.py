"""CoAP on an IPv6 listener ([::1]): coap-client over UDP (token) and DTLS-PSK, and a raw
retransmitted CON (the dedup key holds a sockaddr_in6) produced once. Skipped, saying why, where
the sandbox has no IPv6 loopback."""
import json
import os
import socket

import pytest

import coap_raw as cr
from harness import consume, sha256_hex, unique


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
            return s.getsockname()[1]
    except OSError as e:
        pytest.skip(f"no IPv6 loopback here (binding [::1] failed: {e})")


RUN = unique("coap6")
DEV = f"{RUN}-dev"
TOK = unique("tok")
PSK = unique("psk")


@pytest.fixture(scope="module")
def inletd(tmp_path_factory):
    ipv6_loopback()
    d_port, s_port = ipv6_loopback(), ipv6_loopback()
    pskf = str(tmp_path_factory.mktemp("psk") / "dev.psk")
    with open(pskf, "w") as f:
        f.write(PSK)
    os.chmod(pskf, 0o600)
    tenants = {"demo": f"""devices: [{{id: {DEV}, psk_file: {pskf}}}]
tokens: [{{sha256: {sha256_hex(TOK)}, device: {DEV}}}]
acl: [{{effect: allow, schemas: ["fleet.position@v1"]}}]
"""}
    listeners = (f"  - address: '[::1]:{d_port}'\n    allow_token: true\n"
                 f"  - address: '[::1]:{s_port}'\n    security: dtls\n")
    d = cr.start_inletd(tenants, listeners=listeners)
    d.coap_port, d.coaps_port = d_port, s_port
    yield d
    assert d.stop() == 0, d.logs()


def body(acc):
    return json.dumps({"lat": 52.52, "lon": 13.405, "speed_kmh": 61.2, "heading_deg": 270,
                       "status": "delivering", "accuracy_m": acc})


def once(acc):
    got = consume("fleet.updates.v1", predicate=lambda v: v["device_id"] == DEV and
                  v["payload"].get("accuracy_m") == acc)
    assert len(got) == 1, got
    assert got[0]["value"]["source"] == "coap"


def mark():
    return int.from_bytes(os.urandom(3), "big") / 1000.0


def test_udp_token_over_ipv6(inletd):
    acc = mark()
    code, text = cr.client(f"coap://[::1]:{inletd.coap_port}/e/fleet.position/v1?t={TOK}",
                           body(acc))
    assert code == "2.04", text
    once(acc)


def test_dtls_psk_over_ipv6(inletd):
    acc = mark()
    code, text = cr.client(f"coaps://[::1]:{inletd.coaps_port}/e/fleet.position/v1", body(acc),
                           psk=(f"{DEV}@demo", PSK))
    assert code == "2.04", text
    once(acc)


def test_retransmission_over_ipv6_produced_once(inletd):
    acc = mark()
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.settimeout(5)
    msg = cr.message(0, 2, 0x6666, b"\x06", cr.path_opts("/e/fleet.position/v1", f"t={TOK}", 50),
                     body(acc).encode())
    answers = []
    for _ in range(3):
        s.sendto(msg, ("::1", inletd.coap_port))
        answers.append(s.recv(2048))
    s.close()
    assert cr.parse(answers[0])[:3] == (2, "2.04", 0x6666)
    assert answers[1] == answers[0] and answers[2] == answers[0]
    once(acc)
