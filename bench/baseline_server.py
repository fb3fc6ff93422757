"""Baseline SMTP servers for the inbound benchmark: `null` (accept, do nothing) and
`parse-insert` (a full email.policy.default parse and one SQLite insert per mail)."""
from __future__ import annotations

import email
import email.policy
import signal
import sqlite3
import sys
import threading

from aiosmtpd.controller import Controller


class Null:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


class ParseInsert:
    def __init__(self, path):
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.execute("create table if not exists mail (id integer primary key, message_id text, subject text, sender text, body text, raw blob)")
        self.db.commit()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        body = message.get_body(("plain", "html"))
        self.db.execute("insert into mail (message_id, subject, sender, body, raw) values (?, ?, ?, ?, ?)",
                        (str(message["Message-ID"]), str(message["Subject"]), str(message["From"]),
                         body.get_content() if body else "", envelope.original_content))
        self.db.commit()
        return "250 OK"


def main():
    mode, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    handler = Null() if mode == "null" else ParseInsert(path)
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
