"""A receipt is threaded to the mail it answers: the payer's JA (or a payment that was its
own consent), the payee's invoice; a receipt that answers no mail of its reader has no
In-Reply-To or References."""
import pytest

from db import budgets, members
from mailer import settings as settings_module
from mailer.runs import trades as trade_mail

OURS = "mx.lets.example"


@pytest.fixture
def settings(settings):
    return settings_module.replace(settings, limits={"newcomer_months": 0},
                                   trades={"trusted_authserv_id": OURS, "open_days": 30})


def answer(group, sender, ask, word, message_id, references=()):
    """A reply to `ask` as a mail program writes it: to its Reply-To, with the thread so far."""
    chain = " ".join([*references, ask.message["Message-ID"]])
    return group.mail(sender, "Re: " + ask.subject, word + "\n\n> quoted\n", message_id=message_id,
                      headers={"In-Reply-To": ask.message["Message-ID"], "References": chain},
                      rcpt=[ask.message["Reply-To"]])


def threading(sent):
    return sent.message["In-Reply-To"], sent.message["References"], sent.message["Auto-Submitted"]


def test_the_payers_receipt_answers_the_payers_ja_and_the_payees_answers_nothing(group, an, piet):
    group.mail("an@example.org", "BETAAL 12 aan piet voor fietsherstel", message_id="<pay-1@example.org>")
    ask = group.last("an@example.org")
    answer(group, "an@example.org", ask, "JA", "<ja-1@example.org>", references=["<pay-1@example.org>"])

    to_an, to_piet = group.last("an@example.org"), group.last("piet@example.org")
    assert to_an.subject == "Bewijs #1: 12,00 zonnen aan Piet Jansen"
    assert threading(to_an) == ("<ja-1@example.org>",
                                f"<pay-1@example.org> {ask.message['Message-ID']} <ja-1@example.org>",
                                "auto-replied")
    assert to_piet.subject.startswith("Bewijs #1: 12,00 zonnen van An de Vries [r-")
    assert threading(to_piet) == (None, None, "auto-generated")


def test_an_invoice_receipt_answers_the_payers_ja_and_the_payees_invoice(group, claire, sam):
    group.mail("sam@example.org", "INVOICE 20 to Claire for piano lessons", message_id="<invoice-1@example.org>",
               headers={"In-Reply-To": "<lesson@example.org>", "References": "<offer@lets.example> <lesson@example.org>"})
    invoice = group.last("claire@example.org")
    answer(group, "claire@example.org", invoice, "OUI", "<oui-1@example.org>")

    to_claire, to_sam = group.last("claire@example.org"), group.last("sam@example.org")
    assert to_claire.subject == "Reçu n° 1 : 20,00 zonnen à Sam Taylor"
    assert threading(to_claire) == ("<oui-1@example.org>", f"{invoice.message['Message-ID']} <oui-1@example.org>",
                                    "auto-replied")
    assert to_sam.subject == "Receipt #1: 20.00 zonnen from Claire Dubois"
    assert threading(to_sam) == ("<invoice-1@example.org>",
                                 "<offer@lets.example> <lesson@example.org> <invoice-1@example.org>", "auto-replied")


def test_an_open_invoice_booked_later_answers_the_payees_invoice(group, settings, an, piet, sam):
    trade_mail.enter(settings, "an@example.org", "sam@example.org", 29500, "x", now=group.clock(), entered_by="admin")
    group.mail("piet@example.org", "FACTUUR OPEN 20 aan an voor soep", message_id="<invoice-2@example.org>")
    answer(group, "an@example.org", group.last("an@example.org"), "JA", "<ja-2@example.org>")
    assert group.last("piet@example.org").subject == "Open op jouw risico: 20,00 zonnen van An de Vries"
    assert threading(group.last("piet@example.org"))[0] == "<invoice-2@example.org>"
    assert threading(group.last("an@example.org"))[0] == "<ja-2@example.org>"

    # An administrator's entry makes room: the invoice is booked, and its receipts go out
    # from the command line, where no inbound mail is answered but the invoice still is.
    trade_mail.enter(settings, "sam@example.org", "an@example.org", 3000, "y", now=group.clock(), entered_by="admin")
    assert members.account(piet).balance_cents == 2000
    to_piet = group.last("piet@example.org")
    assert to_piet.subject == "Bewijs #3: 20,00 zonnen van An de Vries"
    assert threading(to_piet) == ("<invoice-2@example.org>", "<invoice-2@example.org>", "auto-replied")
    assert group.last("an@example.org").subject == "Bewijs #3: 20,00 zonnen aan Piet Jansen"
    assert threading(group.last("an@example.org")) == (None, None, "auto-generated")


def test_a_payment_booked_at_once_answers_the_payment_mail(group, an, piet):
    raw = ("Authentication-Results: mx.lets.example; dmarc=pass header.from=example.org\r\n"
           "From: an@example.org\r\nTo: lets@lets.example\r\nSubject: BETAAL 12 aan piet voor fietsherstel\r\n"
           "Message-ID: <pay-3@example.org>\r\nReferences: <offer-7@lets.example>\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\n\r\n")
    group.receive(raw, mail_from="an@example.org")
    to_an = group.last("an@example.org")
    assert to_an.subject == "Bewijs #1: 12,00 zonnen aan Piet Jansen"
    assert threading(to_an) == ("<pay-3@example.org>", "<offer-7@lets.example> <pay-3@example.org>", "auto-replied")
    assert threading(group.last("piet@example.org")) == (None, None, "auto-generated")


def test_the_payees_receipt_answers_the_invoice_only_in_the_mailbox_that_sent_it(group, an, piet):
    # Piet invoices from his second address; his receipts go to his first one.
    members.add_address(piet, "piet@work.example")
    group.mail("piet@work.example", "FACTUUR 5 aan an voor soep", message_id="<invoice-4@example.org>")
    answer(group, "an@example.org", group.last("an@example.org"), "JA", "<ja-4@example.org>")
    to_piet = group.last("piet@example.org")
    assert to_piet.subject == "Bewijs #1: 5,00 zonnen van An de Vries"
    assert threading(to_piet) == (None, None, "auto-generated")


def test_a_claimants_receipt_answers_the_claim(group, an, piet):
    budget = budgets.create("ledenadministratie", piet)
    budgets.allocate(budget, 1000, settings=group.settings, now=group.clock(), entered_by="admin")
    group.mail("an@example.org", "DECLARATIE 4 voor ledenadministratie ledenlijst", message_id="<claim-1@example.org>")
    answer(group, "piet@example.org", group.last("piet@example.org"), "JA", "<ja-5@example.org>")
    to_an = group.last("an@example.org")
    assert to_an.subject.startswith("Bewijs #")
    assert threading(to_an) == ("<claim-1@example.org>", "<claim-1@example.org>", "auto-replied")
