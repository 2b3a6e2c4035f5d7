"""Runs the simulation in --workers processes (one asyncio loop each: one Python process tops out
at a few thousand requests per second), merges their counters, prints the progress line once a
second on stderr and returns the summary."""
import asyncio
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import time

from . import stats
from .run import Run


def _slice(n, parts, k):
    return n * k // parts, n * (k + 1) // parts


def _child(args, creds, k, pipe):
    lo, hi = _slice(args.devices, args.workers, k)
    nconn = args.connections or args.devices
    clo, chi = _slice(nconn, args.workers, k)
    run = Run(args, creds, lo, hi, clo, chi, lambda snap, fin: pipe.send((snap, fin)))
    try:
        asyncio.run(run.main())
    finally:
        pipe.close()


def run(args, creds):
    ctx = multiprocessing.get_context("fork")
    procs, pipes = [], []
    for k in range(args.workers):
        r, w = ctx.Pipe(duplex=False)
        p = ctx.Process(target=_child, args=(args, creds, k, w), daemon=True)
        p.start()
        w.close()
        procs.append(p)
        pipes.append(r)

    def forward(signum, frame):
        for p in procs:
            if p.is_alive():
                os.kill(p.pid, signal.SIGTERM)
    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)

    total = stats.Stats()
    latest = [None] * args.workers
    elapsed = [None] * args.workers
    open_pipes = dict(enumerate(pipes))
    tty = sys.stderr.isatty()
    next_line = time.monotonic() + 1.0
    while open_pipes:
        ready = multiprocessing.connection.wait(list(open_pipes.values()),
                                                timeout=max(0.0, next_line - time.monotonic()))
        for k, r in list(open_pipes.items()):
            if r in ready:
                try:
                    latest[k], fin = r.recv()
                    if fin is not None:
                        elapsed[k] = fin
                except EOFError:
                    del open_pipes[k]
        if time.monotonic() >= next_line:
            next_line += 1.0
            if not args.quiet and any(latest):
                total.merge([s for s in latest if s])
                line = total.progress_line()
                sys.stderr.write(("\r" + line + "\x1b[K") if tty else line + "\n")
                sys.stderr.flush()
    if tty and not args.quiet:
        sys.stderr.write("\n")
    for p in procs:
        p.join()
    failed = [p.exitcode for p in procs if p.exitcode]
    total.merge([s for s in latest if s])
    summary = total.summary(args, max([e for e in elapsed if e is not None] + [0.0]))
    if failed or None in elapsed:
        summary["worker_failures"] = len(failed) or elapsed.count(None)
    return summary
