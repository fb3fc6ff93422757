"""Rows read with SQL made once (db/prepared.py) are the rows the ORM reads."""
from __future__ import annotations

import datetime as dt

from db import ledger, members
from db.models import Account, ConsentToken, Member, Transfer
from db.prepared import by_id


def test_a_row_read_by_id_holds_the_same_values_as_the_orm_reads(group, clock, an, sam):
    payer, payee = members.account(an), members.account(sam)
    transfer = ledger.propose(payer, payee, 1250, "tuinwerk", limits=group.settings.limits, now=clock())
    ledger.issue_token(transfer, an.primary_address, now=clock(), days=14)
    booked = ledger.book(transfer, limits=group.settings.limits, now=clock() + dt.timedelta(minutes=1)).transfer
    for model, row_id in ((Transfer, booked.id), (Account, payer.id), (Member, an.id),
                          (ConsentToken, ConsentToken.get(ConsentToken.transfer == booked.id).id)):
        fast, orm = by_id(model, row_id), model.get_by_id(row_id)
        assert fast.__data__ == orm.__data__
        assert not fast._dirty
    fast = by_id(Transfer, booked.id)
    assert (fast.state, fast.number, fast.payee_risk, fast.payer.id) == ("booked", 1, False, payer.id)
    assert isinstance(fast.booked, dt.datetime) and isinstance(fast.created, dt.datetime)

