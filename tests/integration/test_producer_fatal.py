"""A fatal producer error (librdkafka's rd_kafka_test_fatal_error(), what a fenced idempotent
producer gets) recreates the producer in place: every event in flight is answered, none that was
answered "ok" is missing from Kafka, none answered "not persisted" is in it, and the next events
go through the new handle. Drives the core's producer directly (tests/tools/producer_fatal.c)
against the real broker."""
import os
import subprocess

from harness import BOOTSTRAP, BUILD, consume, create_topic, unique

TOOL = os.path.join(BUILD, "tests", "tools", "producer_fatal")


def test_fatal_error_recreates_the_producer_honestly():
    run = unique("fatal")
    # its own topic: the tool's bare records are not envelopes other tests could read
    topic = f"inlet-test-{run}"
    create_topic(topic, 3)
    out = subprocess.run([TOOL, BOOTSTRAP, topic, run], capture_output=True,
                         text=True, timeout=180)
    assert out.returncode == 0, out.stdout + out.stderr
    answers = {}
    recreations = None
    for line in out.stdout.splitlines():
        key, value = line.split(" ", 1)
        if key == "recreations":
            recreations = int(value)
        else:
            assert key not in answers, f"{key} answered twice"
            answers[key] = value
    assert recreations == 1, out.stdout
    assert "fatal producer error" in out.stderr and "recreating the producer" in out.stderr
    assert "producer recreated after a fatal error" in out.stderr
    first = {k: v for k, v in answers.items() if k.startswith(f"{run}-a-")}
    second = {k: v for k, v in answers.items() if k.startswith(f"{run}-b-")}
    assert len(first) == 200, "every event of the batch in flight is answered"
    assert set(first.values()) <= {"ok", "unavailable", "possibly_persisted"}, first
    assert len(second) == 20 and set(second.values()) == {"ok"}, second

    stored = {m["value"]["event_id"] for m in consume(
        topic, predicate=lambda v: v.get("event_id", "").startswith(run))}
    acked = {k for k, v in answers.items() if v == "ok"}
    assert acked - stored == set(), "acknowledged but lost"
    not_persisted = {k for k, v in answers.items() if v == "unavailable"}
    assert not_persisted & stored == set(), "answered 'not persisted' but in Kafka"
