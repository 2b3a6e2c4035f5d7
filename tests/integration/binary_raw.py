"""Inlet binary protocol frames (docs/BINARY.md) built and parsed byte by byte, for tests that
send what the reference client never would (oversized headers, unknown types, data before
HELLO, more than the window) and check the server's exact answer. Stdlib only."""
import socket
import ssl
import struct
import time

HELLO, DATA, PING, BYE = 0x01, 0x02, 0x03, 0x04
WELCOME, ACK, PONG, CLOSE = 0x81, 0x82, 0x83, 0x84
LAYOUT, JSON, CBOR, SENML_JSON, SENML_CBOR = 42, 50, 60, 110, 112


def frame(ftype, body=b"", seq=0, flags=0):
    return struct.pack(">IBBH", len(body), ftype, flags, seq) + body


def hello(token=None, device=None, keep_alive=60, version=1, method=None):
    t = token.encode() if isinstance(token, str) else (token or b"")
    d = device.encode() if device else b""
    m = (1 if t else 0) if method is None else method
    return frame(HELLO, bytes([version, m]) + struct.pack(">HB", keep_alive, len(d)) + d + t)


def data(payload, schema="fleet.position", version=1, fmt=LAYOUT, seq=0, event_id=None):
    if isinstance(payload, str):
        payload = payload.encode()
    s = schema.encode() if schema else b""
    body = struct.pack(">HB", fmt, len(s)) + s + (bytes([version]) if s else b"")
    flags = 0
    if event_id:
        flags = 1
        body += bytes([len(event_id)]) + event_id.encode()
    return frame(DATA, body + payload, seq, flags)


def fleet_frame(lat, lon, speed, heading, status):
    """The fleet.position v1 layout: s4be lat*1e7, s4be lon*1e7, u2be speed*10, u2be heading,
    u1 status."""
    return struct.pack(">iiHHB", round(lat * 1e7), round(lon * 1e7), round(speed * 10), heading,
                       status)


REFERENCE = bytes.fromhex("1f4dea8007fd70d00264010e03")


class Answer:
    def __init__(self, ftype, flags, seq, body):
        self.type, self.flags, self.seq, self.body = ftype, flags, seq, body
        self.status = body[0] if ftype in (WELCOME, ACK, CLOSE) and body else None
        self.reason = b""
        if ftype == WELCOME:
            _, _, self.window, self.keep_alive, self.max_frame, self.retry_after = \
                struct.unpack(">BBHHIH", body[:12])
            self.reason = body[12:]
        elif ftype in (ACK, CLOSE):
            self.retry_after = struct.unpack(">H", body[1:3])[0]
            self.reason = body[3:]

    def __repr__(self):
        return (f"Answer(type=0x{self.type:02x}, flags={self.flags}, seq={self.seq}, "
                f"status={self.status if self.status is None else hex(self.status)}, "
                f"reason={self.reason!r})")


class Conn:
    def __init__(self, port, timeout=15, tls=None):
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock = tls.wrap_socket(s, server_hostname="localhost") if tls else s
        self.buf = b""
        self.raw = b""  # every byte received, for byte-exact checks

    def send(self, b):
        self.sock.sendall(b)

    def recv(self, timeout=15):
        """The next server frame, or None if the connection closed."""
        deadline = time.time() + timeout
        while True:
            if len(self.buf) >= 8:
                length, ftype, flags, seq = struct.unpack(">IBBH", self.buf[:8])
                if len(self.buf) >= 8 + length:
                    body = self.buf[8:8 + length]
                    self.buf = self.buf[8 + length:]
                    return Answer(ftype, flags, seq, body)
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError("no frame from the server")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, ssl.SSLError):
                chunk = b""
            if not chunk:
                return None
            self.buf += chunk
            self.raw += chunk

    def hello(self, token, **kw):
        self.send(hello(token, **kw))
        return self.recv()

    def expect_closed(self, timeout=15):
        """Frames until the server closes; raises if it does not."""
        got = []
        while True:
            a = self.recv(timeout)
            if a is None:
                return got
            got.append(a)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def start_inletd(tenants, binary_extra="", listeners=None, threads=2, **kw):
    """A real inletd with the binary module on a free port (d.binary_port) beside the HTTP
    module the harness always configures (readiness, /metrics)."""
    from harness import Inletd, free_port
    port = free_port()
    if listeners is None:
        listeners = f"  - address: 127.0.0.1:{port}\n"
    conf = f"module: binary\nthreads: {threads}\n{binary_extra}listeners:\n{listeners}"
    extra = dict(kw.pop("extra_confd", {}) or {})
    extra["binary.yaml"] = conf
    d = Inletd(tenants, extra_confd=extra, **kw)
    d.binary_port = port
    return d.start()
