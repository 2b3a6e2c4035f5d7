"""HTTP/1.1 framing (RFC 9112 section 6): ambiguous bodies are refused with 400 and the
connection closed, so bytes a proxy may have framed differently never run as a request.
Raw sockets: curl would not send these."""
import json
import re
import socket
import time

import pytest

from harness import FLEET_EVENT, Inletd, curl, find_events, sha256_hex, unique

TOKEN = unique("tok")


@pytest.fixture(scope="module")
def inletd():
    d = Inletd({"demo": f"""devices:
  - id: truck-0042
tokens:
  - sha256: {sha256_hex(TOKEN)}
    device: truck-0042
acl:
  - effect: allow
    schemas: ["*"]
"""}).start()
    yield d
    assert d.stop() == 0, d.logs()


def batch(event_id):
    ev = json.loads(json.dumps(FLEET_EVENT))
    ev["event_id"] = event_id
    return json.dumps({"events": [ev]}).encode()


def head(extra, path="/ingest"):
    return (f"POST {path} HTTP/1.1\r\nHost: inlet\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: application/json\r\n{extra}\r\n").encode()


def exchange(d, data, timeout=10):
    """Send data, read until the server closes (or timeout); returns (bytes, closed)."""
    s = socket.create_connection(("127.0.0.1", d.port), timeout=timeout)
    s.sendall(data)
    out = b""
    deadline = time.time() + timeout
    closed = False
    try:
        while time.time() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            out += chunk
    except socket.timeout:
        pass
    finally:
        s.close()
    return out, closed


def statuses(raw):
    """Status codes of the responses in raw (bodies here never contain a status line)."""
    return [int(c) for c in re.findall(rb"HTTP/1\.[01] (\d{3}) ", raw)]


def assert_never_produced(d, event_ids):
    # A valid request after the attack: once it is acknowledged, anything the attack had
    # submitted before it would have been produced too.
    fence = unique("fence")
    st, _, text = curl(d.url + "/ingest", batch(fence), token=TOKEN)
    assert st == 200, text
    ids = set(event_ids)
    got = find_events("fleet.updates.v1", lambda v: v.get("event_id") in ids | {fence})
    assert [m["value"]["event_id"] for m in got] == [fence]


def chunked(body):
    return f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"


def test_content_length_with_transfer_encoding_is_400_and_closes(inletd):
    first, smuggled = unique("cl-te-a"), unique("cl-te-b")
    body = batch(first)
    second = head(f"Content-Length: {len(batch(smuggled))}\r\n") + batch(smuggled)
    # A front end that honours Content-Length sees one request whose body is all of this.
    data = chunked(body) + second
    raw, closed = exchange(inletd, head(f"Content-Length: {len(data)}\r\n"
                                        "Transfer-Encoding: chunked\r\n") + data)
    assert statuses(raw) == [400], raw
    assert closed
    assert_never_produced(inletd, [first, smuggled])


def test_transfer_encoding_then_content_length_order_does_not_matter(inletd):
    first, smuggled = unique("te-cl-a"), unique("te-cl-b")
    second = head(f"Content-Length: {len(batch(smuggled))}\r\n") + batch(smuggled)
    data = chunked(batch(first)) + second
    raw, closed = exchange(inletd, head("Transfer-Encoding: chunked\r\n"
                                        f"Content-Length: {len(data)}\r\n") + data)
    assert statuses(raw) == [400], raw
    assert closed
    assert_never_produced(inletd, [first, smuggled])


def test_conflicting_content_lengths_are_400_and_close(inletd):
    first, smuggled = unique("cl-cl-a"), unique("cl-cl-b")
    body = batch(first)
    second = head(f"Content-Length: {len(batch(smuggled))}\r\n") + batch(smuggled)
    raw, closed = exchange(inletd, head(f"Content-Length: {len(body)}\r\n"
                                        f"Content-Length: {len(body) + len(second)}\r\n")
                           + body + second)
    assert statuses(raw) == [400], raw
    assert closed
    assert_never_produced(inletd, [first, smuggled])


def test_content_length_list_with_different_values_is_400(inletd):
    body = batch(unique("cl-list"))
    raw, closed = exchange(inletd, head(f"Content-Length: {len(body)}, {len(body) + 1}\r\n")
                           + body)
    assert statuses(raw) == [400], raw
    assert closed


def test_identical_content_lengths_are_one(inletd):
    # RFC 9112 section 6.3 item 5 lets a recipient accept repeated identical values.
    ev = unique("cl-same")
    body = batch(ev)
    raw, _ = exchange(inletd, head(f"Content-Length: {len(body)}\r\nContent-Length: {len(body)}"
                                   "\r\nConnection: close\r\n") + body)
    assert statuses(raw) == [200], raw


def test_plain_chunked_still_works_and_keeps_the_connection(inletd):
    a, b = unique("chunk-a"), unique("chunk-b")
    raw, _ = exchange(inletd, head("Transfer-Encoding: chunked\r\n") + chunked(batch(a)) +
                      head(f"Content-Length: {len(batch(b))}\r\nConnection: close\r\n") +
                      batch(b))
    assert statuses(raw) == [200, 200], raw
