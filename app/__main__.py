"""`python -m app` is the `brigade` command."""

from app.cli import main

main()
