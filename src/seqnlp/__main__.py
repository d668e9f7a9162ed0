"""`python -m seqnlp` runs the command line."""

from seqnlp.cli.main import main

if __name__ == "__main__":
    main()
