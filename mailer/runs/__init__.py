"""The scheduled runs: what `lets serve` does on its clock (scheduled.py) and the command line can start."""
