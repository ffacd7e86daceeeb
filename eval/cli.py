"""`dossier eval ...` commands (registered on the `dossier` CLI through the `dossier.cli` entry point)."""
from __future__ import annotations

import typer

eval_app = typer.Typer(no_args_is_help=True, help="Evaluate answer faithfulness and citation accuracy.")
