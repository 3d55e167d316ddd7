"""The ``hrkg`` script and ``python -m hrkg``: onto mimalloc first, then the command line.

Kept apart from :mod:`hrkg.cli` so that the restart (:mod:`hrkg.allocator`) happens before
the command line's imports, which take a few tenths of a second.
"""

from hrkg.allocator import restart_with_allocator


def main() -> None:
    restart_with_allocator()
    from hrkg.cli import main as run_command

    run_command()


if __name__ == "__main__":
    main()
