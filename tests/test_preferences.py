"""DIGEST, TAAL / LANGUAGE / LANGUE, ALLEEN / ONLY / SEULEMENT by mail: the member's choice and its answer."""
import pytest

from db.models import MemberPreference


@pytest.mark.parametrize("sender, command, subject, sentence", [
    ("an@example.org", "ALLEEN tuin,vervoer", "Rubrieken in je overzicht: Tuin, Vervoer",
     "Je overzicht toont alleen nog aanbod en vragen in: Tuin, Vervoer."),
    ("sam@example.org", "ONLY garden,transport", "Digest categories: Garden, Transport",
     "Your digest will only show offers and requests in: Garden, Transport."),
    ("claire@example.org", "SEULEMENT jardin,transport", "Rubriques de votre résumé : Jardin, Transport",
     "Votre résumé ne montrera que les offres et demandes de : Jardin, Transport."),
])
@pytest.mark.parametrize("where", ["subject", "body"])
def test_only_answers_with_the_categories_in_the_subject_and_the_explanation_in_the_body(
        group, an, sam, claire, sender, command, subject, sentence, where):
    group.mail(sender, command, "") if where == "subject" else group.mail(sender, "", command + "\n")
    reply = group.last(sender)
    assert reply.subject == subject
    assert reply.text.startswith(sentence + "\n")
    assert sentence in reply.html
    assert MemberPreference.get().categories == "garden,transport"   # the codes of the group's list


@pytest.mark.parametrize("sender, command, subject, sentence", [
    ("an@example.org", "ALLEEN ALLES", "Rubrieken in je overzicht", "Je overzicht toont alle rubrieken."),
    ("sam@example.org", "ONLY ALL", "Digest categories", "Your digest shows every category."),
    ("claire@example.org", "SEULEMENT TOUT", "Rubriques de votre résumé", "Votre résumé montre toutes les rubriques."),
])
def test_only_all_shows_every_category_again_and_says_so_in_the_body(group, an, sam, claire, sender, command,
                                                                       subject, sentence):
    group.mail(sender, command.split()[0] + " tuin")
    group.mail(sender, command)
    reply = group.last(sender)
    assert reply.subject == subject
    assert reply.text.startswith(sentence + "\n")
    assert MemberPreference.get().categories == ""
