"""What the MQTT and binary clients share: a TCP connection that authenticates once
(handshake), then a reader task resolving the futures of requests in flight (at most the
server's window), and the bookkeeping of the live connection count."""
import asyncio


class Refused(Exception):
    """The server answered the handshake with a refusal (str: e.g. "connack 0x86")."""


class StreamConn:
    farewell = b""  # sent by close(): MQTT DISCONNECT, binary BYE

    def __init__(self, host, port, identity, keep_alive):
        self.host, self.port = host, port
        self.device, self.token = identity
        self.keep_alive = keep_alive
        self.reader = self.writer = None
        self.window = None  # asyncio.Semaphore, from the handshake
        self.reader_task = None
        self.open_lock = asyncio.Lock()
        self.on_state = lambda delta: None
        self.local = None  # (source address, 0), or None
        self.counted = False

    async def handshake(self):
        """Sends the credentials and reads the answer; returns the window. Subclasses."""
        raise NotImplementedError

    async def read_loop(self):
        """Reads the server's frames until it closes. Subclasses."""
        raise NotImplementedError

    def fail_pending(self, exc):
        """Fails every request in flight with exc. Subclasses."""
        raise NotImplementedError

    async def open(self):
        async with self.open_lock:
            if self.writer:
                return
            self.reader, self.writer = await asyncio.open_connection(
                self.host, self.port, local_addr=self.local)
            try:
                window = await self.handshake()
            except BaseException:
                self.drop()
                raise
            self.window = asyncio.Semaphore(window)
            self.reader_task = asyncio.ensure_future(self._reading())
            self.counted = True
            self.on_state(+1)

    async def _reading(self):
        try:
            await self.read_loop()
        except (asyncio.IncompleteReadError, ConnectionError, OSError) as e:
            self.drop(ConnectionError(f"closed: {type(e).__name__}"))

    def drop(self, exc=None):
        if self.writer:
            self.writer.close()
        self.writer = None
        if self.counted:
            self.counted = False
            self.on_state(-1)
        self.fail_pending(exc or ConnectionError("closed"))

    def close(self):
        if self.writer and self.farewell:
            try:
                self.writer.write(self.farewell)
            except OSError:
                pass
        if self.reader_task:
            self.reader_task.cancel()
        self.drop()

    async def ready(self):
        """Opens the connection if needed; returns the window semaphore to hold per request."""
        if not self.writer:
            await self.open()
        return self.window
