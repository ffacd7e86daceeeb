"""What every `dossier` command module shares: the user-error type, consoles, JSON output, and a
collector that holds a module's commands until the root CLI registers them (so no command module
imports the module that imports it)."""
from __future__ import annotations

import json
import sys
from typing import Callable

import typer
from rich.console import Console

from .context import AppContext

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)  # soft_wrap: an error stays one line


class UserError(Exception):
    """A problem the user can fix; printed as one line, exit status 2."""


def ctx_of(ctx: typer.Context) -> AppContext:
    return ctx.obj


def emit_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()  # a line per object as it happens, in a pipe too


class Commands:
    """`@commands.command()` records a command; `register(app)` adds them all to a Typer app."""

    def __init__(self) -> None:
        self.items: list[tuple[Callable, tuple, dict]] = []

    def command(self, *args, **kwargs):
        def deco(fn: Callable) -> Callable:
            self.items.append((fn, args, kwargs))
            return fn
        return deco

    def register(self, app: typer.Typer) -> None:
        for fn, args, kwargs in self.items:
            app.command(*args, **kwargs)(fn)
