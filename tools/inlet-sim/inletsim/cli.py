"""inlet-sim's command line: parses the options, generates a tenant or runs the simulation
(workers.py) and prints the summary."""
import argparse
import json
import math
import os
import re
import sys

from . import stats, tenant, workers
from .run import PROTOCOLS
_UNITS = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "ms": 0.001}


def parse_duration(text: str) -> float:
    m = re.fullmatch(r"\s*([0-9.]+)\s*(ms|s|sec|m|min|h)?\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r}: expected e.g. 60s, 5m, 500ms")
    return float(m.group(1)) * _UNITS[m.group(2) or "s"]


def parse_rate(text: str) -> float:
    """Events per second per device from N/s, N/min, N/10s ..."""
    m = re.fullmatch(r"\s*([0-9.]+)\s*/\s*([0-9.]*)\s*(ms|s|sec|m|min|h)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r}: expected e.g. 1/s, 10/min, 1/5s")
    per = float(m.group(2) or 1) * _UNITS[m.group(3)]
    rate = float(m.group(1)) / per
    if rate <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: the rate must be above 0")
    return rate


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="inlet-sim", description="Simulate a fleet of vehicles sending position fixes to "
        "inletd, with live counts and latency percentiles (docs/OPERATIONS.md, Sizing).")
    p.add_argument("--protocol", choices=sorted(PROTOCOLS), default="http")
    p.add_argument("--devices", type=int, default=100, help="simulated vehicles (default 100)")
    p.add_argument("--rate", type=parse_rate, default=1.0, dest="rate_per_s",
                   help="fixes per vehicle, e.g. 1/s (default), 10/min, 1/5s")
    p.add_argument("--schema", default="fleet.position@v1",
                   help="fleet.position@v1 (the payload the simulated vehicles produce)")
    p.add_argument("--duration", type=parse_duration, default=None,
                   help="stop after this long, e.g. 60s (default: until Ctrl-C)")
    p.add_argument("--target", default=None, help="host:port (default 127.0.0.1 and the "
                   "quickstart port: http 8080, mqtt 1883, coap 5683, binary 7000)")
    p.add_argument("--tenant", default="demo", help="demo (the quickstart's tokens), or a "
                   "directory --generate-tenant wrote (its tokens.tsv)")
    p.add_argument("--connections", type=int, default=None, help="connections (CoAP: UDP "
                   "sockets) to spread the vehicles over (default: one per vehicle). HTTP and "
                   "CoAP vehicles share them with their own tokens; on MQTT and binary a "
                   "connection is one device, which sends the fixes of all its vehicles")
    p.add_argument("--per-source", type=int, default=200, help="on a loopback target, "
                   "connections per source address: they are spread over 127.1.0.1, "
                   "127.1.0.2, ... so that inletd's max_connections_per_ip (default 256) "
                   "admits them; 0: all from the kernel's choice (default 200)")
    p.add_argument("--connect-rate", type=float, default=500.0,
                   help="new connections per second while ramping up (default 500)")
    p.add_argument("--timeout", type=parse_duration, default=30.0,
                   help="give up on an answer after this long (default 30s)")
    p.add_argument("--drain", type=parse_duration, default=15.0,
                   help="at the end, wait this long for outstanding answers (default 15s)")
    p.add_argument("--workers", default="auto", help="processes to run the vehicles in "
                   "(default auto: one per 2,000 offered events/s, at most the CPU count)")
    p.add_argument("--seed", type=int, default=None, help="random seed for the tracks")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.add_argument("--generate-tenant", metavar="DIR", default=None,
                   help="write DIR/tenant-<name>.yaml and DIR/tokens.tsv for --devices "
                   "vehicles, then exit")
    p.add_argument("--tenant-name", default="sim", help="with --generate-tenant (default sim)")
    p.add_argument("--device-prefix", default="veh-",
                   help="with --generate-tenant: device ids are <prefix>00000, ... (default veh-)")
    p.add_argument("--topic-prefix", default="", help="with --generate-tenant: the tenant's "
                   "topic_prefix (default none: it shares the topics, shared_topics: true)")
    args = p.parse_args(argv)
    if args.devices < 1:
        p.error("--devices must be at least 1")
    m = re.fullmatch(r"([A-Za-z0-9_.-]+)@v([0-9]+)", args.schema)
    if not m:
        p.error(f"--schema {args.schema!r}: expected <name>@v<version>")
    if m.group(1) != "fleet.position":
        p.error("--schema: the simulated vehicles produce fleet.position payloads only")
    args.schema_name, args.schema_version = m.group(1), int(m.group(2))
    if args.connections is not None and not 1 <= args.connections <= args.devices:
        p.error("--connections must be between 1 and --devices")
    if args.target is None:
        args.target = f"127.0.0.1:{PROTOCOLS[args.protocol][1]}"
    host, _, port = args.target.rpartition(":")
    if not host or not port.isdigit():
        p.error(f"--target {args.target!r}: expected host:port")
    args.host, args.port = host.strip("[]"), int(port)
    offered = args.devices * args.rate_per_s
    if args.workers == "auto":
        args.workers = max(1, min(os.cpu_count() or 1, math.ceil(offered / 2000)))
    elif not args.workers.isdigit() or int(args.workers) < 1:
        p.error("--workers: auto or a number of at least 1")
    args.workers = min(int(args.workers), args.devices, args.connections or args.devices)
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.generate_tenant:
        path = tenant.generate(args.generate_tenant, args.tenant_name, args.devices,
                               args.device_prefix, args.topic_prefix)
        print(f"{path}: tenant {args.tenant_name} with {args.devices} devices; tokens in "
              f"{os.path.join(args.generate_tenant, tenant.TOKENS_FILE)}. Copy the tenant file "
              f"into conf.d/, reload inletd, then run inlet-sim --tenant "
              f"{args.generate_tenant} ...")
        return 0
    try:
        creds = tenant.load(args.tenant)
    except (OSError, ValueError) as e:
        print(f"inlet-sim: --tenant {args.tenant}: {e}", file=sys.stderr)
        return 2
    summary = workers.run(args, creds)
    if args.json:
        json.dump(summary, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        stats.print_summary(summary)
    clean = not (summary["refused"] or summary["errors"] or summary["connect_errors"])
    return 0 if summary["acked"] > 0 and clean else 1
