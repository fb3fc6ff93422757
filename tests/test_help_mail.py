"""HULP / HELP / AIDE: the text lists each command with its explanation indented below it;
the HTML sets the same commands in <code> in a definition list, the explanation beside."""
from html.parser import HTMLParser

import pytest


class Definitions(HTMLParser):
    """(command lines in <code>, explanation) for each <dt>/<dd> pair, and where text stood."""

    def __init__(self):
        super().__init__()
        self.entries, self.open, self.code = [], [], False

    def handle_starttag(self, tag, attrs):
        self.open.append(tag)
        if tag == "dt":
            self.entries.append([[], ""])
        self.code = tag == "code" and "dt" in self.open

    def handle_endtag(self, tag):
        while self.open and self.open.pop() != tag:
            pass
        self.code = False

    def handle_data(self, data):
        if self.code:
            self.entries[-1][0].append(data)
        elif self.open and self.open[-1] == "dd":
            self.entries[-1][1] += data
        elif data.strip() and "dt" in self.open:
            raise AssertionError(f"text outside <code> in a command: {data!r}")


def text_entries(text: str) -> list[tuple[list[str], str]]:
    """The text version's list: unindented lines are a command, indented ones its explanation."""
    listing = text.split("\n\n")[1 if text.startswith(("Stuur", "Send", "Envoyez")) else 2]
    entries = []
    for line in listing.splitlines():
        if line.startswith("    "):
            entries[-1][1].append(line.strip())
        elif entries and entries[-1][1]:
            entries.append(([line], []))
        elif entries:
            entries[-1][0].append(line)
        else:
            entries.append(([line], []))
    return [(command, " ".join(explanation)) for command, explanation in entries]


@pytest.mark.parametrize("sender, word, first, proxy", [
    ("an@example.org", "HULP", ["AANBOD: Fietsherstel"], ["VOOR piet", "BETAAL 12 aan an voor soep"]),
    ("sam@example.org", "HELP", ["OFFER: Bicycle repair"], ["FOR piet", "PAY 12 to an for soup"]),
    ("claire@example.org", "AIDE", ["OFFRE: Réparation de vélos"], ["POUR piet", "PAYER 12 à an pour de la soupe"]),
])
def test_help_html_sets_commands_in_code_apart_from_their_explanations_as_the_text_lists_them(
        group, an, sam, claire, sender, word, first, proxy):
    group.mail(sender, word)
    sent = group.last(sender)
    parser = Definitions()
    parser.feed(sent.html)
    html = [(command, " ".join(explanation.split())) for command, explanation in parser.entries]
    text = text_entries(sent.text)
    assert len(html) == len(text) == 24
    assert html == text
    assert html[0][0] == first and "10 zonnen" in html[0][1]
    assert proxy in [command for command, _ in html]
    assert '<a href="mailto:lets@lets.example">lets@lets.example</a>' in sent.html


@pytest.mark.parametrize("sender, subject, said", [
    ("an@example.org", "wat kan ik hier doen", "We herkenden geen opdracht in je mail."),
    ("sam@example.org", "what can I do here", "We did not recognise a command in your mail."),
    ("claire@example.org", "que puis-je faire", "Nous n'avons pas reconnu de commande dans votre message."),
])
def test_a_mail_not_understood_says_so_above_the_same_list_in_text_and_html(group, an, sam, claire, sender,
                                                                            subject, said):
    group.mail(sender, subject)
    sent = group.last(sender)
    assert sent.text.startswith(said)
    assert said.replace("'", "&#39;") in sent.html.split("<dl")[0]
    parser = Definitions()
    parser.feed(sent.html)
    assert len(parser.entries) == len(text_entries(sent.text)) == 24
