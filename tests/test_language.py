"""A mail without a command word is answered in the language it is written in, when the
sender is not a member (a member's own choice of language always wins)."""
import pytest

from mailer.message.language import detect


@pytest.mark.parametrize("language, text", [
    ("nl", "Hoe word ik lid?"),
    ("nl", "Goedemiddag, ik ben net verhuisd en zoek een ruilkring. Groeten, Els"),
    ("nl", "Vraagje over lidmaatschap"),
    ("en", "How do I join?"),
    ("en", "I'm new in town and I'd like to take part"),
    ("en", "Hi! Where do I sign up?"),
    ("fr", "Comment devenir membre ?"),
    ("fr", "J’aimerais savoir s’il faut payer"),
    ("fr", "Bonjour, est-ce que je peux participer ?"),
    ("fr", "Informations"),
])
def test_short_questions_are_told_apart_by_their_common_words(language, text):
    assert detect(text) == language


@pytest.mark.parametrize("text", ["", "Information", "12 34", "Arnhem Nijmegen", "de en je in is me we"])
def test_no_telling_word_or_only_shared_ones_say_nothing(text):
    assert detect(text) is None


def test_a_tie_says_nothing_and_the_subject_and_body_count_together():
    assert detect("Hallo", "hello") is None
    assert detect("Hallo", "how do I join") == "en"


def test_only_the_first_2000_characters_are_read():
    assert detect("Bonjour " * 250 + "the and with from " * 500) == "fr"


@pytest.mark.parametrize("language, sender, subject, body, reply_subject, says", [
    ("fr", "camille@example.fr", "Renseignements",
     "Bonjour,\n\nComment est-ce que je peux devenir membre de votre SEL ?\n\nMerci, Camille",
     "LETS Demo : réservé aux membres", "Envoyez un e-mail avec pour objet ADHÉRER et votre nom"),
    ("en", "jo@example.co.uk", "Question",
     "Hello,\n\nHow can I become a member of your group? I live nearby.\n\nThanks, Jo",
     "LETS Demo: for members only", "Send a mail with JOIN and your name as the subject"),
    ("nl", "els@example.nl", "Vraagje",
     "Hallo,\n\nHoe kan ik lid worden van jullie ruilkring? Ik woon in de buurt.\n\nGroeten, Els",
     "LETS Demo: alleen voor leden", "Stuur dan een mail met als onderwerp AANMELDEN en je naam"),
])
def test_a_non_member_asking_how_to_join_is_answered_in_their_own_language(
        group, language, sender, subject, body, reply_subject, says):
    group.mail(sender, subject, body)
    reply = group.last(sender)
    assert reply.subject == reply_subject
    assert says in reply.text
    assert reply.message["Content-Language"] == language


def test_the_groups_language_answers_a_non_member_whose_words_say_nothing(group):
    group.mail("x@example.com", "Information", "Arnhem?")
    assert group.last("x@example.com").subject == "LETS Demo: alleen voor leden"


def test_a_members_own_language_wins_over_the_words_of_the_mail(group, an):
    group.mail("an@example.org", "Question", "Hello, how do I see my offers?")
    assert group.last("an@example.org").subject == "Zo werkt LETS Demo per mail"


def test_the_letters_of_a_token_in_a_subject_are_no_words():
    """A reply's subject holds our token; its random letters once read as "ja" or "der"."""
    from mailer.message.language import detect
    assert detect("Re: bevestig [a-ja2derx7the3ich4ist5zu6ab]", "YES") is None
    assert detect("Re: [a-ja2derx7the3ich4ist5zu6ab] Hallo, ich möchte mitmachen") == "de"
