"""The ``podsight`` command line: the app, its entry and its command groups.

Commands are thin: each calls a pipeline step (:func:`podsight.pipeline.run_step`) and
renders its report; one module per command group (``cli/ingest.py``, ``cli/demo.py``…),
rendering in ``cli/render.py``, consoles in ``cli/output.py``.

The entry (:class:`_Root`, :func:`_entry`) prepares everything once, before any command
runs: the data directory, logging, Django and the database schema; and it is where
errors meet the user, translated once: a :class:`~podsight.errors.PodsightError` becomes
one ``error: …`` line and its exit code (2 bad usage, 1 failed run); anything else is a
bug, logged with its traceback to the log file and reported in one line.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from podsight.bootstrap import start
from podsight.cli import ops, search, sources
from podsight.cli.accounts import tokens_app, users_app
from podsight.cli.content import content_app
from podsight.cli.demo import demo_app
from podsight.cli.directory import directory_app
from podsight.cli.discover import discover_app
from podsight.cli.events import events_app, simulate_app
from podsight.cli.importing import import_app
from podsight.cli.ingest import ingest_app
from podsight.cli.lake import db_app, lake_app
from podsight.cli.match import links_app, match
from podsight.cli.output import err, fail, log_path
from podsight.cli.pipeline import pipeline_app
from podsight.cli.recs import recs_app
from podsight.errors import PodsightError

__all__ = ["app"]

internal_log = logging.getLogger("podsight.internal")


class _Root(TyperGroup):
    """The top command: every subcommand runs inside its :meth:`invoke`."""

    def invoke(self, ctx):  # noqa: ANN001, ANN201 - click's signature
        try:
            return super().invoke(ctx)
        except (TyperException, typer.Exit, typer.Abort):
            raise
        except PodsightError as exc:
            raise fail(str(exc), exc.exit_code) from exc
        except Exception as exc:
            argv = " ".join(sys.argv[1:])[:200]
            internal_log.error("unexpected error in `podsight %s`", argv, exc_info=True)
            if os.environ.get("PODSIGHT_LOG_LEVEL", "").upper() in ("DEBUG", "INFO"):
                err.print_exception()
            raise fail(
                f"podsight failed unexpectedly ({type(exc).__name__}: {exc}). This is a bug; "
                f"the traceback is in {log_path()}; please report it"
            ) from exc


app = typer.Typer(
    cls=_Root,
    help="podsight: open podcast data platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _entry(
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="Show every log line (API calls, batches) on the console too; they always "
            "go to PODSIGHT_HOME/logs/podsight.log.",
        ),
    ] = False,
) -> None:
    """podsight: open podcast data platform."""
    applied = start(verbose=verbose)
    if applied:
        err.print(f"[dim]database schema brought up to date ({len(applied)} migrations)[/]")


app.add_typer(ingest_app, name="ingest")
app.add_typer(demo_app, name="demo")
app.add_typer(import_app, name="import")
app.add_typer(discover_app, name="discover")
app.add_typer(links_app, name="links")
app.add_typer(tokens_app, name="tokens")
app.add_typer(users_app, name="users")
app.add_typer(events_app, name="events")
app.add_typer(simulate_app, name="simulate")
app.add_typer(directory_app, name="directory")
app.add_typer(content_app, name="content")
app.add_typer(recs_app, name="recs")
app.add_typer(pipeline_app, name="pipeline")
app.add_typer(lake_app, name="lake")
app.add_typer(db_app, name="db")
app.command()(sources.sync)
app.command()(sources.replay)
app.command()(match)
app.command()(search.search)
app.command()(ops.migrate)
app.command()(ops.serve)
app.command()(ops.dashboard)


if __name__ == "__main__":
    app()
