"""The binary module frees what it holds when a connection ends before Kafka answered and when
inletd stops with frames still waiting for Kafka: the DATA frames a client sent before a
violation CLOSE, and the pending records of connections that Kafka never answered ("zombies")
at teardown. Each test ends with inletd's exit status: under the ASan build (detect_leaks=1)
a leak makes it non-zero."""
import time

import binary_raw as br
from harness import Inletd, curl, free_port, sha256_hex, unique

RUN = unique("binteardown")
DEV = f"{RUN}-dev"
TOK = unique("tok")
TENANTS = {"demo": f"""devices: [{{id: {DEV}}}]
tokens: [{{sha256: {sha256_hex(TOK)}, device: {DEV}}}]
acl: [{{effect: allow, schemas: ["*"]}}]
"""}


def inletd(binary_extra="", wait_ready=True, **kw):
    port = free_port()
    conf = f"module: binary\nthreads: 1\n{binary_extra}listeners:\n  - address: 127.0.0.1:{port}\n"
    d = Inletd(TENANTS, extra_confd={"binary.yaml": conf}, **kw)
    d.binary_port = port
    return d.start(wait_ready=wait_ready)


def frames(n, first_seq=0):
    return b"".join(br.data(br.REFERENCE, seq=first_seq + i, event_id=f"{RUN}-{first_seq + i}")
                    for i in range(n))


def test_frames_submitted_before_a_violation_close_are_freed():
    d = inletd()
    try:
        for k in range(5):
            c = br.Conn(d.binary_port)
            assert c.hello(TOK).status == 0
            # four frames submitted, then an unknown frame type in the same segment
            c.send(frames(4, 10 * k) + br.frame(0x7F))
            got = c.expect_closed()
            assert got[-1].type == br.CLOSE and got[-1].status == 0x82, got
            c.close()
        time.sleep(1)  # Kafka's answers come for closed connections
        # the loop publishes its hot counters once per iteration: the gauge is back to 0
        st, _, body = curl(d.admin_url + "/metrics")
        text = body.decode() if isinstance(body, bytes) else body
        assert st == 200
        assert 'inlet_binary_frames_total{module="binary",type="data"} 20' in text, text
        assert 'inlet_binary_frames_in_flight{module="binary"} 0' in text, text
    finally:
        rc = d.stop()
    assert rc == 0, d.logs()


def test_zombie_connections_with_pending_records_at_stop_are_freed():
    # Kafka never answers (nothing listens on the bootstrap port); stop does not wait for it
    d = inletd("shutdown_timeout: 0s\n", wait_ready=False,
               bootstrap=f"127.0.0.1:{free_port()}", delivery_timeout="120s")
    try:
        zombie = br.Conn(d.binary_port)
        assert zombie.hello(TOK).status == 0
        zombie.send(frames(3) + br.frame(0x7F))  # closed with 3 frames waiting for Kafka
        assert zombie.expect_closed()[-1].status == 0x82
        zombie.close()
        open_ = br.Conn(d.binary_port)
        assert open_.hello(TOK).status == 0
        open_.send(frames(5, 100))  # still open with 5 frames waiting at stop
        try:  # no ACK: Kafka does not answer (a refusal 0x88 would also do)
            a = open_.recv(timeout=1)
            assert a is not None and (a.type, a.status) == (br.ACK, 0x88), a
        except TimeoutError:
            pass
        time.sleep(0.5)
    finally:
        rc = d.stop()
    assert rc == 0, d.logs()
