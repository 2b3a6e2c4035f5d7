"""Plausible vehicle tracks: each vehicle drives from stop to stop around a depot, turning and
accelerating like a delivery van, dwelling at each stop; fleet.position@v1 payloads from it."""
import math
import random
import struct

EARTH_M_PER_DEG = 111_320.0
STATUS_CODES = {"idle": 0, "en_route": 1, "loading": 2, "delivering": 3, "unloading": 4,
                "offline": 5}
# Depots the fleet is spread over (lat, lon): Berlin, Hamburg, Munich, Cologne, Frankfurt.
DEPOTS = [(52.52, 13.405), (53.551, 9.994), (48.137, 11.575), (50.938, 6.960), (50.110, 8.682)]


class Vehicle:
    """One vehicle's state; step(dt) moves it, payload()/layout() describe it."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.depot = rng.choice(DEPOTS)
        self.lat, self.lon = self._around(self.depot, 15_000)
        self.heading = rng.uniform(0, 360)
        self.speed = 0.0  # m/s
        self.cruise = rng.uniform(8.0, 22.0)  # 30 .. 80 km/h
        self.dwell = rng.uniform(0, 60) if rng.random() < 0.3 else 0.0  # most start driving
        self.status = rng.choice(["idle", "loading"]) if self.dwell else "en_route"
        self.dest = self._around(self.depot, 20_000)

    def _around(self, centre, radius_m):
        r = radius_m * math.sqrt(self.rng.random())
        a = self.rng.uniform(0, 2 * math.pi)
        lat = centre[0] + r * math.cos(a) / EARTH_M_PER_DEG
        lon = centre[1] + r * math.sin(a) / (EARTH_M_PER_DEG * math.cos(math.radians(centre[0])))
        return lat, lon

    def _to_dest(self):
        dy = (self.dest[0] - self.lat) * EARTH_M_PER_DEG
        dx = (self.dest[1] - self.lon) * EARTH_M_PER_DEG * math.cos(math.radians(self.lat))
        return math.hypot(dx, dy), math.degrees(math.atan2(dx, dy)) % 360

    def step(self, dt: float):
        dt = max(0.0, min(dt, 60.0))
        if self.dwell > 0:
            self.dwell -= dt
            self.speed = 0.0
            if self.dwell <= 0:
                self.dest = self._around(self.depot, 20_000)
                self.status = "en_route"
            return
        dist, bearing = self._to_dest()
        turn = (bearing - self.heading + 540) % 360 - 180
        self.heading = (self.heading + max(-30 * dt, min(30 * dt, turn))) % 360
        target = self.cruise * (0.4 if abs(turn) > 45 else 1.0)
        if dist < 150:
            target = min(target, max(2.0, dist / 10))
        if self.speed < target:
            self.speed = min(target, self.speed + 2.0 * dt)  # 2 m/s² up
        else:
            self.speed = max(target, self.speed - 3.0 * dt)  # 3 m/s² down
        d = self.speed * dt
        h = math.radians(self.heading)
        self.lat += d * math.cos(h) / EARTH_M_PER_DEG
        self.lon += d * math.sin(h) / (EARTH_M_PER_DEG * math.cos(math.radians(self.lat)))
        if dist < 25:
            self.speed = 0.0
            self.dwell = self.rng.uniform(30, 300)
            self.status = self.rng.choice(["delivering", "unloading", "loading", "idle"])

    def payload(self) -> dict:
        p = {"lat": round(self.lat, 6), "lon": round(self.lon, 6),
             "speed_kmh": round(self.speed * 3.6, 1), "status": self.status}
        if self.speed > 0.5:
            p["heading_deg"] = round(self.heading) % 360
        return p

    def layout(self) -> bytes:
        """The schema's 13-byte x-inlet-layout frame (big-endian)."""
        heading = round(self.heading) % 360 if self.speed > 0.5 else 0xFFFF
        return struct.pack(">iiHHB", round(self.lat * 1e7), round(self.lon * 1e7),
                           min(4000, round(self.speed * 36)), heading,
                           STATUS_CODES[self.status])
