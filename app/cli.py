"""`dossier` command line: ingest, search, sources, ask, serve (and plug-in groups such as `eval`)."""
from __future__ import annotations

import json
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from .context import AppContext
from .settings import DossierSettings

cli = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="dossier: cited answers over the sources of an investigation.")
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)  # soft_wrap: an error stays one line


class UserError(Exception):
    """A problem the user can fix; printed as one line, exit status 2."""


def ctx_of(ctx: typer.Context) -> AppContext:
    return ctx.obj


@cli.callback()
def _root(
    ctx: typer.Context,
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Data directory (env DOSSIER_DATA_DIR; default ./data)."),
    chroma_url: Optional[str] = typer.Option(None, "--chroma-url", help="Use a `chroma run` server, e.g. http://127.0.0.1:8000 (env DOSSIER_CHROMA_URL)."),
):
    try:
        settings = DossierSettings()
    except Exception as exc:  # pydantic ValidationError: name the field
        raise UserError(f"invalid settings: {_validation_line(exc)}") from exc
    if data_dir is not None:
        settings.data_dir = data_dir
    if chroma_url is not None:
        settings.chroma_url = chroma_url
    ctx.obj = AppContext(settings)


def _validation_line(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        e = errors()[0]
        loc = ".".join(str(x) for x in e.get("loc", ()))
        return f"DOSSIER_{loc.upper().replace('.', '__')}: {e.get('msg')} (got {e.get('input')!r})"
    return str(exc).splitlines()[0]


def emit_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def _register_commands() -> None:
    from . import cli_ask, cli_index, cli_serve  # noqa: F401  (each registers its commands on `cli`)

    registered = {g.name for g in cli.registered_groups}
    for ep in entry_points(group="dossier.cli"):
        if ep.name not in registered:  # main() may run more than once in a process (tests, embedding)
            cli.add_typer(ep.load(), name=ep.name)


def main() -> None:
    from index.errors import IndexError_
    from ingest.manifest import ManifestError

    _register_commands()
    try:
        rc = cli(standalone_mode=False)
    except (UserError, IndexError_, ManifestError, FileNotFoundError) as exc:
        from rich.markup import escape

        err.print(f"[red]error:[/red] {escape(str(exc))}")
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # click usage errors and the like
        import click

        # typer >= 0.2x raises its vendored click's exceptions (typer._click), not click's own
        usage_errors: list[type] = [click.exceptions.ClickException]
        try:
            from typer._click.exceptions import ClickException as TyperClickException

            usage_errors.append(TyperClickException)
        except ImportError:
            pass
        if isinstance(exc, tuple(usage_errors)):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, (click.exceptions.Exit, typer.Exit)):
            sys.exit(exc.exit_code)
        raise
    sys.exit(rc if isinstance(rc, int) else 0)


if __name__ == "__main__":
    main()
