"""``podsight recs``: recommendation models (the ``recs.*`` steps): train, evaluate,
promote and roll back, and offline runs for external harnesses."""

from __future__ import annotations

import typer

__all__ = ["recs_app"]

recs_app = typer.Typer(
    help="Recommendations: train, evaluate, promote and roll back models.",
    no_args_is_help=True,
)
