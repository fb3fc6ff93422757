"""Where a payment confirmation's processing time goes, without SMTP or a worker process.

Sets up a group of 50 members in a temporary SQLite file, stores N BETAAL proposals and
their JA answers (the proposals are processed untimed), then processes the answers in
batches as the worker does, under cProfile. Prints ms per confirmation and the top
functions by cumulative time.

    .venv/bin/python bench/profile_confirmation.py [--count 200] [--top 40] [--no-profile]
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from db import connect, members  # noqa: E402
from db.migrations import upgrade  # noqa: E402
from db.models import OutboundMessage  # noqa: E402
from mailer import settings as settings_module  # noqa: E402
from mailer.pipeline import BATCH, Processor, store_many  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from inbound import GROUP, MEMBERS, confirmation, proposal  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--no-profile", action="store_true", help="time only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name in [n for n in os.environ if n.startswith("LETS_")]:
            del os.environ[name]
        base = settings_module.load(ROOT / "settings.ini")
        settings = settings_module.replace(
            base, database={"url": f"sqlite:///{tmp}/lets.db"}, security={"secret": "bench"},
            outbound={"mode": "maildir", "maildir": f"{tmp}/outbox"}, group={"address": GROUP})
        connect(settings.database_url)
        upgrade()
        members.ensure_system_accounts()
        for i in range(MEMBERS):
            members.add(f"Member {i}", f"m{i}@example.org")
        processor = Processor(settings)

        def run(mails):
            ids = store_many([(raw, sender, [recipient]) for sender, recipient, raw in mails])
            for start in range(0, len(ids), BATCH):
                processor.process_many(ids[start:start + BATCH])

        run([proposal(i) for i in range(args.count)])
        answers = []
        for i, row in enumerate(OutboundMessage.select().where(OutboundMessage.kind == "trade/confirm")
                                .order_by(OutboundMessage.id)):
            token = re.search(rb"lets\+t-([a-z2-7]{24})@", bytes(row.raw)).group(1).decode()
            answers.append(confirmation(i, row.recipient, token))
        before = OutboundMessage.select().count()
        profile = None if args.no_profile else cProfile.Profile()
        t0 = time.perf_counter()
        if profile:
            profile.enable()
        run(answers)
        if profile:
            profile.disable()
        elapsed = time.perf_counter() - t0
        receipts = OutboundMessage.select().count() - before
        assert receipts == 2 * len(answers), f"{receipts} receipts for {len(answers)} confirmations"
        print(f"{len(answers)} confirmations, {receipts} receipts: "
              f"{elapsed / len(answers) * 1000:.2f} ms per confirmation"
              f"{' (under cProfile)' if profile else ''}")
        if profile:
            pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
