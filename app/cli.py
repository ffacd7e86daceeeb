"""`dossier` command line: the root command and the app's commands (ingest, search, sources, ask, serve, ...).

`build(groups)` registers every command explicitly, from this one place; `dossier.cli` adds the `eval` and
`bench` groups, which live above the app."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from . import cli_ask, cli_check, cli_index, cli_quotes, cli_serve
from .cli_common import UserError, ctx_of, emit_json, err, out  # noqa: F401  (the names command modules share)
from .context import AppContext
from .settings import DossierSettings

cli = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="dossier: cited answers over the sources of an investigation.")
_built = False


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


def build(groups: dict[str, typer.Typer] | None = None) -> typer.Typer:
    """The root command with the app's commands and the given groups (registered once per process)."""
    global _built
    if not _built:
        for module in (cli_index, cli_ask, cli_check, cli_quotes, cli_serve):
            module.commands.register(cli)
        _built = True
    have = {g.name for g in cli.registered_groups}
    for name, group in (groups or {}).items():
        if name not in have:
            cli.add_typer(group, name=name)
    return cli


def main(groups: dict[str, typer.Typer] | None = None) -> None:
    """Run the CLI with one-line errors; `dossier.cli.main` is the console script and passes the groups."""
    from dossier.index.errors import IndexError_
    from dossier.ingest.manifest import ManifestError

    from dossier.ingest.runtime import apply_process_settings

    apply_process_settings()
    build(groups)
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
