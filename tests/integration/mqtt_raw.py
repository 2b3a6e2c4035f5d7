"""MQTT 3.1.1 / 5.0 packets built and parsed byte by byte, for tests that must send what no
well-behaved client library would (malformed varints, invalid UTF-8, topic alias 0, floods) and
check the server's exact answer. Only what the tests need; no dependencies beyond the stdlib.

Packet layouts: OASIS MQTT 3.1.1 (2014) and MQTT 5.0 (2019), sections cited per function.
"""
import re
import socket
import ssl
import struct
import time

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT, AUTH = range(8, 16)

# MQTT 5 property identifiers (5.0 §2.2.2.2) and their value types.
P_PAYLOAD_FORMAT = 0x01
P_CONTENT_TYPE = 0x03
P_SESSION_EXPIRY = 0x11
P_ASSIGNED_CLIENT_ID = 0x12
P_SERVER_KEEP_ALIVE = 0x13
P_AUTH_METHOD = 0x15
P_REASON_STRING = 0x1F
P_RECEIVE_MAXIMUM = 0x21
P_TOPIC_ALIAS_MAXIMUM = 0x22
P_TOPIC_ALIAS = 0x23
P_USER_PROPERTY = 0x26
P_MAXIMUM_PACKET_SIZE = 0x27
P_WILDCARD_SUB = 0x28
P_SUB_ID_AVAILABLE = 0x29
P_SHARED_SUB = 0x2A

_BYTE, _U16, _U32, _VARINT, _STR, _BIN, _PAIR = range(7)
_PROP_TYPES = {
    0x01: _BYTE, 0x02: _U32, 0x03: _STR, 0x08: _STR, 0x09: _BIN, 0x0B: _VARINT, 0x11: _U32,
    0x12: _STR, 0x13: _U16, 0x15: _STR, 0x16: _BIN, 0x17: _BYTE, 0x18: _U32, 0x19: _BYTE,
    0x1A: _STR, 0x1C: _STR, 0x1F: _STR, 0x21: _U16, 0x22: _U16, 0x23: _U16, 0x24: _BYTE,
    0x25: _BYTE, 0x26: _PAIR, 0x27: _U32, 0x28: _BYTE, 0x29: _BYTE, 0x2A: _BYTE,
}


# ---- encoding ----------------------------------------------------------------------------------

def varint(n):
    """Variable Byte Integer (5.0 §1.5.5, 3.1.1 §2.2.3)."""
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def utf8(s):
    """UTF-8 Encoded String: 2-byte length + bytes (5.0 §1.5.4). bytes are sent as given."""
    b = s if isinstance(s, (bytes, bytearray)) else s.encode()
    return struct.pack(">H", len(b)) + b


def prop(pid, value):
    """One MQTT 5 property; value type follows the identifier."""
    t = _PROP_TYPES[pid]
    head = varint(pid)
    if t == _BYTE:
        return head + bytes([value])
    if t == _U16:
        return head + struct.pack(">H", value)
    if t == _U32:
        return head + struct.pack(">I", value)
    if t == _VARINT:
        return head + varint(value)
    if t in (_STR, _BIN):
        return head + utf8(value)
    k, v = value
    return head + utf8(k) + utf8(v)


def props_block(*props):
    body = b"".join(props)
    return varint(len(body)) + body


def packet(ptype, flags, body):
    """Fixed header (5.0 §2.1.1) + body."""
    return bytes([(ptype << 4) | flags]) + varint(len(body)) + body


def connect(client_id="", version=5, username=None, password=None, clean=True, keep_alive=60,
            props=()):
    """CONNECT (5.0 §3.1, 3.1.1 §3.1)."""
    flags = 0x02 if clean else 0
    if username is not None:
        flags |= 0x80
    if password is not None:
        flags |= 0x40
    vh = utf8("MQTT") + bytes([version, flags]) + struct.pack(">H", keep_alive)
    if version == 5:
        vh += props_block(*props)
    pl = utf8(client_id)
    if username is not None:
        pl += utf8(username)
    if password is not None:
        pl += utf8(password)
    return packet(CONNECT, 0, vh + pl)


def publish(topic, payload=b"", qos=0, packet_id=None, dup=False, retain=False, version=5,
            props=()):
    """PUBLISH (5.0 §3.3). topic may be bytes (e.g. invalid UTF-8) or "" with a topic alias."""
    if isinstance(payload, str):
        payload = payload.encode()
    flags = (0x08 if dup else 0) | (qos << 1) | (0x01 if retain else 0)
    vh = utf8(topic)
    if qos:
        vh += struct.pack(">H", packet_id)
    if version == 5:
        vh += props_block(*props)
    return packet(PUBLISH, flags, vh + payload)


def ack(ptype, packet_id, reason=None, version=5):
    """PUBACK/PUBREC/PUBREL/PUBCOMP; PUBREL carries flags 0010 (5.0 §3.6.1)."""
    body = struct.pack(">H", packet_id)
    if version == 5 and reason is not None:
        body += bytes([reason])
    return packet(ptype, 2 if ptype == PUBREL else 0, body)


def subscribe(packet_id, filters, version=5, props=()):
    """SUBSCRIBE (5.0 §3.8): filters is a list of (filter, options byte)."""
    body = struct.pack(">H", packet_id)
    if version == 5:
        body += props_block(*props)
    for f, opts in filters:
        body += utf8(f) + bytes([opts])
    return packet(SUBSCRIBE, 2, body)


def unsubscribe(packet_id, filters, version=5):
    body = struct.pack(">H", packet_id)
    if version == 5:
        body += props_block()
    for f in filters:
        body += utf8(f)
    return packet(UNSUBSCRIBE, 2, body)


def pingreq():
    return packet(PINGREQ, 0, b"")


def disconnect(reason=0, version=5, props=()):
    if version == 5 and (reason or props):
        return packet(DISCONNECT, 0, bytes([reason]) + props_block(*props))
    return packet(DISCONNECT, 0, b"")


# ---- decoding ----------------------------------------------------------------------------------

def parse_props(b, i):
    """Properties at b[i:] (length first); returns (dict, next index). User properties: list."""
    n, i = _read_varint(b, i)
    end = i + n
    out = {}
    while i < end:
        pid, i = _read_varint(b, i)
        t = _PROP_TYPES[pid]
        if t == _BYTE:
            v = b[i]
            i += 1
        elif t == _U16:
            v = struct.unpack_from(">H", b, i)[0]
            i += 2
        elif t == _U32:
            v = struct.unpack_from(">I", b, i)[0]
            i += 4
        elif t == _VARINT:
            v, i = _read_varint(b, i)
        elif t in (_STR, _BIN):
            ln = struct.unpack_from(">H", b, i)[0]
            v = bytes(b[i + 2:i + 2 + ln])
            v = v.decode() if t == _STR else v
            i += 2 + ln
        else:
            kl = struct.unpack_from(">H", b, i)[0]
            k = bytes(b[i + 2:i + 2 + kl]).decode()
            i += 2 + kl
            vl = struct.unpack_from(">H", b, i)[0]
            v = (k, bytes(b[i + 2:i + 2 + vl]).decode())
            i += 2 + vl
            out.setdefault(pid, []).append(v)
            continue
        out[pid] = v
    return out, end


def _read_varint(b, i):
    mult, val = 1, 0
    for _ in range(4):
        c = b[i]
        i += 1
        val += (c & 0x7F) * mult
        if not c & 0x80:
            return val, i
        mult *= 128
    raise ValueError("malformed varint from the server")


class Packet:
    """A packet the server sent, decoded enough for assertions."""

    def __init__(self, ptype, flags, body, version):
        self.type, self.flags, self.body = ptype, flags, body
        self.reason = 0
        self.props = {}
        self.packet_id = None
        self.session_present = None
        self.codes = b""
        if ptype == CONNACK:
            self.session_present = bool(body[0] & 1)
            self.reason = body[1]
            if version == 5 and len(body) > 2:
                self.props, _ = parse_props(body, 2)
        elif ptype in (PUBACK, PUBREC, PUBREL, PUBCOMP):
            self.packet_id = struct.unpack_from(">H", body, 0)[0]
            if version == 5 and len(body) > 2:
                self.reason = body[2]
                if len(body) > 3:
                    self.props, _ = parse_props(body, 3)
        elif ptype in (SUBACK, UNSUBACK):
            self.packet_id = struct.unpack_from(">H", body, 0)[0]
            i = 2
            if version == 5:
                self.props, i = parse_props(body, 2)
            self.codes = bytes(body[i:])
        elif ptype == DISCONNECT:
            if body:
                self.reason = body[0]
                if len(body) > 1:
                    self.props, _ = parse_props(body, 1)

    def __repr__(self):
        return (f"<Packet type={self.type} reason=0x{self.reason:02x} id={self.packet_id} "
                f"props={self.props}>")


class Closed(Exception):
    """The server closed the connection (EOF or reset)."""


class RawClient:
    """One TCP (or TLS) connection speaking raw MQTT bytes."""

    def __init__(self, port, host="127.0.0.1", timeout=10, version=5, tls_context=None,
                 source=None):
        self.version = version
        s = socket.create_connection((host, port), timeout=timeout,
                                     source_address=(source, 0) if source else None)
        if tls_context is not None:
            s = tls_context.wrap_socket(s, server_hostname="localhost")
        self.sock = s
        self.buf = bytearray()
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

    def _fill(self, deadline):
        remaining = deadline - time.time()
        if remaining <= 0:
            raise TimeoutError("no packet from the server in time")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError) as e:
            raise Closed(str(e))
        except socket.timeout:
            raise TimeoutError("no packet from the server in time")
        if not chunk:
            raise Closed("EOF")
        self.buf += chunk

    def read(self, timeout=None):
        """The next packet; raises Closed at EOF, TimeoutError if none comes."""
        deadline = time.time() + (timeout or self.timeout)
        while True:
            if len(self.buf) >= 2:
                try:
                    n, i = _read_varint(self.buf, 1)
                except IndexError:
                    n = None
                if n is not None and len(self.buf) >= i + n:
                    first = self.buf[0]
                    body = bytes(self.buf[i:i + n])
                    del self.buf[:i + n]
                    return Packet(first >> 4, first & 0x0F, body, self.version)
            self._fill(deadline)

    def expect(self, ptype, timeout=None):
        p = self.read(timeout)
        assert p.type == ptype, f"expected packet type {ptype}, got {p!r}"
        return p

    def expect_closed(self, timeout=None):
        """Read until the server closes; returns the packets it sent before (maybe none)."""
        got = []
        deadline = time.time() + (timeout or self.timeout)
        while True:
            try:
                got.append(self.read(max(0.01, deadline - time.time())))
            except Closed:
                return got

    def connect(self, client_id="", username=None, password=None, clean=True, keep_alive=60,
                props=()):
        self.send(connect(client_id, self.version, username, password, clean, keep_alive, props))
        return self.expect(CONNACK)

    def publish(self, topic, payload=b"", qos=0, packet_id=None, **kw):
        self.send(publish(topic, payload, qos, packet_id, version=self.version, **kw))

    def publish_qos1(self, topic, payload, packet_id=1, **kw):
        """PUBLISH at QoS 1 and wait for its PUBACK."""
        self.publish(topic, payload, 1, packet_id, **kw)
        p = self.expect(PUBACK)
        assert p.packet_id == packet_id, p
        return p

    def ping(self):
        self.send(pingreq())
        self.expect(PINGRESP)


def tls_context(cafile, cert=None, key=None):
    ctx = ssl.create_default_context(cafile=cafile)
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


# ---- test setup shared by the test_mqtt*.py files ----------------------------------------------

def start_inletd(tenants, mqtt_extra="", listeners=None, threads=2, **kw):
    """A real inletd with the MQTT module on a free port (d.mqtt_port) beside the HTTP module
    the harness always configures (readiness, /metrics)."""
    from harness import Inletd, free_port
    port = free_port()
    if listeners is None:
        listeners = f"  - address: 127.0.0.1:{port}\n"
    conf = f"module: mqtt\nthreads: {threads}\n{mqtt_extra}listeners:\n{listeners}"
    extra = dict(kw.pop("extra_confd", {}) or {})
    extra["mqtt.yaml"] = conf
    d = Inletd(tenants, extra_confd=extra, **kw)
    d.mqtt_port = port
    return d.start()


def metrics(d):
    """{'name{labels}': value} from the HTTP module's /metrics (also without module="...")."""
    from harness import curl
    st, _, text = curl(d.admin_url + "/metrics")
    assert st == 200, text
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
            # the modules' series start with their instance's label: also keyed without it
            short = re.sub(r'\{module="[^"]*",?', "{", k).replace("{}", "")
            out.setdefault(short, float(v))
    return out


def fleet_event(event_id, **payload):
    """One fleet.position event object (the events form), device taken from the identity."""
    p = {"lat": 52.52, "lon": 13.405, "speed_kmh": 61.2, "heading_deg": 270,
         "status": "delivering"}
    p.update(payload)
    return {"ts": "2026-11-21T10:15:30.123Z", "use_case": "fleet.position", "schema": "v1",
            "event_id": event_id, "payload": p}
