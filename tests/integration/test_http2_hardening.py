"""HTTP/2 limits inletd adds to h2o 2.2 (modules/http/h2guard.c), spoken by a scripted client
(the python h2 package) over cleartext HTTP/2 with prior knowledge:
  - streams still receiving their request beyond http2_max_concurrent_streams: REFUSED_STREAM;
  - a body over max_body_size: 413, then RST_STREAM(NO_ERROR), never REFUSED_STREAM;
  - stream resets / new streams faster than the configured rate: GOAWAY(ENHANCE_YOUR_CALM)."""
import json
import socket
import time

import h2.config
import h2.connection
import h2.errors
import h2.events
import pytest

from harness import FLEET_EVENT, Inletd, sha256_hex, unique

TOKEN = unique("tok")


@pytest.fixture(scope="module")
def inletd():
    d = Inletd({"demo": f"""devices:
  - id: truck-0042
tokens:
  - sha256: {sha256_hex(TOKEN)}
    device: truck-0042
acl:
  - effect: allow
    schemas: ["*"]
"""}, http_extra="http2_cleartext: true\nhttp2_max_concurrent_streams: 4\n"
                  "http2_max_requests_per_second: 100\nhttp2_max_resets_per_second: 50\n").start()
    yield d
    assert d.stop() == 0, d.logs()


class Client:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.conn.initiate_connection()
        self.flush()
        self.events = []
        self.closed = False
        # The server's SETTINGS first: frames sent in the very read that creates the connection
        # pass before inletd's checks are in place (docs/HTTP.md, HTTP/2 limits).
        self.pump(lambda c: c.of(h2.events.RemoteSettingsChanged), timeout=5)

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def pump(self, until, timeout=10):
        """Read events until until(self) or timeout; returns until(self)."""
        deadline = time.time() + timeout
        while not until(self) and not self.closed and time.time() < deadline:
            self.sock.settimeout(max(0.05, deadline - time.time()))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                data = b""
            if not data:
                self.closed = True
                break
            self.events += self.conn.receive_data(data)
            try:
                self.flush()
            except OSError:
                self.closed = True
        return until(self)

    def of(self, kind, stream_id=None):
        return [e for e in self.events if isinstance(e, kind) and
                (stream_id is None or getattr(e, "stream_id", None) == stream_id)]

    def status(self, stream_id):
        for e in self.of(h2.events.ResponseReceived, stream_id):
            return int(dict(e.headers)[b":status"])
        return None

    def goaway(self):
        t = self.of(h2.events.ConnectionTerminated)
        return t[0] if t else None


def post_headers(path="/ingest", token=TOKEN, length=None):
    hdrs = [(":method", "POST"), (":scheme", "http"), (":authority", "inlet"), (":path", path),
            ("content-type", "application/json")]
    if token:
        hdrs.append(("authorization", f"Bearer {token}"))
    if length is not None:
        hdrs.append(("content-length", str(length)))
    return hdrs


def get_headers(path="/healthz"):
    return [(":method", "GET"), (":scheme", "http"), (":authority", "inlet"), (":path", path)]


def test_streams_receiving_beyond_the_cap_are_refused(inletd):
    c = Client(inletd.port)
    ids = [c.conn.get_next_available_stream_id() for _ in range(1)]
    for i in range(6):
        sid = 1 + 2 * i
        c.conn.send_headers(sid, post_headers())
    c.flush()
    c.pump(lambda c: len(c.of(h2.events.StreamReset)) >= 2, timeout=5)
    resets = {e.stream_id: e.error_code for e in c.of(h2.events.StreamReset)}
    assert resets == {9: h2.errors.ErrorCodes.REFUSED_STREAM,
                      11: h2.errors.ErrorCodes.REFUSED_STREAM}, resets
    # the four admitted streams still work
    body = json.dumps({"events": [dict(FLEET_EVENT, event_id=unique("cap"))]}).encode()
    c.conn.send_data(1, body, end_stream=True)
    c.flush()
    assert c.pump(lambda c: c.status(1) is not None), c.events
    assert c.status(1) == 200
    del ids


@pytest.mark.parametrize("size", [300 * 1024, 2 * 1024 * 1024])
def test_oversize_body_is_413_then_reset_without_retry(inletd, size):
    c = Client(inletd.port)
    sid = 1
    c.conn.send_headers(sid, post_headers(length=size))
    c.flush()
    sent = 0
    chunk = b"x" * 16384
    deadline = time.time() + 30
    while time.time() < deadline and c.status(sid) is None and not c.of(h2.events.StreamReset):
        n = min(c.conn.local_flow_control_window(sid), len(chunk), size - sent)
        if n > 0:
            c.conn.send_data(sid, chunk[:n], end_stream=(sent + n == size))
            sent += n
            c.flush()
        else:  # window spent or everything sent: wait for the server
            c.pump(lambda c: (sent < size and c.conn.local_flow_control_window(sid) > 0) or
                   c.status(sid) is not None or c.of(h2.events.StreamReset), timeout=2)
    c.pump(lambda c: c.of(h2.events.StreamEnded, sid) or c.of(h2.events.StreamReset), timeout=5)
    codes = [e.error_code for e in c.of(h2.events.StreamReset)]
    assert h2.errors.ErrorCodes.REFUSED_STREAM not in codes, codes
    assert c.status(sid) == 413, (codes, c.events[-5:])
    body = b"".join(e.data for e in c.of(h2.events.DataReceived, sid))
    assert json.loads(body)["type"] == "urn:inlet:problem:too-large"
    # the client is told to stop sending, without error (RFC 9113 section 8.1)
    if sent < size:
        assert c.pump(lambda c: c.of(h2.events.StreamReset), timeout=5) or c.of(h2.events.StreamEnded, sid)
        assert all(code == h2.errors.ErrorCodes.NO_ERROR for code in codes) if codes else True
    assert c.goaway() is None and not c.closed
    # and the connection goes on
    c.conn.send_headers(3, get_headers(), end_stream=True)
    c.flush()
    assert c.pump(lambda c: c.status(3) is not None)
    assert c.status(3) == 200


def test_rapid_reset_closes_the_connection_with_enhance_your_calm(inletd):
    c = Client(inletd.port)
    for i in range(200):
        sid = 1 + 2 * i
        c.conn.send_headers(sid, post_headers())
        c.conn.reset_stream(sid, h2.errors.ErrorCodes.CANCEL)
    try:
        c.flush()
    except OSError:
        pass
    assert c.pump(lambda c: c.goaway() is not None, timeout=5), c.events[-5:]
    assert c.goaway().error_code == h2.errors.ErrorCodes.ENHANCE_YOUR_CALM
    assert c.pump(lambda c: False, timeout=5) is False and c.closed


def goaway_code(sock, timeout=5):
    """Read raw frames until a GOAWAY; its error code, or None when the socket ends first."""
    buf = b""
    deadline = time.time() + timeout
    sock.settimeout(1)
    while time.time() < deadline:
        while len(buf) >= 9:
            length = int.from_bytes(buf[:3], "big")
            if len(buf) < 9 + length:
                break
            if buf[3] == 0x7:  # GOAWAY: last stream id, error code
                return int.from_bytes(buf[13:17], "big")
            buf = buf[9 + length:]
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return None
        if not data:
            return None
        buf += data
    return None


def test_request_flood_closes_the_connection_with_enhance_your_calm(inletd):
    # Raw HEADERS frames: the h2 client would hold back beyond the 100 streams h2o announces,
    # and a flood need not.
    import hpack
    c = Client(inletd.port)
    enc = hpack.Encoder()
    frames = b""
    for i in range(300):
        block = enc.encode(get_headers())
        frames += (len(block).to_bytes(3, "big") + b"\x01\x05" +
                   (1 + 2 * i).to_bytes(4, "big") + block)  # HEADERS, END_STREAM|END_HEADERS
    try:
        c.sock.sendall(frames)
    except OSError:
        pass
    assert goaway_code(c.sock) == h2.errors.ErrorCodes.ENHANCE_YOUR_CALM


def test_a_normal_client_is_not_cut(inletd):
    c = Client(inletd.port)
    for i in range(40):
        sid = 1 + 2 * i
        c.conn.send_headers(sid, get_headers(), end_stream=True)
        c.flush()
        assert c.pump(lambda c: c.status(sid) is not None)
        assert c.status(sid) == 200
    assert c.goaway() is None


def test_new_bodies_get_503_at_their_headers_once_the_budget_is_spent():
    d = Inletd({}, http_extra="http2_cleartext: true\nmax_receiving_bytes: 64k\n").start()
    try:
        hog = Client(d.port)
        for sid in (1, 3, 5, 7):  # four bodies left half-sent: more than the 64k budget
            hog.conn.send_headers(sid, post_headers(token=None, length=200_000))
            if sid == 7:  # past the first 64k of connection window
                assert hog.pump(lambda c: c.conn.local_flow_control_window(7) >= 20_000)
            for _ in range(2):
                hog.conn.send_data(sid, b"x" * 10_000)
            hog.flush()
        time.sleep(0.5)  # a recount (every loop iteration, at least every 100 ms)
        c = Client(d.port)
        c.conn.send_headers(1, post_headers(token=None, length=1000))
        c.flush()
        assert c.pump(lambda c: c.status(1) is not None, timeout=5), c.events
        assert c.status(1) == 503
        hdrs = dict(c.of(h2.events.ResponseReceived, 1)[0].headers)
        assert b"retry-after" in hdrs
        # bodiless requests are not bodies being received: still served
        c.conn.send_headers(3, get_headers(), end_stream=True)
        c.flush()
        assert c.pump(lambda c: c.status(3) is not None) and c.status(3) == 200
    finally:
        assert d.stop() == 0, d.logs()
