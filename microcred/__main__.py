"""``python -m microcred``: the same command line as the ``microcred`` script (``microcred demo`` starts its
services this way, with the interpreter it runs on)."""

from microcred.cli import main

main(prog_name="microcred")
