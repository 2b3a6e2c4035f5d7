"""The whole-directory configuration check: every mistake of the operator's list reported in one
run, each at the file:line of the key at fault; the same check refuses a bad start and a bad
SIGHUP (which then changes nothing); and the reload is observable (metrics)."""
import os
import re
import signal
import subprocess
import time

from harness import FLEET_EVENT, INLETD, Inletd, curl, sha256_hex, unique

TOK_A, TOK_B = unique("ta"), unique("tb")

# Each mistake on a line of its own, so that every line number can be asserted.
TENANT_A = f"""devices:
  - id: truck-1
    groups: [trucks]
tokens:
  - sha256: {sha256_hex(TOK_A)}
    device: truck-1
  - sha256: {sha256_hex(unique("ghost"))}
    device: ghost-9
acl:
  - effect: allow
    groups:
      - trucks
      - trailers
    schemas:
      - coldchain.tmp@v1
      - coldchain.temp@v9
      - fleet.position@x2
      - coldchain.temp@1
      - fleet.position@v1
"""


def run(*args, timeout=60):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout)


def line_of(d, rel, needle, nth=1):
    with open(os.path.join(d.dir, rel)) as f:
        hits = [i + 1 for i, l in enumerate(f.read().splitlines()) if needle in l]
    return hits[nth - 1]


def bad_directory():
    d = Inletd({"a": TENANT_A},
               extra_confd={
                   # a second file claims tenant a and tenant a's token again
                   "tenant-copy.yaml": f"tenant: a\ntopic_prefix: copy.\ndevices: [{{id: x}}]\n"
                                       f"tokens:\n  - sha256: {sha256_hex(TOK_A)}\n"
                                       f"    device: x\n",
                   # a module error from create(): at the key it is about, not at module:
                   "mqtt.yaml": "module: mqtt\nthreads: 1\nlisteners:\n"
                                "  - address: 127.0.0.1:1\n    tls:\n"
                                "      cert: /nonexistent/cert.pem\n"
                                "      key: /nonexistent/key.pem\n",
               })
    return d


def test_every_mistake_in_one_run_with_its_line():
    d = bad_directory()
    out = run(INLETD, "--check-config", "-c", d.dir)
    assert out.returncode == 1, out.stdout
    err = out.stderr
    a = "conf.d/tenant-a.yaml"
    expect = [
        (a, "device: ghost-9", r'tokens\[1\]\.device: device "ghost-9" is not declared'),
        (a, "- trailers", r'acl\[0\]\.groups\[1\]: no device of tenant a is in group "trailers"'),
        (a, "coldchain.tmp@v1",
         r'acl\[0\]\.schemas\[0\]: no schema "coldchain\.tmp" is loaded \(did you mean '
         r'"coldchain\.temp"\?\)'),
        (a, "coldchain.temp@v9",
         r"acl\[0\]\.schemas\[1\]: schema coldchain\.temp has no version v9 \(loaded: v1\)"),
        (a, "fleet.position@x2", r'acl\[0\]\.schemas\[2\]: "fleet\.position@x2": the version'),
        (a, "coldchain.temp@1",
         r'acl\[0\]\.schemas\[3\]: "coldchain\.temp@1": versions are written vN: did you mean '
         r'"coldchain\.temp@v1"\?'),
    ]
    for rel, needle, pattern in expect:
        line = line_of(d, rel, needle)
        assert re.search(re.escape(rel) + f":{line}: " + pattern, err), (needle, err)
    # the duplicate tenant and token name both files, each with its line
    first = os.path.join(d.dir, a)
    assert re.search(r"conf\.d/tenant-copy\.yaml:1: tenant: tenant a is also defined at "
                     + re.escape(first) + r":1\b", err), err
    assert re.search(r"conf\.d/tenant-copy\.yaml:5: tokens\[0\]\.sha256: this token is also claimed by "
                     r"tenant a at " + re.escape(first) + f":{line_of(d, a, 'sha256')}\\b",
                     err), err
    # the module's create() error sits on the line of tls.cert
    cert_line = line_of(d, "conf.d/mqtt.yaml", "cert:")
    assert re.search(rf"conf\.d/mqtt\.yaml:{cert_line}: module mqtt: .*cert", err), err
    assert re.search(r"\d+ errors in ", err), err
    assert "tenant-a.yaml:1:" not in err  # nothing falls back to the tenant: line


def test_daemon_refuses_to_start_with_the_same_errors_and_the_ghost_token_never_works():
    d = Inletd({"a": f"""devices: [{{id: truck-1}}]
tokens:
  - sha256: {sha256_hex(TOK_B)}
    device: ghost-9
acl: [{{effect: allow, schemas: ["*"]}}]
"""})
    out = run(INLETD, "-c", d.dir, timeout=30)
    assert out.returncode == 1
    assert re.search(r"tenant-a\.yaml:5: tokens\[0\]\.device: device \"ghost-9\" is not declared",
                     out.stderr), out.stderr


def metric(d, name):
    st, _, text = curl(d.admin_url + "/metrics")
    assert st == 200
    m = re.search("^" + re.escape(name) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def post(d, token):
    return curl(d.url + "/ingest", {"events": [dict(FLEET_EVENT, device_id="truck-1",
                                                    event_id=unique("cc"))]}, token=token)[0]


def wait_for(pred, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return False


def test_reload_with_errors_changes_nothing_and_is_counted():
    good = f"""devices: [{{id: truck-1, groups: [trucks]}}]
tokens: [{{sha256: {sha256_hex(TOK_A)}, device: truck-1}}]
acl: [{{effect: allow, groups: [trucks], schemas: ["fleet.position@v1"]}}]
"""
    d = Inletd({"a": good}).start()
    try:
        assert post(d, TOK_A) == 200
        ok0 = metric(d, 'inlet_config_reloads_total{result="success"}')
        bad0 = metric(d, 'inlet_config_reloads_total{result="failure"}')
        assert ok0 == 0 and bad0 == 0
        started = metric(d, "inlet_config_last_reload_success_timestamp_seconds")
        assert started and abs(started - time.time()) < 60
        # the new file would also drop the token: none of it may apply
        path = os.path.join(d.dir, "conf.d", "tenant-a.yaml")
        with open(path, "w") as f:
            f.write("tenant: a\ndevices: [{id: truck-1}]\n"
                    "acl: [{effect: allow, schemas: [\"fleet.positon@v1\"]}]\n")
        d.proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: metric(
            d, 'inlet_config_reloads_total{result="failure"}') == 1), d.logs()
        assert 'no schema "fleet.positon" is loaded' in d.logs()
        assert post(d, TOK_A) == 200
        time.sleep(1.1)
        with open(path, "w") as f:
            f.write("tenant: a\n" + good)
        d.proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: metric(
            d, 'inlet_config_reloads_total{result="success"}') == 1), d.logs()
        assert metric(d, "inlet_config_last_reload_success_timestamp_seconds") > started
    finally:
        assert d.stop() == 0, d.logs()
