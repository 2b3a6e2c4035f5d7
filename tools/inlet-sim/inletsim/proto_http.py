"""HTTP/1.1 keep-alive client: POST /ingest/<schema>/<version> with the device's bearer token.
One request at a time per connection; devices sharing a connection (--connections) queue."""
import asyncio
import json


class HttpConn:
    def __init__(self, host, port, schema, version, identity=None):
        self.host, self.port = host, port
        self.path = f"/ingest/{schema}/v{version}"
        self.reader = self.writer = None
        self.lock = asyncio.Lock()
        self.on_state = lambda delta: None
        self.local = None  # (source address, 0), or None

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port,
                                                           local_addr=self.local)
        self.on_state(+1)

    def close(self):
        if self.writer:
            self.writer.close()
            self.writer = None
            self.on_state(-1)

    async def send(self, vehicle, device, token):
        async with self.lock:
            if not self.writer:
                await self.open()
            try:
                return await self._exchange(vehicle, token)
            except BaseException:
                self.close()
                raise

    async def _exchange(self, vehicle, token):
        body = json.dumps(vehicle.payload(), separators=(",", ":")).encode()
        self.writer.write(
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {token}"
            f"\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            .encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, chunked, close = 0, False, False
        for h in lines[1:]:
            k, _, v = h.partition(b":")
            k, v = k.strip().lower(), v.strip().lower()
            if k == b"content-length":
                length = int(v)
            elif k == b"transfer-encoding" and b"chunked" in v:
                chunked = True
            elif k == b"connection" and v == b"close":
                close = True
        if chunked:
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        elif length:
            await self.reader.readexactly(length)
        if close:
            self.close()
        return status == 200, str(status)
