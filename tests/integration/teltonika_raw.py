"""Teltonika TCP packets built and parsed byte by byte (wiki "Teltonika Data Sending Protocols",
"Codec"), and the example packets of that documentation, for the tests, the quickstart sender and
the benchmark. Only the stdlib."""
import socket
import struct
import time


def crc16(data: bytes) -> int:
    """CRC-16/IBM (ARC): polynomial 0xA001 reflected, initial 0."""
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def imei_message(imei: str) -> bytes:
    b = imei.encode()
    return struct.pack(">H", len(b)) + b


def packet(codec: int, records: list, count=None, count2=None, crc=None, preamble=0,
           length=None) -> bytes:
    """An AVL data packet around already encoded records; the keyword arguments break it."""
    n = len(records) if count is None else count
    data = bytes([codec, n]) + b"".join(records) + bytes([n if count2 is None else count2])
    c = crc16(data) if crc is None else crc
    return struct.pack(">II", preamble, len(data) if length is None else length) + data + \
        struct.pack(">I", c)


def record8(ts_ms, priority=0, lon=0.0, lat=0.0, alt=0, angle=0, sats=0, speed=0, event=0,
            io=None) -> bytes:
    """One Codec 8 record; io: {id: (size, value)} with size 1, 2, 4 or 8."""
    io = io or {}
    out = struct.pack(">QBiihHBH", ts_ms, priority, round(lon * 1e7), round(lat * 1e7), alt,
                      angle, sats, speed)
    out += bytes([event, len(io)])
    for size, fmt in ((1, ">BB"), (2, ">BH"), (4, ">BI"), (8, ">BQ")):
        items = [(k, v[1]) for k, v in io.items() if v[0] == size]
        out += bytes([len(items)])
        for k, v in items:
            out += struct.pack(fmt, k, v)
    return out


def ack_count(b: bytes) -> int:
    return struct.unpack(">I", b)[0]


# The example packets of the Teltonika wiki ("Codec" page), as published, with what they decode
# to. Timestamps: 0x16B40D8EA30 = 1560161086000 = 2019-06-10T10:04:46Z and so on.
WIKI = {
    "codec8_1": bytes.fromhex(
        "000000000000003608010000016B40D8EA30010000000000000000000000000000000105021503010101425E0F01F10000601A014E0000000000000000010000C7CF"),
    "codec8_2": bytes.fromhex(
        "000000000000002808010000016B40D9AD80010000000000000000000000000000000103021503010101425E100000010000F22A"),
    "codec8_3": bytes.fromhex(
        "000000000000004308020000016B40D57B480100000000000000000000000000000001010101000000000000016B40D5C198010000000000000000000000000000000101010101000000020000252C"),
    "codec8e": bytes.fromhex(
        "000000000000004A8E010000016B412CEE000100000000000000000000000000000000010005000100010100010011001D00010010015E2C880002000B000000003544C87A000E000000001DD7E06A00000100002994"),
    "codec16": bytes.fromhex(
        "000000000000005F10020000016BDBC7833000000000000000000000000000000000000B05040200010000030002000B00270042563A00000000016BDBC7871800000000000000000000000000000000000B05040200010000030002000B00260042563A00000200005FB3"),
}

_ZERO_GPS = {"lon": 0, "lat": 0, "altitude_m": 0, "angle_deg": 0, "satellites": 0,
             "speed_kmh": 0}

# packet -> [(ts, payload)] as the module maps them (docs/TELTONIKA.md)
WIKI_EVENTS = {
    "codec8_1": [("2019-06-10T10:04:46.000Z", dict(
        codec="8", priority="high", **_ZERO_GPS, event_io_id=1,
        io={"21": 3, "1": 1, "66": 24079, "241": 24602, "78": 0}))],
    "codec8_2": [("2019-06-10T10:05:36.000Z", dict(
        codec="8", priority="high", **_ZERO_GPS, event_io_id=1,
        io={"21": 3, "1": 1, "66": 24080}))],
    "codec8_3": [("2019-06-10T10:01:01.000Z", dict(
        codec="8", priority="high", **_ZERO_GPS, event_io_id=1, io={"1": 0})),
        ("2019-06-10T10:01:19.000Z", dict(
            codec="8", priority="high", **_ZERO_GPS, event_io_id=1, io={"1": 1}))],
    "codec8e": [("2019-06-10T11:36:32.000Z", dict(
        codec="8E", priority="high", **_ZERO_GPS, event_io_id=1,
        io={"1": 1, "17": 29, "16": 22949000, "11": 893700218, "14": 500686954}))],
    "codec16": [("2019-07-10T12:06:54.000Z", dict(
        codec="16", priority="low", **_ZERO_GPS, event_io_id=11, generation_type=5,
        io={"1": 0, "3": 0, "11": 39, "66": 22074})),
        ("2019-07-10T12:06:55.000Z", dict(
            codec="16", priority="low", **_ZERO_GPS, event_io_id=11, generation_type=5,
            io={"1": 0, "3": 0, "11": 38, "66": 22074}))],
}


class Tracker:
    """One TCP (or TLS) connection speaking Teltonika bytes."""

    def __init__(self, port, host="127.0.0.1", timeout=15, tls_context=None):
        s = socket.create_connection((host, port), timeout=timeout)
        if tls_context is not None:
            s = tls_context.wrap_socket(s, server_hostname="localhost")
        self.sock = s
        self.timeout = timeout

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data)

    def recv_exact(self, n, timeout=None):
        """n bytes, or fewer if the server closed first."""
        self.sock.settimeout(timeout or self.timeout)
        out = b""
        while len(out) < n:
            try:
                chunk = self.sock.recv(n - len(out))
            except (ConnectionResetError, BrokenPipeError):
                break
            if not chunk:
                break
            out += chunk
        return out

    def closed(self, timeout=5):
        """True once the server closed the connection (EOF or reset)."""
        self.sock.settimeout(timeout)
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if not self.sock.recv(4096):
                    return True
            except (ConnectionResetError, BrokenPipeError):
                return True
            except socket.timeout:
                return False
        return False

    def hello(self, imei):
        """The handshake: the server's one-byte answer (1 accepted, 0 refused, None: closed)."""
        self.send(imei_message(imei))
        b = self.recv_exact(1)
        return b[0] if b else None

    def send_packet(self, data, timeout=None):
        """Send an AVL packet; the 4-byte answer as a number, None if the server closed."""
        self.send(data)
        b = self.recv_exact(4, timeout)
        return ack_count(b) if len(b) == 4 else None


def start_inletd(tenants, teltonika_extra="", listeners=None, threads=2, **kw):
    """A real inletd with the Teltonika module on a free port (d.tlt_port) beside the HTTP
    module the harness always configures (readiness, /metrics)."""
    from harness import Inletd, free_port
    port = free_port()
    if listeners is None:
        listeners = f"  - address: 127.0.0.1:{port}\n"
    conf = f"module: teltonika\nthreads: {threads}\n{teltonika_extra}listeners:\n{listeners}"
    extra = dict(kw.pop("extra_confd", {}) or {})
    extra["teltonika.yaml"] = conf
    d = Inletd(tenants, extra_confd=extra, **kw)
    d.tlt_port = port
    return d.start()
