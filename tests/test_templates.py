"""Every mail template starts with a one-line subject and a blank line, whatever its context."""
import jinja2
import pytest

from mailer.message.compose import TEMPLATES, Composer


class Anything(jinja2.ChainableUndefined):
    """A value for every name a template uses: empty, false in a test, zero in arithmetic.
    Conditions take their `else` branch, which is where a tag that eats the subject's
    newline shows (trim_blocks removes it whichever branch runs)."""

    def _same(self, *args):
        return self

    def _false(self, other):
        return False

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _same
    __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = __neg__ = __pos__ = __abs__ = _same
    __lt__ = __le__ = __gt__ = __ge__ = _false

    def __int__(self):
        return 0

    def __float__(self):
        return 0.0


LANGUAGES = ("nl", "en", "fr", "de")
# (template file, language): every mail of the one tree, in every language.
MAILS = sorted((str(path.relative_to(TEMPLATES)), language)
               for path in TEMPLATES.glob("*/*.txt") if path.parts[-2] != "locale" and not path.name.startswith("_")
               for language in LANGUAGES)


@pytest.mark.parametrize("name,language", MAILS)
def test_every_mail_template_renders_a_one_line_subject_then_a_blank_line(settings, name, language):
    composer = Composer(settings)
    composer.env.undefined = Anything
    rendered = composer.env.get_template(name).render(composer.common(language))
    first, second = (rendered.split("\n") + [""])[:2]
    assert first.startswith("Subject:") and second == "", f"{name} starts {rendered[:100]!r}"


def test_a_template_whose_subject_line_runs_into_its_body_is_refused(settings, tmp_path):
    (tmp_path / "x").mkdir(parents=True)
    (tmp_path / "x" / "y.txt").write_text("Subject: Categories{% if c %}: {{ c }}{% endif %}\n\n"
                                                 "{% if c %}\nOnly {{ c }}.\n{% else %}\nAll.\n{% endif %}\n")
    with pytest.raises(ValueError, match="one-line Subject"):
        Composer(settings, templates=tmp_path).render("x/y", "en", {"c": "garden"})
