"""Inbound throughput, end to end: SMTP 250 → processed → reply queued in the outbox.

Two kinds of mail: offers (AANBOD → listing posted, confirmation queued) and payment
confirmations (JA to the token of a BETAAL proposal → transfer booked, two receipts
queued; the proposals are sent first, untimed, and their tokens read from the outbox).
Compares `lets serve` with two baselines measured in the same run on the same mails:
an aiosmtpd server whose handler does nothing, and one that parses each mail with
email.policy.default and inserts one row into SQLite. Loopback only; bounded by
--count and a time limit per measurement.

    .venv/bin/python bench/inbound.py [--count 400] [--repeats 3] [--clients 1,10] [--kinds offers,confirmations] [--dir DIR]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import smtplib
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mailer.inbound.smtp import free_port  # noqa: E402

TIME_LIMIT = 120.0  # seconds per measurement, whatever --count says


MEMBERS = 50
GROUP = "lets@lets.example"


Mail = tuple[str, str, bytes]  # envelope sender, envelope recipient, the message


def offer(i: int) -> Mail:
    raw = (f"From: Member {i % MEMBERS} <m{i % MEMBERS}@example.org>\r\nTo: {GROUP}\r\n"
           f"Subject: AANBOD: Fietsherstel {i}\r\nMessage-ID: <bench-{i}-{time.time_ns()}@example.org>\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
           "Categorie: vervoer\r\nNiveau: S\r\nPrijs: 10 zon per uur\r\n\r\n"
           + "Ik repareer fietsen, plak banden en stel remmen af.\r\n" * 20).encode()
    return f"m{i % MEMBERS}@example.org", GROUP, raw


def proposal(i: int) -> Mail:
    payer, payee = f"m{i % MEMBERS}@example.org", f"m{(i + 1) % MEMBERS}@example.org"
    raw = (f"From: Member {i % MEMBERS} <{payer}>\r\nTo: {GROUP}\r\n"
           f"Subject: BETAAL 1 aan {payee} voor les {i}\r\nMessage-ID: <pay-{i}-{time.time_ns()}@example.org>\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nDank je!\r\n").encode()
    return payer, GROUP, raw


def confirmation(i: int, payer: str, token: str) -> Mail:
    """The payer's JA, sent to the plus address of the proposal's Reply-To, quoting it as mail programs do."""
    to = f"lets+t-{token}@lets.example"
    raw = (f"From: {payer}\r\nTo: {to}\r\nSubject: Re: Bevestig je betaling [t-{token}]\r\n"
           f"Message-ID: <ja-{i}-{time.time_ns()}@example.org>\r\nIn-Reply-To: <confirm-{i}@lets.example>\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nJA\r\n\r\n"
           "Op ma 23 nov. 2026 om 10:00 schreef LETS <lets@lets.example>:\r\n> Antwoord JA om te betalen.\r\n").encode()
    return payer, to, raw


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


async def _reply(reader: asyncio.StreamReader) -> int:
    """The code of one (possibly multi-line) SMTP reply."""
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("server closed the connection")
        if line[3:4] != b"-":
            return int(line[:3])


async def _client(port: int, mails: list[Mail], latencies: list[float], started: float) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        await _reply(reader)
        writer.write(b"EHLO bench.example\r\n")
        await _reply(reader)
        for sender, recipient, raw in mails:
            if time.monotonic() - started > TIME_LIMIT:
                break
            t0 = time.monotonic()
            # One command at a time: aiosmtpd does not offer PIPELINING (RFC 2920).
            for command, expected in ((f"MAIL FROM:<{sender}>", 250), (f"RCPT TO:<{recipient}>", 250),
                                      ("DATA", 354)):
                writer.write(command.encode() + b"\r\n")
                code = await _reply(reader)
                if code != expected:
                    raise RuntimeError(f"{command}: {code}")
            writer.write(re.sub(rb"(?m)^\.", b"..", raw) + b"\r\n.\r\n")
            code = await _reply(reader)
            if code != 250:
                raise RuntimeError(f"DATA: {code}")
            latencies.append(time.monotonic() - t0)
        writer.write(b"QUIT\r\n")
        await _reply(reader)
    finally:
        writer.close()


def send_all(port: int, mails: list[Mail], clients: int) -> list[float]:
    """Send `mails` over `clients` concurrent connections; per-mail SMTP latency in seconds.

    The clients are one asyncio loop, not threads of smtplib: on two cores a heavy load
    generator takes the CPU the servers under test need (smtplib threads cost more than
    a third of it). Postfix's smtp-source is as light, but sends one message over and
    over, and these mails must differ (Message-IDs, tokens)."""
    latencies: list[float] = []
    started = time.monotonic()

    async def run():
        await asyncio.gather(*(_client(port, mails[worker::clients], latencies, started)
                               for worker in range(clients)))

    asyncio.run(run())
    return latencies


def run_baseline(mode: str, mails: list[Mail], clients: int, tmp: Path) -> dict:
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "baseline_server.py"), mode, str(port),
                             str(tmp / f"baseline-{mode}-{clients}-{time.time_ns()}.db")], stdout=subprocess.PIPE)
    try:
        proc.stdout.readline()
        wait_port(port)
        t0 = time.monotonic()
        latencies = send_all(port, mails, clients)
        elapsed = time.monotonic() - t0
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()
    return {"mails": len(latencies), "seconds": elapsed, "latencies": latencies}


class Lets:
    """A `lets serve` on a fresh SQLite group of MEMBERS members."""

    def __init__(self, tmp: Path, name: str):
        self.port = free_port()
        self.db_path = tmp / f"lets-{name}.db"
        self.env = {**os.environ, "LETS_DATABASE_URL": f"sqlite:///{self.db_path}", "LETS_SECURITY_SECRET": "bench",
                    "LETS_OUTBOUND_MAILDIR": str(tmp / f"outbox-{name}"), "LETS_INBOUND_PORT": str(self.port),
                    "LETS_SETTINGS": str(ROOT / "settings.ini"), "LETS_DKIM_KEY_FILE": str(tmp / f"dkim-{name}.pem")}
        lets = [sys.executable, "-m", "mailer.cli"]
        subprocess.run(lets + ["init"], env=self.env, cwd=ROOT, check=True, capture_output=True)
        seed = "\n".join(f"import db.members as m; m.add('Member {i}', 'm{i}@example.org')" for i in range(MEMBERS))
        subprocess.run([sys.executable, "-c", "from db import connect; from mailer.settings import load; "
                        f"connect(load().database_url)\n{seed}"], env=self.env, cwd=ROOT, check=True)
        self.proc = subprocess.Popen(lets + ["serve"], env=self.env, cwd=ROOT, stderr=subprocess.DEVNULL)
        wait_port(self.port)

    def query(self, sql: str, *params):
        with sqlite3.connect(self.db_path, timeout=30) as db:
            return db.execute(sql, params).fetchall()

    def wait_outbox(self, count: int, t0: float) -> float:
        """Seconds from t0 until `count` replies are queued."""
        while time.monotonic() - t0 < TIME_LIMIT:
            if self.query("select count(*) from outbound_message")[0][0] >= count:
                break
            time.sleep(0.02)
        return time.monotonic() - t0

    def wait_delivered(self, t0: float) -> float:
        """Seconds from t0 until no reply waits in the outbox, nor is being written out
        (a Maildir round claims its rows as `sending` and marks them sent at its end)."""
        while time.monotonic() - t0 < TIME_LIMIT:
            if not self.query("select count(*) from outbound_message where state in ('queued', 'sending')")[0][0]:
                break
            time.sleep(0.02)
        return time.monotonic() - t0

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)


def run_lets(kind: str, mails: list[Mail], clients: int, lets: Lets) -> dict:
    """Send `mails` to a running `lets serve`; wait until the replies they cause are queued."""
    lets.wait_delivered(time.monotonic())  # the previous round's replies are not this round's
    before = lets.query("select count(*) from outbound_message")[0][0]
    first_inbound = lets.query("select coalesce(max(id), 0) from inbound_message")[0][0]
    per_mail = 2 if kind == "confirmations" else 1   # a receipt to the payer and one to the payee
    t0 = time.monotonic()
    latencies = send_all(lets.port, mails, clients)
    elapsed = lets.wait_outbox(before + per_mail * len(latencies), t0)
    # Delivery yields to a backlog of inbound mail (worker.py): say when the last reply left too.
    delivered = lets.wait_delivered(t0)
    # End-to-end latency: from the stored mail (before its 250) to its last reply queued.
    rows = lets.query("select m.received_at, max(o.created) from inbound_message m "
                      "join outbound_message o on o.inbound_id = m.id where m.id > ? group by m.id", first_inbound)
    e2e = [(datetime.fromisoformat(str(b)) - datetime.fromisoformat(str(a))).total_seconds() for a, b in rows]
    return {"mails": len(rows), "seconds": elapsed, "latencies": latencies, "e2e": e2e, "delivered": delivered}


def confirmations_for(lets: Lets, count: int, clients: int) -> list[Mail]:
    """Send `count` BETAAL proposals (untimed) and build the JA answers from the tokens they got."""
    t0 = time.monotonic()
    send_all(lets.port, [proposal(i) for i in range(count)], clients)
    lets.wait_outbox(count, t0)
    mails = []
    for i, (recipient, raw) in enumerate(lets.query(
            "select recipient, raw from outbound_message where kind = 'trade/confirm' order by id")):
        token = re.search(rb"lets\+t-([a-z2-7]{24})@", bytes(raw)).group(1).decode()
        mails.append(confirmation(i, recipient, token))
    return mails


def measure(kind: str, count: int, clients: int, repeats: int, tmp: Path) -> list[tuple[str, list[dict]]]:
    """Each server `repeats` times, interleaved, on fresh mails each round: on a shared
    machine the speed drifts from second to second, and interleaving lets each round's
    baselines see the same machine as that round's lets serve."""
    lets = Lets(tmp, f"{kind}-{clients}")
    rounds = {"null": [], "naive": [], "ours": []}
    try:
        if kind == "confirmations":
            answers = confirmations_for(lets, count * repeats, clients)
            batches = [answers[r * count:(r + 1) * count] for r in range(repeats)]
        else:
            batches = [[offer(r * count + i) for i in range(count)] for r in range(repeats)]
        for mails in batches:
            rounds["null"].append(run_baseline("null", mails, clients, tmp))
            rounds["naive"].append(run_baseline("parse-insert", mails, clients, tmp))
            rounds["ours"].append(run_lets(kind, mails, clients, lets))
    finally:
        lets.stop()
    return [("baseline: aiosmtpd, no-op handler", rounds["null"]),
            ("baseline: policy.default parse + 1 SQLite insert", rounds["naive"]),
            ("lets serve: stored, processed, replies queued", rounds["ours"])]


def rate(result: dict) -> float:
    return result["mails"] / result["seconds"] if result["seconds"] else 0.0


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))] * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3, help="rounds per measurement; the median is shown")
    parser.add_argument("--clients", default="1,10")
    parser.add_argument("--kinds", default="offers,confirmations")
    # Beside the project, where `lets serve` keeps its own outbox (var/): on some machines
    # creating a file in the system's temporary directories costs 1 ms of kernel time
    # against 0.1 ms elsewhere on the same disk (watched directories), and the Maildir
    # outbox creates one per reply.
    parser.add_argument("--dir", default=str(ROOT / "var" / "bench"), help="where the benchmark's files go")
    args = parser.parse_args()
    rows = []
    Path(args.dir).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        tmp = Path(tmp)
        for kind in args.kinds.split(","):
            for clients in [int(c) for c in args.clients.split(",")]:
                results = measure(kind, args.count, clients, args.repeats, tmp)
                naive = results[1][1]
                for name, rounds in results:
                    latencies = [x for r in rounds for x in r["latencies"]]
                    e2e = [x for r in rounds for x in r.get("e2e", [])]
                    ratio = statistics.median(rate(r) / rate(n) for r, n in zip(rounds, naive))
                    delivered = (statistics.median(r["mails"] / r["delivered"] for r in rounds)
                                 if "delivered" in rounds[0] else None)
                    rows.append((kind, clients, name, sum(r["mails"] for r in rounds),
                                 statistics.median(rate(r) for r in rounds),
                                 pct(latencies, 50), pct(latencies, 99), pct(e2e, 50), pct(e2e, 99), ratio, delivered))
    print(f"\nInbound mail, {args.count} mails per round, median of {args.repeats} interleaved rounds, "
          f"loopback, {os.cpu_count()} cores\n")
    print("| mail | clients | server | mails | mails/s | SMTP p50 ms | SMTP p99 ms "
          "| 250→replies p50 ms | 250→replies p99 ms | × parse+insert | mails/s to replies delivered |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        e2e = f"{r[7]:.1f} | {r[8]:.1f}" if r[7] == r[7] else "– | –"
        delivered = f"{r[10]:.0f}" if r[10] is not None else "–"
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]:.0f} | {r[5]:.1f} | {r[6]:.1f} | {e2e} | {r[9]:.2f} "
              f"| {delivered} |")


if __name__ == "__main__":
    main()
