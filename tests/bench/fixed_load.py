#!/usr/bin/env python3
"""fixed_load.py - a load client that sends a FIXED number of events and waits for every
acknowledgement, for tests/bench/instructions (instruction counts need a fixed amount of work,
not a fixed duration as wrk and mqtt_load have).

  fixed_load.py http --port 28280 --requests 200 --batch 100 --conns 4 --devices 100
  fixed_load.py mqtt --port 28283 --messages 20000 --size 100 --conns 20 --window 10

http: POST /ingest over --conns HTTP/1.1 keep-alive connections. Request i authenticates as
  device i % devices (token bench-token-<d>, device truck-<dddd>) and carries --batch copies of
  the fleet.position reference event (docs/BENCHMARKS.md), with that device's id. A request
  counts when the answer is 200 with "accepted":<batch>.
mqtt: MQTT 5 QoS 1 PUBLISH to devices/bench-<dddd>/bench.blob/v1 of a {"seq":n,"data":"xxx"}
  payload of exactly --size bytes (as mqtt_load.c), over --conns connections (connection c is
  device c % devices, user bench-<dddd>, password bench-token-<d>), each keeping --window
  publishes unacknowledged; a message counts when its PUBACK has a reason code below 0x80.

Prints one JSON line (events acknowledged, errors, seconds) and exits 1 if any event was not
acknowledged or --timeout (seconds) passed. Everything is bounded: a fixed number of
requests/messages, one overall deadline.
"""
import argparse
import asyncio
import json
import struct
import sys
import time

FLEET_EVENT = ('{"device_id": "%s", "ts": "2026-11-21T10:15:30.123Z", '
               '"use_case": "fleet.position", "schema": "v1", '
               '"payload": {"lat": 52.52, "lon": 13.405, "speed_kmh": 61.2, "heading_deg": 270, '
               '"status": "delivering"}}')


# --- HTTP -----------------------------------------------------------------------------------------

def http_request(port, device_index, batch):
    device = "truck-%04d" % device_index
    body = ('{"events": [' + ", ".join([FLEET_EVENT % device] * batch) + ']}').encode()
    head = ("POST /ingest HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
            "Authorization: Bearer bench-token-%d\r\nContent-Length: %d\r\n\r\n"
            % (port, device_index, len(body))).encode()
    return head + body


async def http_conn(args, requests, queue_lock, state):
    reader, writer = await asyncio.open_connection("127.0.0.1", args.port)
    want = b'"accepted":%d,' % args.batch
    try:
        while True:
            async with queue_lock:
                if state["next"] >= args.requests:
                    return
                i = state["next"]
                state["next"] += 1
            writer.write(requests[i % args.devices])
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    length = int(v.strip())
            body = await reader.readexactly(length) if length else b""
            if status == 200 and want in body:
                state["ok"] += 1
            else:
                state["errors"] += 1
                if state["errors"] <= 3:
                    print("HTTP %d: %s" % (status, body[:300]), file=sys.stderr)
    finally:
        writer.close()


async def run_http(args):
    requests = [http_request(args.port, d, args.batch) for d in range(args.devices)]
    state = {"next": 0, "ok": 0, "errors": 0}
    lock = asyncio.Lock()
    await asyncio.gather(*(http_conn(args, requests, lock, state) for _ in range(args.conns)))
    return state["ok"] * args.batch, state["errors"] * args.batch


# --- MQTT 5 ---------------------------------------------------------------------------------------

def varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def mqtt_str(s):
    b = s.encode()
    return struct.pack(">H", len(b)) + b


def packet(first, body):
    return bytes([first]) + varint(len(body)) + body


async def read_packet(reader):
    first = (await reader.readexactly(1))[0]
    rem, mult = 0, 1
    while True:
        b = (await reader.readexactly(1))[0]
        rem += (b & 0x7F) * mult
        mult *= 128
        if not b & 0x80:
            break
    return first >> 4, await reader.readexactly(rem) if rem else b""


def payload(seq, size):
    head = '{"seq":%d,"data":"' % seq
    return (head + "x" * max(0, size - len(head) - 2) + '"}').encode()


async def mqtt_conn(args, c, share, state):
    dev = c % args.devices
    reader, writer = await asyncio.open_connection("127.0.0.1", args.port)
    try:
        body = (mqtt_str("MQTT") + bytes([5, 0xC2]) + struct.pack(">H", 60) + b"\x00" +
                mqtt_str("fixed-%d" % c) + mqtt_str("bench-%04d" % dev) +
                mqtt_str("bench-token-%d" % dev))
        writer.write(packet(0x10, body))
        await writer.drain()
        t, b = await read_packet(reader)
        if t != 2 or len(b) < 2 or b[1] != 0:
            raise RuntimeError("connection %d: CONNECT refused (%d %r)" % (c, t, b[:8]))
        topic = mqtt_str("devices/bench-%04d/bench.blob/v1" % dev)
        sent = acked = 0
        free = list(range(args.window, 0, -1))  # packet ids

        def publish(seq):
            pid = free.pop()
            writer.write(packet(0x32, topic + struct.pack(">H", pid) + b"\x00" +
                                payload(seq, args.size)))

        while acked < share:
            while free and sent < share:
                publish(c * share + sent)
                sent += 1
            await writer.drain()
            t, b = await read_packet(reader)
            if t == 4:  # PUBACK
                acked += 1
                free.append(struct.unpack(">H", b[:2])[0])
                if len(b) >= 3 and b[2] >= 0x80:
                    state["errors"] += 1
                else:
                    state["ok"] += 1
            elif t == 14:
                raise RuntimeError("connection %d: DISCONNECT from the server %r" % (c, b[:8]))
        writer.write(b"\xe0\x00")  # DISCONNECT
        await writer.drain()
    finally:
        writer.close()


async def run_mqtt(args):
    state = {"ok": 0, "errors": 0}
    shares = [args.messages // args.conns + (1 if c < args.messages % args.conns else 0)
              for c in range(args.conns)]
    await asyncio.gather(*(mqtt_conn(args, c, shares[c], state) for c in range(args.conns)))
    return state["ok"], state["errors"]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="proto", required=True)
    h = sub.add_parser("http")
    h.add_argument("--port", type=int, required=True)
    h.add_argument("--requests", type=int, required=True)
    h.add_argument("--batch", type=int, default=100)
    h.add_argument("--conns", type=int, default=4)
    h.add_argument("--devices", type=int, default=100)
    m = sub.add_parser("mqtt")
    m.add_argument("--port", type=int, required=True)
    m.add_argument("--messages", type=int, required=True)
    m.add_argument("--size", type=int, default=100)
    m.add_argument("--conns", type=int, default=20)
    m.add_argument("--window", type=int, default=10)
    m.add_argument("--devices", type=int, default=100)
    for sp in (h, m):
        sp.add_argument("--timeout", type=float, default=600)
    args = p.parse_args()
    t0 = time.monotonic()
    coro = run_http(args) if args.proto == "http" else run_mqtt(args)
    try:
        ok, errors = asyncio.run(asyncio.wait_for(coro, args.timeout))
        timed_out = False
    except asyncio.TimeoutError:
        ok, errors, timed_out = 0, 0, True
    want = args.requests * args.batch if args.proto == "http" else args.messages
    print(json.dumps({"events": ok, "errors": errors, "expected": want, "timed_out": timed_out,
                      "seconds": round(time.monotonic() - t0, 3)}))
    return 0 if ok == want and not errors and not timed_out else 1


if __name__ == "__main__":
    sys.exit(main())
