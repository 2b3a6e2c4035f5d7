"""MQTT 5 client: CONNECT with the device's id and token (password), QoS 1 PUBLISH of the bare
payload on devices/<device>/<schema>/v<version>; the PUBACK reason code is the answer. Several
publishes may be in flight, up to the server's Receive Maximum."""
import asyncio
import json
import struct

from .stream_conn import Refused, StreamConn

# Property identifier -> value type, MQTT 5 §2.2.2.2 (the ones a server may send).
_PROPS = {0x01: "b", 0x02: "i", 0x03: "s", 0x08: "s", 0x09: "d", 0x11: "i", 0x12: "s", 0x13: "h",
          0x15: "s", 0x16: "d", 0x17: "b", 0x19: "b", 0x1A: "s", 0x1C: "s", 0x1F: "s", 0x21: "h",
          0x22: "h", 0x23: "h", 0x24: "b", 0x25: "b", 0x26: "p", 0x27: "i", 0x28: "b",
          0x29: "b", 0x2A: "b", 0x0B: "v"}


def _varint(n):
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _str(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack(">H", len(b)) + b


def _props(data, i, end):
    """{id: value} of the properties in data[i:end]."""
    out = {}
    while i < end:
        pid = data[i]
        i += 1
        kind = _PROPS.get(pid)
        if kind == "b":
            out[pid], i = data[i], i + 1
        elif kind == "h":
            out[pid], i = struct.unpack_from(">H", data, i)[0], i + 2
        elif kind == "i":
            out[pid], i = struct.unpack_from(">I", data, i)[0], i + 4
        elif kind in ("s", "d"):
            n = struct.unpack_from(">H", data, i)[0]
            out[pid], i = data[i + 2:i + 2 + n], i + 2 + n
        elif kind == "p":
            for _ in range(2):
                i += 2 + struct.unpack_from(">H", data, i)[0]
        elif kind == "v":
            while data[i] & 0x80:
                i += 1
            i += 1
        else:
            break
    return out


def _read_varint(data, i):
    n, shift = 0, 0
    while True:
        b = data[i]
        n |= (b & 0x7F) << shift
        i += 1
        shift += 7
        if not b & 0x80:
            return n, i


class MqttConn(StreamConn):
    farewell = b"\xe0\x00"  # DISCONNECT, normal

    def __init__(self, host, port, schema, version, identity, client_id=None, keep_alive=60):
        super().__init__(host, port, identity, keep_alive)
        self.client_id = client_id or self.device
        self.topic = f"devices/{self.device}/{schema}/v{version}".encode()
        self.pending = {}  # packet id -> future
        self.next_id = 1

    async def _packet(self):
        hdr = await self.reader.readexactly(2)
        n, shift, b = hdr[1] & 0x7F, 7, hdr[1]
        while b & 0x80:
            b = (await self.reader.readexactly(1))[0]
            n |= (b & 0x7F) << shift
            shift += 7
        return hdr[0], await self.reader.readexactly(n) if n else b""

    async def handshake(self):
        var = _str("MQTT") + bytes([5, 0xC2]) + struct.pack(">H", self.keep_alive) + b"\x00"
        body = var + _str(self.client_id) + _str(self.device) + _str(self.token)
        self.writer.write(b"\x10" + _varint(len(body)) + body)
        kind, data = await self._packet()
        if kind >> 4 != 2 or len(data) < 2 or data[1] != 0:
            code = data[1] if kind >> 4 == 2 and len(data) > 1 else kind
            raise Refused(f"connack 0x{code:02x}")
        plen, i = _read_varint(data, 2) if len(data) > 2 else (0, 2)
        return min(_props(data, i, i + plen).get(0x21, 65535), 64)

    def fail_pending(self, exc):
        for fut in self.pending.values():
            if not fut.done():
                fut.set_exception(exc)
        self.pending.clear()

    async def read_loop(self):
        while True:
            kind, data = await self._packet()
            if kind >> 4 == 4:  # PUBACK
                pid = struct.unpack_from(">H", data)[0]
                code = data[2] if len(data) > 2 else 0
                fut = self.pending.pop(pid, None)
                if fut and not fut.done():
                    fut.set_result(code)
            elif kind >> 4 == 14:  # DISCONNECT
                code = data[0] if data else 0
                self.drop(ConnectionError(f"disconnect 0x{code:02x}"))
                return

    async def send(self, vehicle, device, token):
        async with await self.ready():
            if not self.writer:
                raise ConnectionError("closed")
            pid = self.next_id
            while pid in self.pending:
                pid = pid % 65535 + 1
            self.next_id = pid % 65535 + 1
            fut = asyncio.get_running_loop().create_future()
            self.pending[pid] = fut
            payload = json.dumps(vehicle.payload(), separators=(",", ":")).encode()
            body = _str(self.topic) + struct.pack(">H", pid) + b"\x00" + payload
            self.writer.write(b"\x32" + _varint(len(body)) + body)
            code = await fut
            return code < 0x80, "0x%02x" % code
