"""BOEKEN / BOOKS / COMPTES: the group's accounts by mail, as `[privacy] books` allows."""
import datetime as dt

import pytest

from db import budgets, euro, ledger, members
from db.contributions import parse_period
from db.models import Account
from mailer.runs import contributions as contribution_mail
from mailer.runs import euro as euro_mail
from mailer import settings as settings_module
from mailer.settings import SettingsError
from tests.conftest import SETTINGS_INI, Group

OLD = dt.date(2025, 5, 1)
WHEN = dt.datetime(2027, 5, 3, 10, 0)


def group_with(settings, clock, **privacy) -> Group:
    return Group(settings_module.replace(settings, privacy=privacy), clock)


@pytest.fixture
def year(group, clock):
    """Early 2027: five members (Kees without email), three trades, a gift to the solidarity
    fund, the first quarter's contribution (Piet still a member), the euro notices, one payment and one waiver,
    and a budget with an allocation and a paid claim. Piet has left with a balance."""
    clock.now = WHEN
    settings = group.settings
    an = group.member("An de Vries", "an@example.org", language="nl", joined=OLD)
    sam = group.member("Sam Taylor", "sam@example.org", language="en", joined=OLD)
    claire = group.member("Claire Dubois", "claire@example.org", language="fr", joined=OLD)
    kees = group.member("Kees Bakker", None, joined=OLD)
    piet = group.member("Piet Jansen", "piet@example.org", joined=OLD)
    account = members.account
    solidarity = Account.get(Account.code == "solidarity")
    for payer, payee, cents, text, day in ((an, sam, 2000, "les", 1), (claire, an, 500, "taart", 2),
                                           (kees, claire, 1200, "soep", 3)):
        ledger.transfer_now(account(payer), account(payee), cents, text, limits=settings.limits,
                            now=dt.datetime(2027, 2, day), entered_by="admin")
    ledger.transfer_now(account(sam), solidarity, 300, "gift", limits=settings.limits,
                        now=dt.datetime(2027, 2, 4), entered_by="admin")
    ledger.transfer_now(account(an), account(piet), 700, "fiets", limits=settings.limits,
                        now=dt.datetime(2027, 2, 5), entered_by="admin")
    euro_mail.run(settings, dt.datetime(2027, 1, 2, 8), dt.date(2027, 1, 2))
    euro.record_payment(sam, 1800, on=dt.date(2027, 2, 1), entered_by="t")
    euro.waive(claire, 800, "hardship", on=dt.date(2027, 2, 1), entered_by="t", year=2027)
    contribution_mail.run(settings, parse_period("2027Q1"), now=dt.datetime(2027, 3, 31, 8))
    eco = budgets.create("eco", claire)
    budgets.allocate(eco, 2500, settings=settings, now=dt.datetime(2027, 4, 1), entered_by="admin")
    ledger.transfer_now(Account.get_by_id(eco.account_id), account(an), 400, "claim eco 2027-04: ledenlijst",
                        limits=settings.limits, now=dt.datetime(2027, 4, 2), entered_by="admin", initiator="claim")
    piet.status = "left"
    piet.save()
    return {"an": an, "sam": sam, "claire": claire, "kees": kees, "piet": piet}


def balances() -> dict[str, int]:
    return {a.name: a.balance_cents for a in Account.select()}


def test_books_in_dutch_show_the_extremes_the_groups_accounts_contributions_budgets_and_the_head(group, year):
    group.mail("an@example.org", "BOEKEN")
    mail = group.last("an@example.org")
    text = mail.text
    assert mail.subject == "De boeken van LETS Demo op 3 mei 2027"
    assert mail.message["Content-Language"] == "nl" and mail.message["In-Reply-To"]
    now = balances()
    trading = [now[n] for n in ("An de Vries", "Sam Taylor", "Claire Dubois", "Kees Bakker")]
    # By default the group shows only the highest and the lowest balance, and no name.
    assert "SALDI VAN DE LEDEN (4 leden)" in text
    assert f"{max(trading) / 100:.2f}".replace(".", ",") + "  hoogste saldo" in text
    assert f"{min(trading) / 100:.2f}".replace(".", ",") + "  laagste saldo" in text
    for name in ("Sam Taylor", "Claire Dubois", "Kees Bakker", "Piet Jansen"):
        assert name not in text and name not in mail.html
    assert "@example.org" not in text and "@example.org" not in mail.html
    # Piet left with 1 zon (7 earned, 6 contribution): counted, not named.
    assert "1,00  oud-leden en leden die nu niet ruilen, samen" in text
    assert f"{now['Association'] / 100:.2f}".replace(".", ",") + "  Vereniging" in text
    assert "3,00  Solidariteitsfonds" in text
    assert "21,00  budget eco: over (in 2027 toegekend 25,00, uitgegeven 4,00)" in text
    assert "0,00  alle rekeningen samen" in text
    assert "In zonnen: 5 keer geïnd, samen 30,00 zonnen." in text
    due = 5 * 1800
    assert (f"In euro: verschuldigd € {due // 100},00, betaald € 18,00, kwijtgescholden € 8,00, "
            f"nog open € {(due - 2600) // 100},00.") in text.replace("\xa0", " ")
    assert f"{ledger.head().number} geboekte transacties" in text
    assert "  " + ledger.head_hash() + "\n" in text and len(ledger.head_hash()) == 64


def test_books_list_every_trading_member_by_number_and_name_when_the_group_shows_all(settings, clock, db, year):
    group = group_with(settings, clock, books="all", show_addresses=True)
    group.mail("sam@example.org", "Books")
    mail = group.last("sam@example.org")
    assert mail.subject == "The books of LETS Demo on 3 May 2027"
    now = balances()
    for member in ("an", "sam", "claire", "kees"):
        row = year[member]
        assert f"{now[row.name] / 100:.2f}  member {row.number}, {row.name}\n" in mail.text
    # A member without email is listed like the others; no address is shown, and a member
    # who left is counted in a total, never named.
    assert "Kees Bakker" in mail.html and "Piet Jansen" not in mail.text
    assert "@example.org" not in mail.text and "@example.org" not in mail.html
    assert mail.text.index("member 1, An") < mail.text.index("member 2, Sam") < mail.text.index("member 4, Kees")


def test_books_show_only_totals_when_the_group_says_so(settings, clock, db, year):
    group = group_with(settings, clock, books="totals")
    group.mail("claire@example.org", "COMPTES")
    mail = group.last("claire@example.org")
    assert mail.subject == "Les comptes de LETS Demo au 3 mai 2027"
    now = balances()
    trading = [now[n] for n in ("An de Vries", "Sam Taylor", "Claire Dubois", "Kees Bakker")]
    assert "ne montre que ce que les membres ont ensemble" in mail.text
    assert "plus haut" not in mail.text and "plus bas" not in mail.text
    assert "Claire Dubois" not in mail.text and "An de Vries" not in mail.text
    credit = sum(c for c in trading if c > 0)
    assert f"{credit / 100:.2f}".replace(".", ",") + "  ensemble au-dessus de zéro" in mail.text
    assert "Fonds de solidarité" in mail.text and ledger.head_hash() in mail.text


def test_a_non_member_asking_for_the_books_gets_no_figures(group, year):
    group.mail("stranger@example.com", "BOOKS")
    mail = group.last("stranger@example.com")
    assert ledger.head_hash() not in mail.text and "eco" not in mail.text


def test_books_is_a_command_alone_not_the_first_word_of_a_sentence(group, year):
    group.mail("an@example.org", "Boeken te koop")
    assert "boeken" not in group.last("an@example.org").subject.lower()


def test_the_books_setting_takes_only_its_three_values(tmp_path):
    path = tmp_path / "settings.ini"
    path.write_text(SETTINGS_INI.read_text().replace("books = extremes", "books = everything"))
    with pytest.raises(SettingsError, match=r"\[privacy\] books: 'everything' is not one of all, extremes, totals"):
        settings_module.load(path, environ={})
    assert settings_module.load(path, environ={"LETS_PRIVACY_BOOKS": "totals"}).privacy.books == "totals"
