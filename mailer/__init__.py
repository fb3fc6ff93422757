"""The edge: mail in and out, the command line and `lets serve`; rooms for each kind of thing (see README, How it works)."""
