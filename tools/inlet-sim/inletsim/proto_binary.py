"""Inlet binary protocol client (docs/BINARY.md): HELLO with the device's token, DATA frames
carrying the schema's 13-byte layout (format 42), ACKs in order; up to the server's window in
flight."""
import asyncio
import collections
import struct

from .stream_conn import Refused, StreamConn

HELLO, DATA, BYE, WELCOME, ACK, CLOSE = 0x01, 0x02, 0x04, 0x81, 0x82, 0x84
FORMAT_LAYOUT = 42


def frame(kind, seq, body=b"", flags=0):
    return struct.pack(">IBBH", len(body), kind, flags, seq) + body


class BinaryConn(StreamConn):
    farewell = frame(BYE, 0)

    def __init__(self, host, port, schema, version, identity, keep_alive=60):
        super().__init__(host, port, identity, keep_alive)
        self.schema, self.version = schema.encode(), version
        self.pending = collections.deque()  # futures, in the order of the DATA frames
        self.seq = 0
        self.named = False  # a DATA frame of this connection named the schema

    async def _frame(self):
        length, kind, flags, seq = struct.unpack(">IBBH", await self.reader.readexactly(8))
        return kind, flags, seq, await self.reader.readexactly(length)

    async def handshake(self):
        dev, tok = self.device.encode(), self.token.encode()
        hello = struct.pack(">BBHB", 1, 1, self.keep_alive, len(dev)) + dev + tok
        self.writer.write(frame(HELLO, 0, hello))
        kind, _, _, body = await self._frame()
        if kind != WELCOME or not body or body[0] != 0:
            raise Refused(
                f"welcome 0x{body[0]:02x}" if kind == WELCOME and body else "no welcome")
        self.named = False
        return max(1, struct.unpack_from(">H", body, 2)[0])

    def fail_pending(self, exc):
        while self.pending:
            fut = self.pending.popleft()
            if not fut.done():
                fut.set_exception(exc)

    async def read_loop(self):
        while True:
            kind, flags, _, body = await self._frame()
            if kind == ACK and self.pending:
                fut = self.pending.popleft()
                if not fut.done():
                    fut.set_result((body[0], flags))
            elif kind == CLOSE:
                self.drop(ConnectionError(f"close 0x{body[0]:02x}"))
                return

    async def send(self, vehicle, device, token):
        async with await self.ready():
            if not self.writer:
                raise ConnectionError("closed")
            if self.named:
                head = struct.pack(">HB", FORMAT_LAYOUT, 0)
            else:
                head = struct.pack(">HB", FORMAT_LAYOUT, len(self.schema)) + self.schema + \
                    bytes([self.version])
                self.named = True
            fut = asyncio.get_running_loop().create_future()
            self.pending.append(fut)
            self.writer.write(frame(DATA, self.seq, head + vehicle.layout()))
            self.seq = (self.seq + 1) & 0xFFFF
            status, flags = await fut
            return status == 0, "0x%02x%s" % (status, "+possibly-stored" if flags & 1 else "")
