"""`python -m pipeline.cli`: the `behaviours` command without the installed script."""

from pipeline.cli import main

main()
