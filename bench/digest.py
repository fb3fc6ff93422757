"""Benchmark: a digest run for many members, delivered to a loopback SMTP sink.

    python bench/digest.py     # 10,000 members × 50 and × 500 new listings, and peak
                               # memory building every digest of 10,000 and 100,000 members

Each case runs in its own process (so peak RSS is that case's alone) against a fresh
SQLite file and Postfix's `smtp-sink` on 127.0.0.1 (Debian package `postfix`; run as
root it needs `-u nobody`). "ours" is the real path of `lets digest send`: `send_run`
commits each batch's delivery rows and sends it from memory over [digest] connections
parallel SMTP connections while the next batch is built (mailer/outbound/fanout.py). "build"
builds every member's digest and drops it, to show that memory does not grow with the
number of members (the rows a full send leaves behind would take minutes to write).
"baseline" renders the same templates, builds each message as an EmailMessage on
policy.default and sends it with smtplib, one by one; it runs on the first
--baseline-members members (bounded in time). Loopback only.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from email import policy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CUTOFF = dt.datetime(2026, 11, 30, 6, 0)
# Codes of the default [listings] categories.
CATEGORIES = ("garden", "transport", "cooking", "odd-jobs", "computer", "children", "creative", "clothing")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(members: int, listings: int, sink_port: int, tmp: Path):
    from db import connect
    from db.migrations import upgrade
    from db.models import Account, Address, Listing, Member
    from mailer import settings as settings_module

    settings = settings_module.replace(
        settings_module.load(ROOT / "settings.ini"),
        database={"url": f"sqlite:///{tmp / 'bench.db'}"}, security={"secret": "bench"},
        outbound={"mode": "smtp", "relay_host": "127.0.0.1", "relay_port": sink_port, "starttls": False},
        digest={"batch": 200})
    connect(settings.database_url)
    upgrade()
    languages = ("nl", "en", "fr")
    for start in range(1, members + 1, 5000):
        numbers = range(start, min(start + 5000, members + 1))
        Member.insert_many([{"number": n, "name": f"Lid {n}", "language": languages[n % 3]}
                            for n in numbers]).execute()
        Address.insert_many([{"member": n, "email": f"m{n}@example.org", "primary": True}
                             for n in numbers]).execute()
        Account.insert_many([{"member": n, "code": f"member:{n}", "name": f"Lid {n}",
                              "balance_cents": (n * 7919) % 40000 - 20000} for n in numbers]).execute()
    for start in range(0, listings, 500):
        Listing.insert_many([{
            "member": 1 + (i * 31) % members, "kind": "offer" if i % 2 else "request",
            "title": f"Aanbod of vraag nummer {i}: hulp bij iets nuttigs", "category": CATEGORIES[i % 8],
            "level": "AS V"[i % 4].strip(), "rate_text": "10 zon per uur",
            "created": CUTOFF - dt.timedelta(minutes=i + 1), "expires": dt.date(2027, 3, 1)}
            for i in range(start, min(start + 500, listings))]).execute()
    return settings


def case_ours(settings) -> int:
    from db.models import DigestDelivery
    from mailer.message.compose import Composer
    from mailer.runs.digest import Run, send_run
    from mailer.outbound.fanout import Sender

    run = Run("weekly", "weekly:2026-11-30", CUTOFF)
    # The real path of `lets digest send`: each batch's delivery rows are committed, then
    # the batch is sent from memory over [digest] connections parallel SMTP connections.
    sender = Sender(settings)
    try:
        send_run(settings, run, Composer(settings), clock=lambda: CUTOFF, sender=sender)
    finally:
        sender.close()
    return DigestDelivery.select().where(DigestDelivery.state == "sent").count()


def case_baseline(settings, limit: int) -> int:
    from markupsafe import Markup

    from db import digest as queries
    from mailer.message.compose import Composer
    from mailer.runs.digest import Builder, Run

    composer = Composer(settings)
    builder = Builder(settings, composer, Run("weekly", "weekly:baseline", CUTOFF))
    recipients = queries.due("weekly:baseline", ("weekly",), 0, limit)
    captured = []
    original = composer.compose

    # Same templates and context as ours; only the message building and sending differ.
    # The shared listing sections stand in the context as placeholders (bulkmime.Fragments):
    # put their text back, so the baseline sends the same mail, listings included.
    def render_only(template, language, context, *, to, headers, mail_from, fragments=None, **_):
        if fragments is not None:
            context = {k: (Markup(fragments.expand(v)) if isinstance(v, Markup) else fragments.expand(v))
                       if isinstance(v, str) else v for k, v in context.items()}
        captured.append((template, language, context, to, headers, mail_from))

    import mailer.message.bulkmime as bulkmime
    bulkmime_compose, bulkmime.compose = bulkmime.compose, lambda c, t, l, ctx, **kw: render_only(t, l, ctx, **kw)
    sent = 0
    with smtplib.SMTP(settings.outbound.relay_host, settings.outbound.relay_port) as client:
        for start in range(0, len(recipients), 200):
            captured.clear()
            builder.batch(recipients[start:start + 200])
            for template, language, context, to, headers, mail_from in captured:
                subject, text, html = composer.render(template, language, context)
                message = EmailMessage(policy=policy.default)
                message["From"] = f"{settings.group.name} <{settings.group.address}>"
                message["To"] = to
                message["Subject"] = subject
                for name, value in headers.items():
                    message[name] = value
                message.set_content(text)
                message.add_alternative(html, subtype="html")
                client.send_message(message, from_addr=mail_from, to_addrs=[to])
                sent += 1
    bulkmime.compose = bulkmime_compose
    composer.compose = original
    return sent


def case_build(settings) -> int:
    """Every member's digest built (queries, templates, MIME) batch by batch and dropped:
    the memory a run needs when nothing is kept but the batch at hand."""
    from db import digest as queries
    from mailer.message.compose import Composer
    from mailer.runs.digest import Builder, Run

    builder = Builder(settings, Composer(settings), Run("weekly", "weekly:build", CUTOFF))
    after, built = 0, 0
    while (recipients := queries.due("weekly:build", ("weekly",), after, settings.digest.batch)):
        after = recipients[-1].member.id
        built += len(builder.batch(recipients))
    return built


def child(args) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="lets-bench-"))
    try:
        settings = prepare(args.members, args.listings, args.port, tmp)
        start = time.perf_counter()
        count = {"ours": lambda: case_ours(settings), "build": lambda: case_build(settings),
                 "baseline": lambda: case_baseline(settings, args.baseline_members)}[args.case]()
        elapsed = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"sent": count, "seconds": elapsed, "peak_mb": peak}))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_case(case, members, listings, port, baseline_members, timeout) -> dict:
    command = [sys.executable, __file__, "--child", case, "--members", str(members), "--listings", str(listings),
               "--port", str(port), "--baseline-members", str(baseline_members)]
    out = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if out.returncode:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, nargs="*", default=[10_000])
    parser.add_argument("--listings", type=int, nargs="*", default=[50, 500])
    parser.add_argument("--baseline-members", type=int, default=2000)
    parser.add_argument("--timeout", type=int, default=1800, help="Seconds per case before giving up.")
    parser.add_argument("--memory-members", type=int, nargs="*", default=[10_000, 100_000],
                        help="Also build (not send) every member's digest at these sizes: peak memory.")
    parser.add_argument("--child", choices=["ours", "baseline", "build"])
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    if args.child:
        args.case, args.members, args.listings = args.child, args.members[0], args.listings[0]
        return child(args)
    sink = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    port = free_port()
    command = [sink, *(["-u", "nobody"] if os.geteuid() == 0 else []), f"127.0.0.1:{port}", "256"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        print(f"{'members':>8} {'listings':>8} {'case':>9} {'sent':>7} {'seconds':>8} {'msg/s':>8} "
              f"{'peak MB':>8} {'speed-up':>8}")
        for members in args.members:
            for listings in args.listings:
                base = run_case("baseline", members, listings, port, min(args.baseline_members, members),
                                args.timeout)
                ours = run_case("ours", members, listings, port, 0, args.timeout)
                base_rate = base["sent"] / base["seconds"]
                for name, result in (("baseline", base), ("ours", ours)):
                    rate = result["sent"] / result["seconds"]
                    print(f"{members:>8} {listings:>8} {name:>9} {result['sent']:>7} {result['seconds']:>8.1f} "
                          f"{rate:>8.0f} {result['peak_mb']:>8.0f} {rate / base_rate:>7.1f}x", flush=True)
        for members in args.memory_members:
            built = run_case("build", members, args.listings[0], port, 0, args.timeout)
            print(f"{members:>8} {args.listings[0]:>8} {'build':>9} {built['sent']:>7} {built['seconds']:>8.1f} "
                  f"{built['sent'] / built['seconds']:>8.0f} {built['peak_mb']:>8.0f} {'-':>8}", flush=True)
    finally:
        process.kill()
        process.wait()


if __name__ == "__main__":
    main()
