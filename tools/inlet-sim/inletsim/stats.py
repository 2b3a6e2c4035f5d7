"""Counters and a latency histogram (log buckets, 2 % resolution) for the progress line and the
summary."""
import math
import sys
import time

_BASE = math.log(1.02)


class Stats:
    def __init__(self):
        self.started = time.monotonic()
        self.sent = 0
        self.acked = 0
        self.refused = {}  # code -> count
        self.errors = {}  # requests without an answer: transport error -> count
        self.connect_errors = {}  # initial connections that failed: why -> count
        self.missed_ticks = 0  # sends skipped because the previous answer came too late
        self.connections = 0
        self.buckets = {}
        self.max_latency = 0.0
        self._last = (self.started, 0)

    def snapshot(self) -> dict:
        """The counters, for a parent process to merge (--workers)."""
        return {"sent": self.sent, "acked": self.acked, "refused": self.refused,
                "errors": self.errors, "connect_errors": self.connect_errors,
                "missed_ticks": self.missed_ticks,
                "connections": self.connections, "buckets": self.buckets,
                "max_latency": self.max_latency}

    def merge(self, snaps):
        """Replaces the counters with the sum of the workers' latest snapshots."""
        self.sent = sum(s["sent"] for s in snaps)
        self.acked = sum(s["acked"] for s in snaps)
        self.missed_ticks = sum(s["missed_ticks"] for s in snaps)
        self.connections = sum(s["connections"] for s in snaps)
        self.max_latency = max([s["max_latency"] for s in snaps] + [0.0])
        self.refused, self.errors, self.connect_errors, self.buckets = {}, {}, {}, {}
        for s in snaps:
            for mine, theirs in ((self.refused, s["refused"]), (self.errors, s["errors"]),
                                 (self.connect_errors, s["connect_errors"]),
                                 (self.buckets, s["buckets"])):
                for k, v in theirs.items():
                    mine[k] = mine.get(k, 0) + v

    def record(self, ok: bool, code: str, latency_s: float):
        if ok:
            self.acked += 1
        else:
            self.refused[code] = self.refused.get(code, 0) + 1
        b = int(math.log(max(latency_s, 1e-6) * 1e6) / _BASE)
        self.buckets[b] = self.buckets.get(b, 0) + 1
        self.max_latency = max(self.max_latency, latency_s)

    def error(self, what: str):
        self.errors[what] = self.errors.get(what, 0) + 1

    def connect_error(self, what: str):
        self.connect_errors[what] = self.connect_errors.get(what, 0) + 1

    def percentile(self, q: float) -> float:
        """Latency in seconds at quantile q (0..1) of every answered request so far."""
        total = sum(self.buckets.values())
        if not total:
            return 0.0
        rank, seen = q * total, 0
        for b in sorted(self.buckets):
            seen += self.buckets[b]
            if seen >= rank:
                return min(math.exp((b + 0.5) * _BASE) / 1e6, self.max_latency)
        return self.max_latency

    @property
    def answered(self):
        return self.acked + sum(self.refused.values())

    def progress_line(self) -> str:
        now = time.monotonic()
        t0, n0 = self._last
        rate = (self.answered - n0) / max(now - t0, 1e-9)
        self._last = (now, self.answered)
        refused = sum(self.refused.values())
        errors = sum(self.errors.values())
        return (f"[{now - self.started:6.1f}s] conns {self.connections} sent {self.sent} "
                f"acked {self.acked} refused {refused} errors {errors} | {rate:7.0f}/s | "
                f"p50 {ms(self.percentile(.5))} p90 {ms(self.percentile(.9))} "
                f"p99 {ms(self.percentile(.99))} max {ms(self.max_latency)}")

    def summary(self, args, elapsed: float) -> dict:
        return {
            "protocol": args.protocol, "target": args.target, "schema": args.schema,
            "devices": args.devices, "connections": args.connections or args.devices,
            "workers": args.workers,
            "rate_per_device": args.rate_per_s, "offered_per_s": args.rate_per_s * args.devices,
            "duration_s": round(elapsed, 3), "sent": self.sent, "acked": self.acked,
            "refused": sum(self.refused.values()), "refused_by_code": dict(self.refused),
            "errors": sum(self.errors.values()), "errors_by_kind": dict(self.errors),
            "connect_errors": sum(self.connect_errors.values()),
            "connect_errors_by_kind": dict(self.connect_errors),
            "unanswered": self.sent - self.answered - sum(self.errors.values()), "missed_ticks": self.missed_ticks,
            "acked_per_s": round(self.acked / elapsed, 1) if elapsed > 0 else 0.0,
            "latency_ms": {k: round(v * 1000, 3) for k, v in (
                ("p50", self.percentile(.5)), ("p90", self.percentile(.9)),
                ("p99", self.percentile(.99)), ("p999", self.percentile(.999)),
                ("max", self.max_latency))},
        }


def ms(s: float) -> str:
    return f"{s * 1000:.1f}ms"


def print_summary(s: dict, out=sys.stdout):
    lat = s["latency_ms"]
    print(f"inlet-sim {s['protocol']} -> {s['target']}: {s['devices']} devices on "
          f"{s['connections']} connections, {s['rate_per_device']:g}/s each "
          f"({s['offered_per_s']:g}/s offered), {s['duration_s']:.1f} s", file=out)
    print(f"  sent {s['sent']}  acked {s['acked']} ({s['acked_per_s']:g}/s)  refused "
          f"{s['refused']} {s['refused_by_code'] or ''}  errors {s['errors']} "
          f"{s['errors_by_kind'] or ''}  connect errors {s['connect_errors']} "
          f"{s['connect_errors_by_kind'] or ''}  unanswered {s['unanswered']}  missed ticks "
          f"{s['missed_ticks']}", file=out)
    print(f"  latency p50 {lat['p50']} ms  p90 {lat['p90']} ms  p99 {lat['p99']} ms  "
          f"p99.9 {lat['p999']} ms  max {lat['max']} ms", file=out)
