"""`python -m mailer.cli`: the `lets` command line, as `python -m mailer` runs it too."""
from mailer.cli import main

main()
