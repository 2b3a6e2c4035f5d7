"""The live console (/console on the admin listener) in a real headless Chromium: it loads with
nothing from outside inletd, its rates and counts follow the events sent, MQTT connections show
up per protocol, and a refusal appears in the recent list with its reason.

INLET_CONSOLE_SCREENSHOT=<path> saves a screenshot there (docs/console.png is made this way)."""
import os

import pytest

from cdp import Browser, chromium_path
from harness import FLEET_EVENT, curl, find_events, sha256_hex, unique
from mqtt_raw import RawClient, start_inletd

TOKEN = unique("con")
TENANTS = {
    "demo": f"""devices: [{{id: truck-0042}}, {{id: truck-0043}}]
tokens:
  - {{sha256: {sha256_hex(TOKEN)}, device: truck-0042}}
  - {{sha256: {sha256_hex(TOKEN + "b")}, device: truck-0043}}
acl:
  - effect: deny
    schemas: ["driver.panic"]
    reason: "panic buttons need a client certificate"
  - effect: allow
    schemas: ["fleet.position"]
""",
    "acme": """topic_prefix: "acme."
devices: [{id: sensor-1}]
acl: [{effect: allow, schemas: ["*"]}]
""",
}


def cells(b, table, key):
    return b.eval(f"""(() => {{
        const tr = document.querySelector('#{table} tbody tr[data-key="{key}"]');
        return tr ? [...tr.children].map(td => td.textContent) : null; }})()""")


@pytest.mark.skipif(chromium_path() is None, reason="chromium not installed (contrib/install-deps)")
def test_console_loads_offline_updates_with_events_and_lists_refusals():
    d = start_inletd(TENANTS)
    b = None
    mqtt = None
    try:
        b = Browser()
        b.open(d.admin_url + "/console")
        b.wait_for("document.getElementById('polls') && +document.getElementById('polls')"
                   ".textContent >= 2")
        b.wait_for("document.getElementById('kafka-state').textContent === 'ready'")
        assert b.eval("document.title") == "inletd console"
        # nothing but the page and what it polls: no external scripts, styles, fonts or images
        assert b.eval("document.querySelectorAll('script[src], link[rel=stylesheet], img, "
                      "iframe, link:not([href^=\\'data:\\'])').length") == 0
        urls = b.requested_urls()
        assert urls and all(u.startswith(d.admin_url + "/console") or u.startswith("data:")
                            for u in urls), urls
        assert b.eval("document.querySelector('#refusals tbody').textContent") == "no refusals"

        # events: the demo tenant's and the http module's counts follow, and a rate shows
        ids = [unique("cons") for _ in range(20)]
        for i in range(0, 20, 5):
            st, _, body = curl(d.url + "/ingest", {"events": [dict(FLEET_EVENT, event_id=e)
                                                              for e in ids[i:i + 5]]},
                               token=TOKEN)
            assert st == 200, body
        b.wait_for("""(() => { const tr = document.querySelector(
            '#tenants tbody tr[data-key="demo"]');
            return !!tr && tr.children[3].textContent === '20'; })()""")
        row = cells(b, "modules", "http")
        assert row and row[3] == "20", row
        # the rate column saw them within a poll or two
        b.wait_for("+document.getElementById('total-rate').textContent >= 0 && "
                   "document.getElementById('spark') !== null")
        assert find_events("fleet.updates.v1", lambda e: e["event_id"] == ids[-1])

        # an MQTT connection shows up per protocol
        mqtt = RawClient(d.mqtt_port)
        ack = mqtt.connect("console-1", password=TOKEN + "b")
        assert ack is not None
        b.wait_for("""(() => { const tr = document.querySelector(
            '#connections tbody tr[data-key="mqtt"]');
            return !!tr && tr.children[1].textContent === '1'; })()""")

        # a refusal appears in the list with its reason and the deciding rule
        st, _, _ = curl(d.url + "/ingest", {"events": [dict(FLEET_EVENT, use_case="driver.panic")]},
                        token=TOKEN)
        assert st == 403
        b.wait_for("""(() => { const tr = document.querySelector(
            '#refusals tbody tr[data-reason="forbidden"]');
            return !!tr && tr.textContent.includes('panic buttons need a client certificate')
                   && tr.textContent.includes('driver.panic@v1')
                   && tr.textContent.includes('127.0.0.1:'); })()""")
        row = cells(b, "tenants", "demo")
        assert row and row[4] == "1", row  # refused count of the tenant
        assert curl(d.url + "/ingest", {"events": [FLEET_EVENT]}, token="nope")[0] == 401
        b.wait_for("document.querySelectorAll('#refusals tbody tr').length === 2 && "
                   "document.querySelector('#refusals tbody tr').dataset.reason === "
                   "'unauthenticated'")
        shot = os.environ.get("INLET_CONSOLE_SCREENSHOT")
        if shot:
            b.screenshot(shot)
    finally:
        if mqtt:
            mqtt.close()
        if b:
            b.close()
        assert d.stop() == 0, d.logs()
