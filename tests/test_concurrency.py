"""Several worker processes on one database: every mail is handled exactly once."""
import multiprocessing

from db import connect, is_postgres, is_sqlite
from db.models import InboundMessage, OutboundMessage
from mailer import settings as settings_module
from mailer.pipeline import Processor, store

from conftest import TEST_DATABASE

MAILS = 300


def work(settings, start, results):
    """One worker process: wait for the start signal, then process until nothing is left."""
    connect(settings.database_url)
    processor = Processor(settings)
    start.wait(30)
    calls = 0
    while rows := list(processor.pending(limit=1000)):
        for row in rows:
            processor.process(row.id)
            calls += 1
    results.put(calls)


def test_the_suite_uses_the_database_it_was_asked_for(db):
    assert is_postgres() if TEST_DATABASE.startswith("postgres") else is_sqlite()


def test_two_worker_processes_never_answer_a_mail_twice(settings, db, group):
    group.member("Sam Taylor", "sam@example.org", language="en")
    settings = settings_module.replace(settings, inbound={"max_per_hour": 0})  # one sender, many mails
    ids = []
    # Enough mail that the work outlasts the two processes' start-up skew on a busy machine.
    for n in range(MAILS):
        raw = (f"From: sam@example.org\r\nTo: {settings.group.address}\r\nSubject: HELP\r\n"
               f"Message-ID: <race-{n}@example.org>\r\n\r\nhelp please\r\n").encode()
        ids.append(store(raw, "sam@example.org", [settings.group.address]))
    db.close()
    context = multiprocessing.get_context("spawn")
    start, results = context.Event(), context.Queue()
    workers = [context.Process(target=work, args=(settings, start, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    start.set()
    reports = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0
    assert all(reports), "both workers took part"
    assert InboundMessage.select().where(InboundMessage.state == "processed").count() == MAILS
    replies = [row.inbound_id for row in OutboundMessage.select()]
    assert sorted(replies) == sorted(ids), "one reply per mail, none twice"
