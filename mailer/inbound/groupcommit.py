"""Group commit for the SMTP edge: mails whose DATA ends at about the same time share one
transaction, so one fsync makes all of them durable, and each gets its 250 only then.

One writer thread owns the database writes of the SMTP server. It takes whatever has
queued up while the previous commit was in flight (a natural batch: no waiting to fill
it), stores the lot with `pipeline.store_many`, and wakes each SMTP session with its
own result. A failed commit fails every mail of the batch: none was stored, none gets
250, each client is told to retry.
"""
from __future__ import annotations

import asyncio
import queue
import threading

from .. import pipeline

# Bounds the transaction (and a failed commit's blast radius); at 10 concurrent
# clients batches stay far below it.
MAX_BATCH = 64


class GroupStore:
    def __init__(self, store_many=pipeline.store_many, max_batch: int = MAX_BATCH):
        self.store_many = store_many
        self.max_batch = max_batch
        self.waiting: queue.SimpleQueue = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="lets-store", daemon=True)
        self.thread.start()

    async def store(self, raw: bytes, mail_from: str | None, rcpt_tos) -> int | None:
        """Store one mail durably; its row id, or None for a Message-ID stored before.
        Raises what the commit raised (a full disk, a database that is away)."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.waiting.put(((raw, mail_from, list(rcpt_tos)), loop, future))
        return await future

    def close(self) -> None:
        self.waiting.put(None)
        self.thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self.waiting.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self.waiting.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self.waiting.put(None)  # finish this batch, then stop
                    break
                batch.append(item)
            try:
                results = self.store_many([mail for mail, _, _ in batch])
            except Exception as exc:  # every waiting session must hear of it
                for _, loop, future in batch:
                    loop.call_soon_threadsafe(_settle, future, None, exc)
                continue
            for (_, loop, future), result in zip(batch, results):
                loop.call_soon_threadsafe(_settle, future, result, None)


def _settle(future: asyncio.Future, result, error) -> None:
    if future.done():  # the client went away while we were committing
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
