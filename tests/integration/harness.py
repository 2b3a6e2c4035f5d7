"""Shared pieces of the integration tests: a real inletd in a temporary config directory, real
clients (curl, kcat, openssl) and the Java client's murmur2 partitioner to check placement.

Environment (set by tests/integration/CMakeLists.txt):
  INLET_BUILD_DIR        the build with inletd, modules/ and inlet-token
  INLET_SOURCE_DIR       the repository (schemas/)
  INLET_KAFKA_BOOTSTRAP  host:port of the real broker contrib/test started
"""
import base64
import datetime
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import uuid

BUILD = os.environ.get("INLET_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../build"))
SOURCE = os.environ.get("INLET_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))
BOOTSTRAP = os.environ.get("INLET_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
INLETD = os.path.join(BUILD, "inletd")
INLET_TOKEN = os.path.join(BUILD, "inlet-token")

FLEET_EVENT = {
    "device_id": "truck-0042",
    "ts": "2026-11-21T10:15:30.123Z",
    "use_case": "fleet.position",
    "schema": "v1",
    "payload": {"lat": 52.52, "lon": 13.405, "speed_kmh": 61.2, "heading_deg": 270,
                "status": "delivering"},
}


def sha256_hex(s):
    return hashlib.sha256(s.encode()).hexdigest()


_PORTS_GIVEN = set()


def free_port():
    """A TCP port nothing listens on, never the same one twice in a test process: the kernel
    may hand a just-closed ephemeral port out again, and two listeners of one inletd on the same
    port make it refuse its configuration."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _PORTS_GIVEN:
            _PORTS_GIVEN.add(port)
            return port


def wait_for(pred, timeout=10):
    """Poll pred every 0.1 s until it is true (True) or timeout seconds passed (False)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return False


def hs256(secret, claims, kid="k1"):
    """A JWT signed with HS256 (secret: bytes), for tests of short-lived credentials."""
    def b64(b):
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    body = b64(json.dumps(claims).encode())
    sig = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


def unique(prefix="t"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# --- Kafka's default partitioner (org.apache.kafka.common.utils.Utils.murmur2) -----------------

def murmur2(data: bytes) -> int:
    length = len(data)
    seed = 0x9747B28C
    m = 0x5BD1E995
    r = 24
    h = (seed ^ length) & 0xFFFFFFFF
    length4 = length // 4
    for i in range(length4):
        i4 = i * 4
        k = (data[i4] & 0xFF) + ((data[i4 + 1] & 0xFF) << 8) + ((data[i4 + 2] & 0xFF) << 16) + \
            ((data[i4 + 3] & 0xFF) << 24)
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
    rest = length % 4
    if rest == 3:
        h ^= (data[(length & ~3) + 2] & 0xFF) << 16
    if rest >= 2:
        h ^= (data[(length & ~3) + 1] & 0xFF) << 8
    if rest >= 1:
        h ^= data[length & ~3] & 0xFF
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h


def java_partition(key: str, partitions: int) -> int:
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


# --- Kafka ----------------------------------------------------------------------------------------

# Messages older than this process are not ours: reading from here keeps each look-up short
# however much the shared broker holds.
SINCE_MS = int(time.time() * 1000) - 60_000


def consume(topic, bootstrap=None, timeout=120, since_ms=None, predicate=None):
    """Messages of topic from since_ms (default: shortly before this test process started) to
    the current end, read with kcat; with predicate, only those whose value it accepts."""
    since = SINCE_MS if since_ms is None else since_ms
    proc = subprocess.Popen(
        ["kcat", "-C", "-b", bootstrap or BOOTSTRAP, "-t", topic, "-o", f"s@{since}", "-e", "-J",
         "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    msgs = []
    try:
        for line in proc.stdout:
            if not line.strip():
                continue
            m = json.loads(line)
            m["value"] = json.loads(m["payload"]) if m.get("payload") else None
            if predicate and not (m["value"] and predicate(m["value"])):
                continue
            hdrs = m.get("headers") or []
            m["headers"] = {hdrs[i]: hdrs[i + 1] for i in range(0, len(hdrs), 2)}
            msgs.append(m)
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, proc.stderr.read()
    return msgs


def find_events(topic, predicate, bootstrap=None):
    return consume(topic, bootstrap, predicate=predicate)


# --- certificates ---------------------------------------------------------------------------------

def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(dirpath, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "3650", "-subj",
            f"/CN={name}", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=dirpath)
    return os.path.join(dirpath, f"{name}.pem")


def make_cert(dirpath, ca, name, cn, server=False):
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}", cwd=dirpath)
    ext = os.path.join(dirpath, f"{name}.ext")
    with open(ext, "w") as f:
        if server:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
        else:
            f.write("extendedKeyUsage=clientAuth\n")
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-out", f"{name}.pem", "-days", "3650", "-extfile", ext, cwd=dirpath)
    return os.path.join(dirpath, f"{name}.pem"), os.path.join(dirpath, f"{name}.key")


def short_lived_cert(d, ca, cn, name, seconds):
    """A client certificate with common name cn from ca (make_ca files in d), valid for
    `seconds` more: for tests of connections that must end at notAfter."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    with open(os.path.join(d, f"{ca}.key"), "rb") as f:
        ca_key = serialization.load_pem_private_key(f.read(), None)
    with open(os.path.join(d, f"{ca}.pem"), "rb") as f:
        ca_cert = x509.load_pem_x509_certificate(f.read())
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(seconds=seconds))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), False)
            .sign(ca_key, hashes.SHA256()))
    cert_path, key_path = os.path.join(d, f"{name}.pem"), os.path.join(d, f"{name}.key")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return cert_path, key_path


# --- inletd ---------------------------------------------------------------------------------------

class Inletd:
    """A real inletd in its own config dir. tenants: {name: yaml text without the tenant key}."""

    def __init__(self, tenants, bootstrap=None, http_extra="", listeners=None, main_extra="",
                 delivery_timeout="5s", extra_confd=None, linger="2ms"):
        self.dir = tempfile.mkdtemp(prefix="inletd-test-")
        self.port = free_port()
        self.admin_port = free_port()  # the HTTP module's admin listener (/metrics)
        self.bootstrap = bootstrap or BOOTSTRAP
        self.proc = None
        os.makedirs(os.path.join(self.dir, "conf.d"))
        with open(os.path.join(self.dir, "inletd.yaml"), "w") as f:
            f.write(f"""schema_dir: {SOURCE}/schemas
module_dir: {BUILD}/modules
log_level: info
shutdown_timeout: 10s
retry_after: 3s
{main_extra}
kafka:
  bootstrap_servers: {self.bootstrap}
  linger: {linger}
  delivery_timeout: {delivery_timeout}
  health_interval: 300ms
""")
        if listeners is None:
            listeners = f"  - address: 127.0.0.1:{self.port}\n"
        with open(os.path.join(self.dir, "conf.d", "http.yaml"), "w") as f:
            admin = "" if "admin_address" in http_extra else \
                f"admin_address: 127.0.0.1:{self.admin_port}\n"
            f.write(f"module: http\nthreads: 2\nmax_body_size: 256k\nmax_events: 1000\n"
                    f"{admin}{http_extra}listeners:\n{listeners}")
        for name, body in tenants.items():
            with open(os.path.join(self.dir, "conf.d", f"tenant-{name}.yaml"), "w") as f:
                f.write(f"tenant: {name}\n{body}")
        for fname, body in (extra_confd or {}).items():
            with open(os.path.join(self.dir, "conf.d", fname), "w") as f:
                f.write(body)
        self.log_path = os.path.join(self.dir, "inletd.log")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_url(self):
        """The admin listener: /metrics (and /healthz, /readyz), never /ingest."""
        return f"http://127.0.0.1:{self.admin_port}"

    def start(self, wait_ready=True):
        self.log = open(self.log_path, "w")
        env = dict(os.environ)
        self.proc = subprocess.Popen([INLETD, "-c", self.dir], stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 30
        path = "/readyz" if wait_ready else "/healthz"
        while time.time() < deadline:
            assert self.proc.poll() is None, "inletd exited:\n" + self.logs()
            st, _, _ = curl(self.url + path, timeout=2)
            if st == 200:
                return self
            time.sleep(0.1)
        raise AssertionError("inletd not ready:\n" + self.logs())

    def logs(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, timeout=30):
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        self.log.close()
        return rc


def curl(url, body=None, token=None, headers=None, method=None, extra=None, timeout=30):
    """Returns (status, {header: value}, body text). Uses the real curl."""
    with tempfile.NamedTemporaryFile(delete=False) as hf, \
            tempfile.NamedTemporaryFile(delete=False) as bf:
        hpath, bpath = hf.name, bf.name
    args = ["curl", "-sS", "-o", bpath, "-D", hpath, "-w", "%{http_code}", "--max-time",
            str(timeout)]
    if method:
        args += ["-X", method]
    if token:
        args += ["-H", f"Authorization: Bearer {token}"]
    for h in headers or []:
        args += ["-H", h]
    datafile = None
    if body is not None:
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        with tempfile.NamedTemporaryFile(delete=False) as df:
            df.write(body)
            datafile = df.name
        args += ["--data-binary", "@" + datafile]
        if not any(h.lower().startswith("content-type") for h in headers or []):
            args += ["-H", "Content-Type: application/json"]
    args += extra or []
    args.append(url)
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=timeout + 5)
        status = int(out.stdout.strip() or 0)
        hdrs = {}
        with open(hpath, errors="replace") as f:
            for line in f:
                if ":" in line:
                    k, v = line.split(":", 1)
                    hdrs[k.strip().lower()] = v.strip()
        with open(bpath, errors="replace") as f:
            text = f.read()
        return status, hdrs, text
    finally:
        for p in (hpath, bpath, datafile):
            if p:
                os.unlink(p)


def create_topic(name, partitions=1, configs=None):
    """Create a topic on the test broker (contrib/kafka create-topic), for a test that must not
    mix its records into the shared schema topics; configs: {"max.message.bytes": "700"}."""
    port = BOOTSTRAP.rsplit(":", 1)[1]
    extra = [a for k, v in (configs or {}).items() for a in ("--config", f"{k}={v}")]
    subprocess.run([os.path.join(SOURCE, "contrib", "kafka"), "create-topic", name, str(partitions),
                    "--port", port, *extra], check=True, capture_output=True, timeout=120)


# --- a broker of the test's own (outages, restarts), with contrib/kafka -------------------------

KAFKA_SCRIPT = os.path.join(SOURCE, "contrib", "kafka")


def kafka_cmd(*args):
    out = subprocess.run([KAFKA_SCRIPT, *args], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stdout + out.stderr


class PrivateBroker:
    """A single-node broker on free ports in its own directory, that a test may stop and start
    (the shared one must never be). topics: ["name:partitions", ...]."""

    def __init__(self, topics, prefix="inlet-private-kafka-"):
        self.port, self.ctrl = free_port(), free_port()
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.start()
        kafka_cmd("create-topics", "--port", str(self.port), *topics)

    def start(self):
        kafka_cmd("start", "--dir", self.dir, "--port", str(self.port), "--controller-port",
                  str(self.ctrl))

    def stop(self):
        kafka_cmd("stop", "--dir", self.dir)

    def close(self):
        subprocess.run([KAFKA_SCRIPT, "stop", "--dir", self.dir], capture_output=True)
