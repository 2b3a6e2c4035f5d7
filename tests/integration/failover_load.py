"""Bounded load for the failover tests: a few HTTP keep-alive and MQTT 5 QoS 1 connections, each
a thread with one event in flight, paced to a modest rate, every event with its own event_id.

Each event's outcome is recorded by id: "acked" (HTTP 200 with accepted 1, PUBACK below 0x80),
a refusal "http <status>: <detail>" / "mqtt 0x<rc>: <reason string>", or "unanswered" (the
connection broke before an answer: inletd was killed, say). Only "acked" is a promise that the
event is in Kafka; the tests check that promise against what they read back.
"""
import http.client
import json
import threading
import time

import mqtt_raw as mq

ANSWER_TIMEOUT = 45  # seconds: above the tests' 30 s delivery timeout


def event(eid):
    return mq.fleet_event(eid)


class Load:
    """start() ... stop(): conns connections per protocol, rate events/s per connection."""

    def __init__(self, run, http_port, mqtt_port, http_devices, mqtt_devices, token_of,
                 rate=25):
        self.run, self.http_port, self.mqtt_port = run, http_port, mqtt_port
        self.http_devices, self.mqtt_devices, self.token_of = http_devices, mqtt_devices, token_of
        self.interval = 1.0 / rate
        self.outcomes = {}  # event_id -> (outcome, when it came)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = []
        self.errors = []

    def record(self, eid, outcome):
        with self.lock:
            self.outcomes[eid] = (outcome, time.time())

    def start(self):
        for i, dev in enumerate(self.http_devices):
            self.threads.append(threading.Thread(target=self._guard, args=(self._http, i, dev)))
        for i, dev in enumerate(self.mqtt_devices):
            self.threads.append(threading.Thread(target=self._guard, args=(self._mqtt, i, dev)))
        for t in self.threads:
            t.daemon = True
            t.start()
        return self

    def stop(self, timeout=ANSWER_TIMEOUT + 15):
        """Stops sending; waits for the answers still outstanding (bounded)."""
        self.stopping.set()
        deadline = time.time() + timeout
        for t in self.threads:
            t.join(max(0.1, deadline - time.time()))
        alive = [t for t in self.threads if t.is_alive()]
        assert not alive, f"{len(alive)} load threads still waiting after {timeout}s"
        assert not self.errors, self.errors

    def _guard(self, fn, i, dev):
        try:
            fn(i, dev)
        except Exception as e:  # a bug in the load itself must fail the test, not hang it
            self.errors.append(f"{fn.__name__} {dev}: {e!r}")

    def _paced(self):
        """Yields sequence numbers at the rate until stop()."""
        n = 0
        t0 = time.time()
        while not self.stopping.is_set():
            yield n
            n += 1
            delay = t0 + n * self.interval - time.time()
            if delay > 0:
                self.stopping.wait(delay)

    def _http(self, i, dev):
        conn = None
        for n in self._paced():
            eid = f"{self.run}-h{i}-{n}"
            body = json.dumps({"events": [event(eid)]})
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.http_port,
                                                      timeout=ANSWER_TIMEOUT)
                conn.request("POST", "/ingest", body,
                             {"Content-Type": "application/json",
                              "Authorization": f"Bearer {self.token_of(dev)}"})
                r = conn.getresponse()
                text = r.read().decode(errors="replace")
            except (OSError, http.client.HTTPException):
                self.record(eid, "unanswered")
                if conn:
                    conn.close()
                conn = None
                self.stopping.wait(0.2)
                continue
            if r.status == 200 and '"accepted":1' in text.replace(" ", ""):
                self.record(eid, "acked")
            else:
                try:
                    doc = json.loads(text)
                    detail = doc.get("detail") or doc.get("title") or ""
                    for e in doc.get("errors") or doc.get("events") or []:
                        if isinstance(e, dict) and e.get("detail"):
                            detail = e["detail"]
                except ValueError:
                    detail = text[:120]
                self.record(eid, f"http {r.status}: {detail}")
            if r.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        if conn:
            conn.close()

    def _mqtt(self, i, dev):
        c = None
        pid = 0
        for n in self._paced():
            eid = f"{self.run}-m{i}-{n}"
            try:
                if c is None:
                    c = mq.RawClient(self.mqtt_port, timeout=ANSWER_TIMEOUT)
                    ack = c.connect(f"{self.run}-m{i}", dev, self.token_of(dev), keep_alive=120)
                    if ack.reason != 0:
                        raise mq.Closed(f"CONNACK 0x{ack.reason:02x}")
                pid = pid % 65535 + 1
                p = c.publish_qos1(f"devices/{dev}/events", json.dumps(event(eid)), pid)
            except (OSError, mq.Closed, TimeoutError, AssertionError):
                self.record(eid, "unanswered")
                if c:
                    c.close()
                c = None
                self.stopping.wait(0.2)
                continue
            if p.reason < 0x80:
                self.record(eid, "acked")
            else:
                self.record(eid, f"mqtt 0x{p.reason:02x}: {p.props.get(mq.P_REASON_STRING, '')}")
        if c:
            c.close()

    # --- results --------------------------------------------------------------------------------

    def acked(self):
        return {e for e, (o, _) in self.outcomes.items() if o == "acked"}

    def acked_since(self, t):
        return sum(1 for o, when in self.outcomes.values() if o == "acked" and when >= t)

    def refusals(self):
        """{outcome: count} of everything not acked."""
        out = {}
        for o, _ in self.outcomes.values():
            if o != "acked":
                out[o] = out.get(o, 0) + 1
        return out
