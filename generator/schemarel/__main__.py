"""`python -m schemarel`: the command line."""

from schemarel.cli.main import main

if __name__ == "__main__":
    main()
