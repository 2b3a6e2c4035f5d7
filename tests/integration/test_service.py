"""systemd integration without systemd: sd_notify datagrams observed on a fake NOTIFY_SOCKET (a
Python AF_UNIX SOCK_DGRAM socket, by path and in the abstract namespace) at start, reload and
stop; and `inletd reload`, the unit's ExecReload, exiting 0 for a configuration the daemon
applied and 1, with the errors, for one it refused."""
import os
import re
import signal
import socket
import subprocess
import tempfile
import time

from harness import INLETD, Inletd, sha256_hex, unique

TOK = unique("sv")
GOOD = f"""devices: [{{id: truck-1}}]
tokens: [{{sha256: {sha256_hex(TOK)}, device: truck-1}}]
acl: [{{effect: allow, schemas: ["fleet.position@v1"]}}]
"""


class FakeNotify:
    def __init__(self, abstract=False):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = unique("inlet-notify")
            self.sock.bind("\0" + name)
            self.address = "@" + name
        else:
            self.dir = tempfile.mkdtemp(prefix="notify-")
            self.address = os.path.join(self.dir, "notify.sock")
            self.sock.bind(self.address)
        self.sock.settimeout(0.2)
        self.messages = []

    def wait(self, pred, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for m in self.messages:
                if pred(m):
                    return m
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except socket.timeout:
                pass
        raise AssertionError(f"no such notification; got {self.messages}")

    def drain(self):
        got, self.messages = self.messages, []
        return got


def start_with_notify(d, notify):
    os.environ["NOTIFY_SOCKET"] = notify.address
    try:
        return d.start()
    finally:
        del os.environ["NOTIFY_SOCKET"]


def reload_cmd(d, *extra):
    return subprocess.run([INLETD, "reload", "-c", d.dir, "--pid", str(d.proc.pid),
                           "--timeout", "20", *extra], capture_output=True, text=True, timeout=40)


def run_lifecycle(abstract):
    notify = FakeNotify(abstract=abstract)
    d = Inletd({"a": GOOD})
    start_with_notify(d, notify)
    try:
        ready = notify.wait(lambda m: "READY=1" in m.split("\n"))
        assert "STATUS=running" in ready
        notify.drain()

        # a reload the daemon applies: RELOADING=1 with the monotonic clock, then READY=1
        r = reload_cmd(d)
        assert r.returncode == 0, (r.stdout, r.stderr, d.logs())
        assert "reloaded its configuration" in r.stdout
        reloading = notify.wait(lambda m: m.startswith("RELOADING=1"))
        usec = int(re.search(r"MONOTONIC_USEC=(\d+)", reloading).group(1))
        assert abs(usec / 1e6 - time.clock_gettime(time.CLOCK_MONOTONIC)) < 30
        notify.wait(lambda m: "READY=1" in m.split("\n"))
        notify.drain()

        # a reload it refuses: exit 1, the errors printed with their line; READY=1 all the same
        path = os.path.join(d.dir, "conf.d", "tenant-a.yaml")
        with open(path, "a") as f:
            f.write("topic_prefx: x.\n")
        r = reload_cmd(d)
        assert r.returncode == 1, (r.stdout, r.stderr)
        assert "refused the new configuration" in r.stderr
        assert re.search(r"tenant-a\.yaml:5: topic_prefx: unknown option", r.stderr), r.stderr
        notify.wait(lambda m: m.startswith("RELOADING=1"))
        refused = notify.wait(lambda m: "READY=1" in m.split("\n"))
        assert "reload refused" in refused
        # a plain SIGHUP (kill -HUP) reloads too, and no answer is sent to its sender
        notify.drain()
        os.kill(d.proc.pid, signal.SIGHUP)
        notify.wait(lambda m: m.startswith("RELOADING=1"))
        notify.wait(lambda m: "READY=1" in m.split("\n"))
        notify.drain()
    finally:
        rc = d.stop()
    assert rc == 0, d.logs()
    notify.wait(lambda m: m == "STOPPING=1")


def test_sd_notify_and_reload_command_with_a_socket_path():
    run_lifecycle(abstract=False)


def test_sd_notify_in_the_abstract_namespace():
    run_lifecycle(abstract=True)


def test_reload_command_without_a_daemon():
    r = subprocess.run([INLETD, "reload", "--pid", "999999999"], capture_output=True, text=True,
                       timeout=20)
    assert r.returncode == 2
    assert "999999999" in r.stderr


def test_unit_file_is_type_notify_and_reloads_with_the_command():
    from harness import SOURCE
    with open(os.path.join(SOURCE, "contrib", "inletd.service")) as f:
        unit = f.read()
    assert re.search(r"^Type=notify$", unit, re.M)
    assert re.search(r"^ExecReload=\S*inletd reload -c \S+ --pid \$MAINPID$", unit, re.M)
