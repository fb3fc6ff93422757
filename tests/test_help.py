"""`lets --help` lists every command and group with its whole one-line description."""
from click.testing import CliRunner

from mailer.cli import main


def _lines(args):
    result = CliRunner().invoke(main, args, terminal_width=80)
    assert result.exit_code == 0, result.output
    # The commands' part: the usage line's own "[ARGS]..." is not a cut description.
    return " ".join(result.output.split("Commands:", 1)[-1].split())


def test_lets_help_lists_every_command_and_group_with_its_first_sentence_uncut():
    shown = _lines(["--help"])
    assert "..." not in shown
    for name, command in main.commands.items():
        first = " ".join(command.help.split("\n\n")[0].split()).split(". ")[0]
        assert f"{name} {first}" in shown, name


def test_every_group_says_what_it_is_for_and_its_commands_are_listed_uncut():
    for name, command in main.commands.items():
        if not hasattr(command, "commands"):
            continue
        shown = _lines([name, "--help"])
        assert "..." not in shown, name
        assert all(sub in shown for sub in command.commands), name
    member = " ".join(CliRunner().invoke(main, ["member", "--help"]).output.split())
    assert "Members and their membership" in member and "add, list," not in member


def _commands(group, path=()):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


def test_every_example_in_a_command_s_help_stands_whole_on_a_line_of_its_own():
    # Before, click ran "… once. Example: lets digest" and "send" together with the prose.
    import re

    for path, command in _commands(main):
        examples = [" ".join(example.split()) for example in
                    re.findall(r"Example: (.*?)(?=\s*Example: |\n\n|$)", command.help, re.S)]
        assert examples, path
        lines = [line.strip() for line in
                 CliRunner().invoke(main, [*path, "--help"], terminal_width=80).output.splitlines()]
        for example in examples:
            assert f"Example: {example}" in lines, (path, example)
