"""One worker process of inlet-sim: its share of the vehicles, one coroutine each, sending a
position fix every 1/rate seconds over its connection and waiting for the answer; it reports
its counters to the parent (workers.py) twice a second."""
import asyncio
import math
import os
import random
import signal
import time

from . import fleet, stats
from .proto_binary import BinaryConn
from .proto_coap import CoapConn
from .proto_http import HttpConn
from .proto_mqtt import MqttConn
from .stream_conn import Refused

PROTOCOLS = {"http": (HttpConn, 8080), "mqtt": (MqttConn, 1883), "coap": (CoapConn, 5683),
             "binary": (BinaryConn, 7000)}


class Run:
    """Vehicles [lo, hi) on connections [conn_lo, conn_hi) of the whole simulation."""

    def __init__(self, args, creds, lo, hi, conn_lo, conn_hi, report):
        self.args, self.creds = args, creds
        self.lo, self.hi, self.conn_lo, self.conn_hi = lo, hi, conn_lo, conn_hi
        self.report = report  # report(snapshot dict, final elapsed or None)
        self.stats = stats.Stats()
        self.stopping = False
        self.sleeping = set()  # vehicle tasks waiting for their next fix
        self.rng = random.Random(None if args.seed is None else args.seed * 1000 + lo)
        self.interval = 1.0 / args.rate_per_s
        self.connect_gate = asyncio.Semaphore(64)

    def _on_state(self, delta):
        self.stats.connections += delta

    def source_address(self, i):
        """Connection i's source address: on loopback, 127.1.x.y with per_source
        connections each (the whole 127/8 is the loopback interface's)."""
        a = self.args
        if not a.per_source or not a.host.startswith("127."):
            return None
        k = i // a.per_source
        return (f"127.1.{k // 250}.{k % 250 + 1}", 0)

    def make_conns(self):
        a = self.args
        cls = PROTOCOLS[a.protocol][0]
        keep_alive = min(65535, max(60, math.ceil(2 * self.interval)))
        conns = []
        for i in range(self.conn_lo, self.conn_hi):
            ident = self.creds[i % len(self.creds)]
            if a.protocol == "mqtt":
                c = cls(a.host, a.port, a.schema_name, a.schema_version, ident,
                        client_id=f"inlet-sim-{os.getppid()}-{i}", keep_alive=keep_alive)
            elif a.protocol == "binary":
                c = cls(a.host, a.port, a.schema_name, a.schema_version, ident,
                        keep_alive=keep_alive)
            else:
                c = cls(a.host, a.port, a.schema_name, a.schema_version)
            c.on_state = self._on_state
            c.local = self.source_address(i)
            conns.append(c)
        return conns

    async def _open(self, conn, start_at):
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        async with self.connect_gate:
            try:
                async with asyncio.timeout(self.args.timeout):
                    await conn.open()
            except Refused as e:
                self.stats.connect_error(f"refused: {e}")
            except (OSError, TimeoutError, ConnectionError, asyncio.IncompleteReadError) as e:
                self.stats.connect_error(e.strerror if isinstance(e, OSError) and e.strerror
                                         else type(e).__name__)

    async def vehicle(self, i, conn, first_tick):
        """One vehicle: a fix every interval, waiting for each answer before the next."""
        v = fleet.Vehicle(random.Random(self.rng.random()))
        device, token = self.creds[i % len(self.creds)]
        me = asyncio.current_task()
        tick, last = first_tick, time.monotonic()
        while not self.stopping:
            delay = tick - time.monotonic()
            if delay > 0:
                self.sleeping.add(me)
                try:
                    await asyncio.sleep(delay)
                except asyncio.CancelledError:
                    return
                finally:
                    self.sleeping.discard(me)
                if self.stopping:
                    return
            now = time.monotonic()
            v.step(now - last)
            last = now
            self.stats.sent += 1
            try:
                async with asyncio.timeout(self.args.timeout):
                    ok, code = await conn.send(v, device, token)
                self.stats.record(ok, code, time.monotonic() - now)
            except TimeoutError:
                self.stats.error("timeout")
            except Refused as e:  # the handshake of a (re)connection was refused
                self.stats.record(False, str(e), time.monotonic() - now)
                if not self.stopping:
                    await asyncio.sleep(min(self.interval, 1.0))
            except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError) as e:
                self.stats.error(e.strerror if isinstance(e, OSError) and e.strerror
                                 else str(e) if isinstance(e, ConnectionError) and str(e)
                                 else type(e).__name__)
                if not self.stopping:
                    await asyncio.sleep(min(self.interval, 1.0))  # reconnect at the next fix
            tick += self.interval
            behind = time.monotonic() - tick
            if behind > 0:  # the answer took longer than the interval: skip the missed fixes
                skipped = math.ceil(behind / self.interval)
                self.stats.missed_ticks += skipped
                tick += skipped * self.interval

    def stop(self):
        if not self.stopping:
            self.stopping = True
            for t in list(self.sleeping):
                t.cancel()

    async def reporter(self):
        while True:
            await asyncio.sleep(0.5)
            self.report(self.stats.snapshot(), None)

    async def main(self):
        a = self.args
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.stop)
        loop.add_signal_handler(signal.SIGINT, self.stop)
        conns = self.make_conns()
        rep = asyncio.ensure_future(self.reporter())
        t0 = time.monotonic()
        rate = a.connect_rate / a.workers
        await asyncio.gather(*(self._open(c, t0 + k / rate) for k, c in enumerate(conns)))
        start = time.monotonic()
        tasks = [asyncio.ensure_future(self.vehicle(
            i, conns[(i - self.lo) % len(conns)], start + self.rng.random() * self.interval))
            for i in range(self.lo, self.hi)]
        stopped = loop.create_future()
        loop.remove_signal_handler(signal.SIGTERM)
        loop.remove_signal_handler(signal.SIGINT)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: stopped.done() or stopped.set_result(None))
        if a.duration is not None:
            loop.call_later(a.duration, lambda: stopped.done() or stopped.set_result(None))
        if not self.stopping:
            await stopped
        elapsed = time.monotonic() - start
        self.stop()
        done, pending = await asyncio.wait(tasks, timeout=a.drain)
        for t in pending:
            t.cancel()
        if pending:
            await asyncio.wait(pending)
        for c in conns:
            c.close()
        await asyncio.sleep(0.05)  # let the BYE / DISCONNECT frames go out
        rep.cancel()
        self.report(self.stats.snapshot(), elapsed)
