"""docs/METRICS.md is what contrib/gen-metrics-docs writes from a running inletd: a metric added,
renamed or relabelled without regenerating the reference fails here."""
import os
import subprocess
import tempfile

from harness import BUILD, SOURCE


def test_metrics_reference_matches_the_running_daemon():
    out = os.path.join(tempfile.mkdtemp(prefix="inlet-metrics-doc-"), "METRICS.md")
    r = subprocess.run([os.path.join(SOURCE, "contrib", "gen-metrics-docs"), BUILD, out],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    with open(out) as f:
        generated = f.read()
    with open(os.path.join(SOURCE, "docs", "METRICS.md")) as f:
        committed = f.read()
    # the reference names what this change is about, so a broken generator cannot pass
    for name in ("inlet_refusals_total", "inlet_tenant_events_accepted_total", "inlet_build_info",
                 "inlet_tls_certificate_expiry_seconds", "inlet_tenant_ca_expiry_seconds"):
        assert f"`{name}`" in generated, generated
    assert generated == committed, (
        "docs/METRICS.md is stale: run contrib/gen-metrics-docs build\n" +
        subprocess.run(["diff", "-u", os.path.join(SOURCE, "docs", "METRICS.md"), out],
                       capture_output=True, text=True).stdout)
