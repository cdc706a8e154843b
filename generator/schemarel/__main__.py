"""`python -m schemarel`: the command line."""

from schemarel.cli.main import run

if __name__ == "__main__":
    run()
