"""CoAP client over UDP (RFC 7252): a CON POST /e/<schema>/v<version>?t=<token> of the bare
JSON payload; the answer is the piggybacked or separate response (2.04 once Kafka has it).
Retransmits as §4.2 says (ACK_TIMEOUT 2 s, doubling, 4 times). Devices may share a socket
(--connections): the token, not the source port, names the device."""
import asyncio
import json
import os
import random
import struct

CON, NON, ACK, RST = 0, 1, 2, 3
POST = 0x02
ACK_TIMEOUT, MAX_RETRANSMIT = 2.0, 4


def _option(delta, value):
    def nib(n):
        if n < 13:
            return n, b""
        if n < 269:
            return 13, bytes([n - 13])
        return 14, struct.pack(">H", n - 269)
    d, dx = nib(delta)
    ln, lx = nib(len(value))
    return bytes([(d << 4) | ln]) + dx + lx + value


def encode_request(mid, token, path, query, payload, content_format=50):
    opts, last = b"", 0
    for num, val in [(11, p.encode()) for p in path] + [(12, bytes([content_format])),
                                                        (15, query.encode())]:
        opts += _option(num - last, val)
        last = num
    return bytes([0x40 | (CON << 4) | len(token), POST]) + struct.pack(">H", mid) + token + \
        opts + b"\xff" + payload


class _Exchange:
    def __init__(self, msg, fut):
        self.msg, self.fut, self.acked, self.timer, self.tries = msg, fut, False, None, 0


class CoapConn(asyncio.DatagramProtocol):
    def __init__(self, host, port, schema, version, identity=None):
        self.host, self.port = host, port
        self.path = ["e", schema, f"v{version}"]
        self.transport = None
        self.mid = random.randrange(65536)
        self.next_token = int.from_bytes(os.urandom(4), "big")
        self.exchanges = {}  # token -> _Exchange
        self.by_mid = {}  # mid -> token, until the ACK
        self.open_lock = asyncio.Lock()
        self.on_state = lambda delta: None
        self.local = None  # (source address, 0), or None

    async def open(self):
        async with self.open_lock:
            if self.transport:
                return
            loop = asyncio.get_running_loop()
            self.transport, _ = await loop.create_datagram_endpoint(
                lambda: self, remote_addr=(self.host, self.port), local_addr=self.local)
            self.on_state(+1)

    def close(self):
        if self.transport:
            self.transport.close()
            self.transport = None
            self.on_state(-1)
        for ex in self.exchanges.values():
            if ex.timer:
                ex.timer.cancel()
            if not ex.fut.done():
                ex.fut.set_exception(ConnectionError("closed"))
        self.exchanges.clear()

    def _transmit(self, token):
        ex = self.exchanges.get(token)
        if not ex or ex.acked or ex.fut.done():
            return
        if ex.tries > MAX_RETRANSMIT:
            del self.exchanges[token]
            self.by_mid = {m: t for m, t in self.by_mid.items() if t != token}
            ex.fut.set_exception(TimeoutError("no ACK"))
            return
        self.transport.sendto(ex.msg)
        delay = ACK_TIMEOUT * random.uniform(1, 1.5) * (2 ** ex.tries)
        ex.tries += 1
        ex.timer = asyncio.get_running_loop().call_later(delay, self._transmit, token)

    def datagram_received(self, data, addr):
        if len(data) < 4 or data[0] >> 6 != 1:
            return
        mtype, tkl, code = (data[0] >> 4) & 3, data[0] & 15, data[1]
        mid = struct.unpack_from(">H", data, 2)[0]
        token = data[4:4 + tkl]
        if mtype == ACK or mtype == RST:
            sent = self.by_mid.pop(mid, None)
            if code == 0 or mtype == RST:  # an empty ACK or a RST carries no token
                token = sent
            ex = self.exchanges.get(token)
            if ex:
                ex.acked = True
                if ex.timer:
                    ex.timer.cancel()
                if mtype == RST:
                    del self.exchanges[token]
                    ex.fut.set_exception(ConnectionError("reset"))
                    return
        if mtype == CON:  # a separate response: acknowledge it
            self.transport.sendto(bytes([0x60, 0]) + struct.pack(">H", mid))
        if code == 0:
            return
        ex = self.exchanges.pop(token, None)
        if ex and not ex.fut.done():
            ex.fut.set_result(code)

    def error_received(self, exc):
        pass

    async def send(self, vehicle, device, token):
        if not self.transport:
            await self.open()
        self.mid = (self.mid + 1) & 0xFFFF
        self.next_token = (self.next_token + 1) & 0xFFFFFFFF
        tok = struct.pack(">I", self.next_token)
        payload = json.dumps(vehicle.payload(), separators=(",", ":")).encode()
        fut = asyncio.get_running_loop().create_future()
        self.exchanges[tok] = _Exchange(
            encode_request(self.mid, tok, self.path, "t=" + token, payload), fut)
        self.by_mid[self.mid] = tok
        self._transmit(tok)
        try:
            code = await fut
        finally:
            ex = self.exchanges.pop(tok, None)
            if ex and ex.timer:
                ex.timer.cancel()
        return code >> 5 == 2, f"{code >> 5}.{code & 31:02d}"
