"""Spooled records that Kafka refuses as too large (docs/SPOOL.md, "Records Kafka refuses"),
against the real broker, with topics of their own whose max.message.bytes is small:

  (a) a topic whose limit takes one event but not a batch of them: the forwarder falls back to
      one record at a time and every spooled event reaches Kafka (the forwarder used to retry
      the same refused batch for ever, with everything behind it waiting);
  (b) a topic whose limit takes no event: each record is refused alone three times, then kept in
      <spool.dir>/rejected/ (value + JSON description), counted, and the events spooled after
      it still reach Kafka; the replay recipe of docs/SPOOL.md puts the kept copy into a topic
      that takes it, byte for byte, with its key and headers."""
import glob
import json
import os
import subprocess
import time

import mqtt_raw as mq
from harness import (BOOTSTRAP, FLEET_EVENT, SOURCE, Inletd, consume, create_topic, curl,
                     sha256_hex, unique, wait_for)

TOKEN = unique("tok")
DEV = "truck-0042"
PREFIX = unique("rej") + "."
FLEET_TOPIC = PREFIX + "fleet.updates.v1"    # takes one event, not ten in a batch
PANIC_TOPIC = PREFIX + "driver.panic.v1"     # takes none
REPLAY_TOPIC = PREFIX + "replayed"           # the broker's default limit

TENANT = f"""topic_prefix: "{PREFIX}"
devices: [{{id: {DEV}}}]
tokens: [{{sha256: {sha256_hex(TOKEN)}, device: {DEV}}}]
acl: [{{effect: allow, schemas: ["*"]}}]
ack: spool
"""

def replay_recipe():
    """The sh block of docs/SPOOL.md's "Records Kafka refuses", run as written."""
    text = open(os.path.join(SOURCE, "docs", "SPOOL.md")).read()
    section = text[text.index("## Records Kafka refuses"):]
    section = section[:section.index("\n## ", 3)]
    block = section[section.index("```sh\n") + 6:]
    return block[:block.index("```")]


def panic(eid):
    return {"device_id": DEV, "ts": "2026-11-21T10:15:30.123Z", "use_case": "driver.panic",
            "schema": "v1", "event_id": eid, "payload": {"reason": "panic_button"}}


def post(d, events):
    st, _, text = curl(d.url + "/ingest", {"events": events}, token=TOKEN, timeout=20)
    assert st == 200, text
    for r in json.loads(text)["results"]:
        assert r["status"] == "ok" and r["partition"] == -1  # spooled, not yet in Kafka


def test_refused_batches_and_records(tmp_path):
    create_topic(FLEET_TOPIC, 1, {"max.message.bytes": "700"})
    create_topic(PANIC_TOPIC, 1, {"max.message.bytes": "200"})
    create_topic(REPLAY_TOPIC, 1)
    spool = tmp_path / "spool"
    d = Inletd({"demo": TENANT}, main_extra=f"spool:\n  dir: {spool}\n").start(wait_ready=False)
    run = unique("sprj")
    fleet_ids = [f"{run}-f{i}" for i in range(10)]
    late_ids = [f"{run}-late{i}" for i in range(3)]
    panic_id = f"{run}-panic"
    try:
        wait_for(lambda: curl(d.url + "/readyz")[0] == 200, timeout=30)
        post(d, [dict(FLEET_EVENT, event_id=e) for e in fleet_ids])  # one batch of ten
        post(d, [panic(panic_id)])
        post(d, [dict(FLEET_EVENT, event_id=e) for e in late_ids])
        metrics = {}

        def drained():
            metrics.update(mq.metrics(d))
            return (metrics.get("inlet_spool_backlog_events", 1) == 0 and
                    metrics.get("inlet_spool_forwarded_total", 0) >= 13 and
                    metrics.get('inlet_spool_rejected_total{copy="kept"}', 0) >= 1)

        assert wait_for(drained, timeout=90), d.logs()[-3000:]

        # (a) all thirteen fleet events are in Kafka although no batch of ten fits
        got = [m["value"]["event_id"] for m in
               consume(FLEET_TOPIC, predicate=lambda v: v["event_id"].startswith(run))]
        assert set(got) == set(fleet_ids + late_ids), got
        assert metrics['inlet_spool_forwarded_total'] >= 13
        assert metrics['inlet_spool_forward_failed_total'] >= 1  # the batch was refused first
        assert "Kafka refused the batch as larger than the topic's max.message.bytes" in d.logs()

        # (b) the panic event: not in Kafka, kept, counted, named in the log
        assert consume(PANIC_TOPIC) == []
        assert metrics['inlet_spool_rejected_total{copy="kept"}'] == 1
        assert metrics['inlet_spool_rejected_total{copy="dropped"}'] == 0
        metas = glob.glob(str(spool / "rejected" / "*.json"))
        assert len(metas) == 1, metas
        meta = json.load(open(metas[0]))
        assert meta["topic"] == PANIC_TOPIC and meta["key"] == DEV
        assert meta["headers"]["inlet-event-id"] == panic_id
        assert "max.message.bytes" in meta["error"]
        value = open(os.path.join(os.path.dirname(metas[0]), meta["value_file"]), "rb").read()
        assert len(value) == meta["value_bytes"]
        assert json.loads(value)["event_id"] == panic_id
        assert metrics["inlet_spool_rejected_bytes"] == len(value) + os.path.getsize(metas[0])
        assert f"Kafka refused spooled event {meta['seq']} for {PANIC_TOPIC} for good" in d.logs()
    finally:
        assert d.stop() == 0, d.logs()

    # the documented replay, into a topic that takes it
    out = subprocess.run(["bash", "-c", replay_recipe()], cwd=spool / "rejected", capture_output=True,
                         text=True, timeout=60,
                         env=dict(os.environ, BROKER=BOOTSTRAP, TOPIC=REPLAY_TOPIC))
    assert out.returncode == 0, out.stderr
    assert os.listdir(spool / "rejected") == []
    deadline = time.time() + 30
    replayed = []
    while not replayed and time.time() < deadline:
        replayed = consume(REPLAY_TOPIC)
        time.sleep(0.5)
    assert len(replayed) == 1
    assert replayed[0]["key"] == DEV and replayed[0]["payload"].encode() == value
    assert replayed[0]["headers"]["inlet-event-id"] == panic_id
    assert replayed[0]["headers"]["inlet-schema"] == "driver.panic"
