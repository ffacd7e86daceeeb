"""`python -m dossier`: the same as the `dossier` console script."""
from dossier.cli import main

main()
