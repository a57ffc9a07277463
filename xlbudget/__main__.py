"""``python -m xlbudget``: the command line."""

from .cli import main

main()
