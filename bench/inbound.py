"""Inbound throughput, end to end: SMTP 250 → processed → reply queued in the outbox.

Compares `lets serve` with two baselines measured in the same run: an aiosmtpd server
whose handler does nothing, and one that parses each mail with email.policy.default and
inserts one row into SQLite. Loopback only; bounded by --count and a time limit.

    .venv/bin/python bench/inbound.py [--count 600] [--clients 1,10]
"""
from __future__ import annotations

import argparse
import os
import smtplib
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mailer.smtp import free_port  # noqa: E402

TIME_LIMIT = 120.0  # seconds per measurement, whatever --count says


def offer(i: int) -> bytes:
    return (f"From: Member {i % 50} <m{i % 50}@example.org>\r\nTo: lets@lets.example\r\n"
            f"Subject: AANBOD: Fietsherstel {i}\r\nMessage-ID: <bench-{i}-{time.time_ns()}@example.org>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            "Categorie: vervoer\r\nNiveau: S\r\nPrijs: 10 zon per uur\r\n\r\n"
            + "Ik repareer fietsen, plak banden en stel remmen af.\r\n" * 20).encode()


def wait_port(port: int, deadline: float = 20.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=2) as client:
                client.noop()
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on {port} did not start")


def send_all(port: int, count: int, clients: int) -> list[float]:
    """Send `count` mails over `clients` connections; per-mail SMTP latency in seconds."""
    latencies: list[float] = []
    lock = threading.Lock()
    started = time.monotonic()

    def client(worker: int):
        mine = []
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            for i in range(worker, count, clients):
                if time.monotonic() - started > TIME_LIMIT:
                    break
                t0 = time.monotonic()
                smtp.sendmail(f"m{i % 50}@example.org", ["lets@lets.example"], offer(i))
                mine.append(time.monotonic() - t0)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(w,)) for w in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def run_baseline(mode: str, count: int, clients: int, tmp: Path) -> dict:
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "baseline_server.py"), mode, str(port),
                             str(tmp / f"baseline-{mode}-{clients}.db")], stdout=subprocess.PIPE)
    try:
        proc.stdout.readline()
        wait_port(port)
        t0 = time.monotonic()
        latencies = send_all(port, count, clients)
        elapsed = time.monotonic() - t0
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()
    return {"mails": len(latencies), "seconds": elapsed, "latencies": latencies}


def run_lets(count: int, clients: int, tmp: Path) -> dict:
    port = free_port()
    db_path = tmp / f"lets-{clients}.db"
    env = {**os.environ, "LETS_DATABASE_URL": f"sqlite:///{db_path}", "LETS_SECURITY_SECRET": "bench",
           "LETS_OUTBOUND_MAILDIR": str(tmp / f"outbox-{clients}"), "LETS_INBOUND_PORT": str(port),
           "LETS_SETTINGS": str(ROOT / "settings.ini")}
    lets = [sys.executable, "-m", "mailer.cli"]
    subprocess.run(lets + ["init"], env=env, cwd=ROOT, check=True, capture_output=True)
    seed = "\n".join(f"import db.members as m; m.add('Member {i}', 'm{i}@example.org')" for i in range(50))
    subprocess.run([sys.executable, "-c", "from db import connect; from mailer.settings import load; "
                    f"connect(load().database_url)\n{seed}"], env=env, cwd=ROOT, check=True)
    proc = subprocess.Popen(lets + ["serve"], env=env, cwd=ROOT, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        t0 = time.monotonic()
        latencies = send_all(port, count, clients)
        with sqlite3.connect(db_path) as db:
            while time.monotonic() - t0 < TIME_LIMIT:
                queued = db.execute("select count(*) from outbound_message").fetchone()[0]
                if queued >= len(latencies):
                    break
                time.sleep(0.02)
            elapsed = time.monotonic() - t0
            rows = db.execute("select m.received_at, o.created from inbound_message m "
                              "join outbound_message o on o.inbound_id = m.id").fetchall()
    finally:
        proc.terminate()
        proc.wait(10)
    # End-to-end latency: from SMTP acceptance to the reply queued (stored timestamps).
    from datetime import datetime
    e2e = [(datetime.fromisoformat(str(b)) - datetime.fromisoformat(str(a))).total_seconds() for a, b in rows]
    return {"mails": len(rows), "seconds": elapsed, "latencies": latencies, "e2e": e2e}


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))] * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=600)
    parser.add_argument("--clients", default="1,10")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for clients in [int(c) for c in args.clients.split(",")]:
            null = run_baseline("null", args.count, clients, tmp)
            naive = run_baseline("parse-insert", args.count, clients, tmp)
            ours = run_lets(args.count, clients, tmp)
            for name, result in (("baseline: aiosmtpd, no-op handler", null),
                                 ("baseline: policy.default parse + 1 SQLite insert", naive),
                                 ("lets serve: stored, processed, reply queued", ours)):
                rate = result["mails"] / result["seconds"] if result["seconds"] else 0
                rows.append((clients, name, result["mails"], rate,
                             pct(result["latencies"], 50), pct(result["latencies"], 99),
                             pct(result.get("e2e", []), 50), pct(result.get("e2e", []), 99),
                             rate / (naive["mails"] / naive["seconds"])))
    print(f"\nInbound offers, {args.count} mails per run, loopback, {os.cpu_count()} cores\n")
    print(f"| clients | server | mails | mails/s | SMTP p50 ms | SMTP p99 ms | 250→reply p50 ms | 250→reply p99 ms | × parse+insert |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        e2e = f"{r[6]:.1f} | {r[7]:.1f}" if r[6] == r[6] else "– | –"
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.0f} | {r[4]:.1f} | {r[5]:.1f} | {e2e} | {r[8]:.2f} |")


if __name__ == "__main__":
    main()
