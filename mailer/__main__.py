"""`python -m mailer`: the `lets` command line, for where the `lets` script is not on PATH."""
from mailer.cli import main

if __name__ == "__main__":
    main(prog_name="lets")
