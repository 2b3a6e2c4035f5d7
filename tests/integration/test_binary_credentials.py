"""Credentials stay checked while a long-lived binary-protocol connection uses them
(docs/BINARY.md, "Credential expiry"): a connection authenticated with a JWT ends when the JWT
expires, with CLOSE 0xA0 (Maximum connect time), whether or not the device is sending, and a
DATA frame after that is not produced. Real inletd, real Kafka."""
import os
import tempfile
import time

import pytest

import binary_raw as br
from harness import consume, hs256, unique

DEV = "truck-0042"
ISS = "https://auth.bincred.example"


@pytest.fixture(scope="module")
def secret():
    return os.urandom(32)


@pytest.fixture
def inletd(secret):
    d_key = tempfile.mkdtemp(prefix="inlet-bincred-")
    with open(os.path.join(d_key, "hs.key"), "wb") as f:
        f.write(secret)
    tenant = (f"devices: [{{id: {DEV}}}]\nacl: [{{effect: allow, schemas: [\"*\"]}}]\n"
              f"jwt:\n  - kid: k1\n    alg: HS256\n    secret_file: {d_key}/hs.key\n"
              f"    issuer: {ISS}\n    clock_skew: 0s\n")
    d = br.start_inletd({"demo": tenant})
    yield d
    assert d.stop() == 0, d.logs()


def token(secret, ttl):
    now = int(time.time())
    return hs256(secret, {"iss": ISS, "sub": DEV, "iat": now, "exp": now + ttl})


def test_jwt_expiry_closes_a_quiet_connection_with_0xa0(inletd, secret):
    c = br.Conn(inletd.binary_port)
    assert c.hello(token(secret, 3), keep_alive=600).status == 0
    eid = unique("bincred")
    c.send(br.data(br.REFERENCE, seq=1, event_id=eid))
    ack = c.recv()
    assert (ack.type, ack.status, ack.seq) == (br.ACK, 0, 1), ack
    start = time.time()
    got = c.expect_closed(timeout=10)
    assert [(a.type, a.status) for a in got] == [(br.CLOSE, 0xA0)], got
    assert b"expired" in got[0].reason
    assert time.time() - start < 6  # at exp, by the once-a-second sweep, not at keep alive
    assert consume("fleet.updates.v1", predicate=lambda v: v.get("event_id") == eid)
    c.close()


def test_data_after_expiry_is_not_produced(inletd, secret):
    c = br.Conn(inletd.binary_port)
    assert c.hello(token(secret, 2), keep_alive=600).status == 0
    time.sleep(2.2)  # past exp; the sweep may or may not have run yet
    eid = unique("bincred-late")
    try:
        c.send(br.data(br.REFERENCE, seq=1, event_id=eid))
    except OSError:
        pass  # already closed by the sweep
    got = c.expect_closed(timeout=10)
    assert [(a.type, a.status) for a in got] == [(br.CLOSE, 0xA0)], got
    c.close()
    assert not consume("fleet.updates.v1", predicate=lambda v: v.get("event_id") == eid)
