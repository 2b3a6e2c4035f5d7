"""CoAP helpers for the integration tests: coap-client (libcoap's, OpenSSL build) as the real
client, and raw datagrams built here for what a client library will not send (duplicates,
malformed headers)."""
import os
import re
import socket
import struct
import subprocess
import tempfile

COAP_CLIENT = "coap-client-openssl"

CF = {"json": 50, "cbor": 60, "senml+json": 110, "senml+cbor": 112, "octet-stream": 42}


def start_inletd(tenants, coap_extra="", listeners=None, **kw):
    """A real inletd with the CoAP module on free UDP ports (d.coap_port plain with tokens
    allowed, d.coaps_port DTLS) beside the harness's HTTP module (readiness, /metrics)."""
    from harness import Inletd, free_port
    d_port, s_port = free_port(), free_port()
    if listeners is None:
        listeners = (f"  - address: 127.0.0.1:{d_port}\n    allow_token: true\n"
                     f"  - address: 127.0.0.1:{s_port}\n    security: dtls\n")
    conf = f"module: coap\n{coap_extra}listeners:\n{listeners}"
    extra = dict(kw.pop("extra_confd", {}) or {})
    extra["coap.yaml"] = conf
    d = Inletd(tenants, extra_confd=extra, **kw)
    d.coap_port, d.coaps_port = d_port, s_port
    return d.start()


def client(uri, body=None, cf=50, non=False, block=None, psk=None, cert=None, method="post",
           timeout=20, repeat=None):
    """Run coap-client; returns (code such as "2.04" or None, diagnostic text). repeat: send
    the request that many times in the same session, a second apart (-G); codes(text) lists
    each answer's code."""
    args = [COAP_CLIENT, "-v", "6", "-m", method, "-B", str(timeout)]
    path = None
    if body is not None:
        if isinstance(body, str):
            body = body.encode()
        with tempfile.NamedTemporaryFile(delete=False) as f:
            f.write(body)
            path = f.name
        args += ["-t", str(cf), "-f", path]
    if non:
        args.append("-N")
    if block:
        args += ["-b", str(block)]
    if repeat:
        args += ["-G", str(repeat)]
    if psk:
        args += ["-u", psk[0], "-k", psk[1]]
    if cert:
        args += ["-c", cert[0], "-j", cert[1]]
    args.append(uri)
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=timeout + 10)
    finally:
        if path:
            os.unlink(path)
    text = out.stdout + out.stderr
    # the final response: the last PDU logged with a response code (2.31 Continue excluded)
    got = codes(text)
    return (got[-1] if got else None), text


def codes(text):
    """The response codes coap-client logged, in order (2.31 Continue excluded)."""
    return [c for c in re.findall(r"v:1 t:(?:ACK|CON|NON) c:(\d\.\d\d)", text) if c != "2.31"]


# --- raw datagrams (RFC 7252 §3) ------------------------------------------------------------

def opt_bytes(options):
    """options: [(number, bytes)] in any order; encoded sorted with deltas."""
    out = b""
    last = 0
    for num, val in sorted(options, key=lambda o: o[0]):
        delta, length = num - last, len(val)
        last = num

        def nib(v):
            if v < 13:
                return v, b""
            if v < 269:
                return 13, bytes([v - 13])
            return 14, struct.pack(">H", v - 269)
        dn, dx = nib(delta)
        ln, lx = nib(length)
        out += bytes([dn << 4 | ln]) + dx + lx + val
    return out


def uint_opt(v):
    if v == 0:
        return b""
    n = (v.bit_length() + 7) // 8
    return v.to_bytes(n, "big")


def message(mtype, code, mid, token=b"\x01", options=(), payload=b""):
    head = bytes([0x40 | mtype << 4 | len(token), code]) + struct.pack(">H", mid) + token
    return head + opt_bytes(list(options)) + ((b"\xff" + payload) if payload else b"")


def path_opts(path, query=None, cf=None):
    opts = [(11, seg.encode()) for seg in path.strip("/").split("/")]
    if cf is not None:
        opts.append((12, uint_opt(cf)))
    if query:
        opts.append((15, query.encode()))
    return opts


def parse(data):
    """(type, code "c.dd", mid, token, {option number: [values]}, payload) of a datagram."""
    t = (data[0] >> 4) & 3
    tkl = data[0] & 15
    code = f"{data[1] >> 5}.{data[1] & 31:02d}"
    mid = struct.unpack(">H", data[2:4])[0]
    token = data[4:4 + tkl]
    i, num, opts = 4 + tkl, 0, {}
    while i < len(data) and data[i] != 0xFF:
        dn, ln = data[i] >> 4, data[i] & 15
        i += 1
        for which in ("d", "l"):
            v = dn if which == "d" else ln
            if v == 13:
                v = data[i] + 13
                i += 1
            elif v == 14:
                v = struct.unpack(">H", data[i:i + 2])[0] + 269
                i += 2
            if which == "d":
                dn = v
            else:
                ln = v
        num += dn
        opts.setdefault(num, []).append(data[i:i + ln])
        i += ln
    payload = data[i + 1:] if i < len(data) else b""
    return t, code, mid, token, opts, payload


class Udp:
    def __init__(self, port, timeout=3.0):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.settimeout(timeout)
        self.addr = ("127.0.0.1", port)

    def send(self, data):
        self.s.sendto(data, self.addr)

    def recv(self):
        try:
            return self.s.recv(65536)
        except socket.timeout:
            return None

    def exchange(self, data):
        self.send(data)
        return self.recv()

    def close(self):
        self.s.close()


MAX_AGE = 14


def con_post(u, mid, token, options, payload, wait=30.0):
    """Send one CON request and collect what answers it, ACKing a separate CON response as a
    client must (RFC 7252 §5.2.2). Returns (final, seen): final is the parsed response
    (piggybacked on the ACK, or the separate CON/NON) or None after wait seconds; seen lists
    every parsed message received, the empty ACK of a separate response included."""
    import time
    u.send(message(0, 2, mid, token, options, payload))
    seen = []
    deadline = time.time() + wait
    while time.time() < deadline:
        r = u.recv()
        if r is None:
            continue
        p = parse(r)
        seen.append(p)
        t, code, rmid, rtok = p[0], p[1], p[2], p[3]
        if t == 2 and rmid == mid and code != "0.00":
            return p, seen  # piggybacked
        if t in (0, 1) and rtok == token:
            if t == 0:
                u.send(message(2, 0, rmid, b""))  # ACK the separate response
            return p, seen
    return None, seen


def max_age(p):
    v = p[4].get(MAX_AGE)
    return int.from_bytes(v[0], "big") if v else None
