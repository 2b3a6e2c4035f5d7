"""Connection limits at accept, from the support library, on every listener module: a listener
holds at most max_connections, one source address at most max_connections_per_ip; the rest are
closed as soon as they are accepted, before anything is read or allocated for them."""
import random
import socket
import time

import binary_raw as br
import mqtt_raw as mq
import teltonika_raw as tr
from harness import Inletd, curl, free_port, sha256_hex, unique


def connect(port, source="127.0.0.1"):
    s = socket.socket()
    s.bind((source, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    return s


def closed_by_server(s, wait=2.0):
    """True if the server closes s within wait seconds without sending anything."""
    s.settimeout(wait)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def still_open(s):
    return not closed_by_server(s, wait=0.5)


def healthz_on(s):
    s.settimeout(5)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0]


def metric(d, series):
    st, _, text = curl(d.admin_url + "/metrics")
    assert st == 200
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[1])
    return 0.0


def test_http_listener_and_per_address_limits():
    p1, p2 = free_port(), free_port()
    d = Inletd({}, listeners=f"""  - address: 127.0.0.1:{p1}
  - address: 127.0.0.1:{p2}
    max_connections: 4
    max_connections_per_ip: 0
  - address: 127.0.0.1:{free_port()}
    max_connections_per_ip: 2
""")
    d.port = p1
    d.start()
    try:
        p3 = int(d.logs().split("listening on 127.0.0.1:")[3].split()[0])
        held = [connect(p2) for _ in range(4)]
        assert all(still_open(s) for s in held)
        extra = connect(p2)
        assert closed_by_server(extra), "a 5th connection was kept"
        held.pop().close()
        time.sleep(0.3)  # the server sees the close
        assert healthz_on(connect(p2)) == b"HTTP/1.1 200 OK"

        mine = [connect(p3) for _ in range(2)]
        assert all(still_open(s) for s in mine)
        assert closed_by_server(connect(p3)), "a 3rd connection from one address was kept"
        assert healthz_on(connect(p3, source="127.0.0.2")) == b"HTTP/1.1 200 OK"

        for s in held + mine:
            s.close()
        time.sleep(0.3)
        assert metric(d, 'inlet_http_connections_refused_total{module="http",reason="listener_full"}') >= 1
        assert metric(d, 'inlet_http_connections_refused_total{module="http",reason="address_full"}') >= 1
    finally:
        assert d.stop() == 0, d.logs()


def test_mqtt_per_address_limit():
    port = free_port()
    d = mq.start_inletd({}, listeners=f"""  - address: 127.0.0.1:{port}
    max_connections_per_ip: 2
""")
    try:
        mine = [connect(port) for _ in range(2)]
        assert all(still_open(s) for s in mine)
        assert closed_by_server(connect(port)), "a 3rd connection from one address was kept"
        other = connect(port, source="127.0.0.2")
        assert still_open(other)
        for s in mine + [other]:
            s.close()
        time.sleep(0.3)
        assert mq.metrics(d)['inlet_mqtt_connections_refused_total{reason="address_full"}'] >= 1
    finally:
        assert d.stop() == 0, d.logs()


def test_binary_per_address_limit():
    dev, tok = unique("limbin"), unique("tok")
    tenants = {"lim": f"""devices: [{{id: {dev}}}]
tokens: [{{sha256: {sha256_hex(tok)}, device: {dev}}}]
acl: [{{effect: allow, schemas: ["*"]}}]
"""}
    port = free_port()
    d = br.start_inletd(tenants, listeners=f"""  - address: 127.0.0.1:{port}
    max_connections_per_ip: 2
""")
    try:
        mine = [br.Conn(port) for _ in range(2)]
        assert all(still_open(c.sock) for c in mine)
        third = br.Conn(port)
        assert closed_by_server(third.sock), "a 3rd connection from one address was kept"
        third.close()
        for c in mine:  # the two admitted ones still speak the protocol
            a = c.hello(tok)
            assert a is not None and a.type == br.WELCOME and a.status == 0, a
            c.send(br.frame(br.PING, seq=7))
            a = c.recv()
            assert a is not None and a.type == br.PONG, a
        for c in mine:
            c.close()
        time.sleep(0.3)  # the server sees the closes: the address has room again
        again = br.Conn(port)
        a = again.hello(tok)
        assert a is not None and a.type == br.WELCOME and a.status == 0, a
        again.close()
        assert mq.metrics(d)['inlet_binary_connections_refused_total{reason="address_full"}'] >= 1
    finally:
        assert d.stop() == 0, d.logs()


def test_teltonika_per_address_limit():
    imeis = ["35" + "".join(random.choice("0123456789") for _ in range(13)) for _ in range(3)]
    devs = [unique("limtlt") for _ in imeis]
    tenants = {"limtlt": "devices:\n" + "".join(
        f"  - {{id: {dv}, imei: \"{im}\"}}\n" for dv, im in zip(devs, imeis)) +
        "acl: [{effect: allow, schemas: [\"*\"]}]\n"}
    port = free_port()
    d = tr.start_inletd(tenants, listeners=f"""  - address: 127.0.0.1:{port}
    max_connections_per_ip: 2
""")
    try:
        mine = [tr.Tracker(port) for _ in range(2)]
        assert all(still_open(t.sock) for t in mine)
        third = tr.Tracker(port)
        assert closed_by_server(third.sock), "a 3rd connection from one address was kept"
        third.close()
        for t, imei in zip(mine, imeis):  # the two admitted ones still do the IMEI handshake
            assert t.hello(imei) == 1
        for t in mine:
            t.close()
        time.sleep(0.3)  # the server sees the closes: the address has room again
        with tr.Tracker(port) as t:
            assert t.hello(imeis[2]) == 1
        assert mq.metrics(d)[
            'inlet_teltonika_connections_refused_total{reason="address_full"}'] >= 1
    finally:
        assert d.stop() == 0, d.logs()
