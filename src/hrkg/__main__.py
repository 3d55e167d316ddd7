"""``python -m hrkg`` runs the command line, like the ``hrkg`` script."""

from hrkg.cli import main

main()
