"""Benchmark: a ledger of one million booked transfers among 10,000 members.

    python bench/ledger.py                        # 1,000,000 transfers, 10,000 members
    python bench/ledger.py --transfers 100000     # a quick run

A fresh SQLite file (WAL, synchronous=FULL, as `lets serve` runs). Booking every
transfer one by one through db/ledger.py would take hours (about 60 a second here),
so the first --sample transfers (default 2,000) are booked through the normal path,
`ledger.transfer_now` (proposal, limits, lock, balances, hash chain, one commit each),
and timed; the rest are bulk-loaded with the same chain hash function, continuing the
chain from the sampled head, with the balances they imply. `ledger verify` and
`ledger check` then run over the whole chain, so a bulk row that broke the chain would
show. The baseline, measured in the same run, inserts the same sample rows into a bare
SQLite table with the same pragmas, one commit each. Loopback only; nothing is sent.
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

START = dt.datetime(2020, 1, 1, 8, 0)
WORDS = ("fietsherstel", "soep", "oppassen", "tuinwerk", "brood", "les Frans", "verhuizing", "naailes")


def prepare(path: Path, members: int):
    from db import connect, database
    from db.migrations import upgrade
    from db.members import ensure_system_accounts
    from db.models import Account, Address, Member
    from mailer import settings as settings_module

    settings = settings_module.replace(
        settings_module.load(ROOT / "settings.ini"), database={"url": f"sqlite:///{path}"},
        security={"secret": "bench"},
        # Wide limits: the benchmark measures booking, not refusals.
        limits={"regular_lower": -10**7, "regular_upper": 10**7, "newcomer_months": 0})
    connect(settings.database_url)
    upgrade()
    ensure_system_accounts()
    with database.atomic():
        for start in range(1, members + 1, 5000):
            numbers = range(start, min(start + 5000, members + 1))
            Member.insert_many([{"number": n, "name": f"Lid {n}", "joined": dt.date(2019, 1, 1)}
                                for n in numbers]).execute()
            Address.insert_many([{"member": n, "email": f"m{n}@example.org", "primary": True}
                                 for n in numbers]).execute()
            Account.insert_many([{"member": n, "code": f"member:{n}", "name": f"Lid {n}"}
                                 for n in numbers]).execute()
    accounts = [row.id for row in Account.select(Account.id).where(Account.member.is_null(False))]
    return settings, accounts


def trades(count: int, accounts: list[int], seed: int):
    """(payer, payee, cents, description): the same sequence for ours and the baseline."""
    rng = random.Random(seed)
    for i in range(count):
        payer, payee = rng.sample(accounts, 2)
        yield payer, payee, rng.randint(1, 60) * 50, f"{WORDS[i % len(WORDS)]} {i}"


def book_sample(settings, accounts, count: int) -> float:
    from db import ledger
    from db.models import Account

    rows = list(trades(count, accounts, 1))
    by_id = {a.id: a for a in Account.select().where(Account.id.in_(accounts))}
    began = time.perf_counter()
    for i, (payer, payee, cents, text) in enumerate(rows):
        ledger.transfer_now(by_id[payer], by_id[payee], cents, text, limits=settings.limits,
                            now=START + dt.timedelta(seconds=i), entered_by="bench")
    return time.perf_counter() - began


def baseline_sample(path: Path, accounts, count: int) -> float:
    """The same rows into a bare table, one commit each, with lets' pragmas."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=wal")
    connection.execute("PRAGMA synchronous=full")
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, payer INT, payee INT, cents INT, text TEXT)")
    rows = list(trades(count, accounts, 1))
    began = time.perf_counter()
    for row in rows:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT INTO t (payer, payee, cents, text) VALUES (?, ?, ?, ?)", row)
        connection.execute("COMMIT")
    elapsed = time.perf_counter() - began
    connection.close()
    return elapsed


def bulk_load(accounts, first: int, count: int) -> float:
    """The rest of the journal, chained with db/ledger.py's own hash function."""
    from db import database, ledger
    from db.models import Account

    codes = dict(Account.select(Account.id, Account.code).tuples())
    head = ledger.head()
    previous, number = head.hash, head.number
    balances: dict[int, int] = {}
    began = time.perf_counter()
    sql = ("INSERT INTO transfer (amount_cents, payer_id, payee_id, description, state, initiator, entered_by, "
           "created, decided, number, booked, hash, prev_hash, description_hash) "
           "VALUES (?, ?, ?, ?, 'booked', 'admin', 'bench', ?, ?, ?, ?, ?, ?, ?)")
    batch = []
    for i, (payer, payee, cents, text) in enumerate(trades(count, accounts, 2)):
        number += 1
        booked = START + dt.timedelta(seconds=first + i)
        digest = ledger.description_digest(text)
        current = ledger.chain_hash(number, booked, codes[payer], codes[payee], cents, text, digest, previous)
        stamp = booked.strftime("%Y-%m-%d %H:%M:%S.%f")
        batch.append((cents, payer, payee, text, stamp, stamp, number, stamp, current, previous, digest))
        previous = current
        balances[payer] = balances.get(payer, 0) - cents
        balances[payee] = balances.get(payee, 0) + cents
        if len(batch) == 50_000:
            with database.atomic():
                database.cursor().executemany(sql, batch)
            batch = []
    with database.atomic():
        if batch:
            database.cursor().executemany(sql, batch)
        database.cursor().executemany("UPDATE account SET balance_cents = balance_cents + ? WHERE id = ?",
                                      [(delta, account_id) for account_id, delta in balances.items()])
    return time.perf_counter() - began


def per_call(function, arguments) -> tuple[float, float]:
    """(mean, p99) milliseconds of function(argument) over the arguments."""
    times = []
    for argument in arguments:
        began = time.perf_counter()
        function(argument)
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    return statistics.fmean(times), times[min(len(times) - 1, int(len(times) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--transfers", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=2_000, help="booked one by one through db/ledger.py")
    parser.add_argument("--statement", type=int, default=50, help="transfers on a statement")
    parser.add_argument("--queries", type=int, default=300, help="members asked for SALDO and a statement")
    args = parser.parse_args()
    sample = min(args.sample, args.transfers)

    from db import ledger, members
    from db.models import Member
    from handlers import Command, Context
    from handlers import balance

    with tempfile.TemporaryDirectory(prefix="lets-ledger-bench-") as tmp:
        tmp = Path(tmp)
        settings, accounts = prepare(tmp / "ledger.db", args.members)
        booked = book_sample(settings, accounts, sample)
        baseline = baseline_sample(tmp / "baseline.db", accounts, sample)
        loaded = bulk_load(accounts, sample, args.transfers - sample)
        size = sum(f.stat().st_size for f in tmp.glob("ledger.db*")) / 1e6

        chosen = random.Random(3).sample(list(Member.select()), min(args.queries, args.members))
        now = START + dt.timedelta(seconds=args.transfers + 1)

        def saldo(member):
            return balance.handle(Command("balance", "nl"), Context(settings=settings, sender="", member=member,
                                                                    inbound=None, now=now))

        def statement(member):
            return ledger.statement(members.account(member), args.statement)

        saldo_ms = per_call(saldo, chosen)
        statement_ms = per_call(statement, chosen)
        began = time.perf_counter()
        checked, broken = ledger.verify()
        verify_s = time.perf_counter() - began
        began = time.perf_counter()
        problems = ledger.check()
        check_s = time.perf_counter() - began

    print(f"\nLedger: {args.transfers:,} booked transfers among {args.members:,} members "
          f"(SQLite, WAL, synchronous=FULL; file {size:.0f} MB)\n")
    print("| measure | result |")
    print("|---|---|")
    print(f"| book through db/ledger.py (first {sample:,}, one commit each) | {sample / booked:,.0f} transfers/s |")
    print(f"| baseline: same rows, plain INSERT into a bare table, one commit each | {sample / baseline:,.0f} rows/s |")
    print(f"| bulk load of the other {args.transfers - sample:,}, same chain hash (not a booking path) "
          f"| {loaded:.1f} s |")
    print(f"| SALDO (the balance handler's queries), {len(chosen)} members | mean {saldo_ms[0]:.2f} ms, "
          f"p99 {saldo_ms[1]:.2f} ms |")
    print(f"| statement of the last {args.statement} transfers, {len(chosen)} members | mean {statement_ms[0]:.2f} ms, "
          f"p99 {statement_ms[1]:.2f} ms |")
    print(f"| ledger verify, whole chain | {verify_s:.1f} s ({checked:,} transfers, "
          f"{'ok' if broken is None else 'BROKEN: ' + broken}) |")
    print(f"| ledger check, all balances | {check_s:.1f} s ({'ok' if not problems else problems[:3]}) |")
    if broken or problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
