"""``podsight recs``: recommendation models (the ``recs.*`` steps): train, evaluate,
promote and roll back, and offline runs for external harnesses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from podsight.cli import render
from podsight.cli.output import progress_view
from podsight.pipeline import run_step

__all__ = ["recs_app"]

recs_app = typer.Typer(
    help="Recommendations: train, evaluate, promote and roll back models.",
    no_args_is_help=True,
)


_DATASET_HELP = "movielens-100k, movielens-small, lastfm, simulated (this home's demo) or lake."


@recs_app.command("evaluate")
def evaluate(
    dataset: Annotated[str, typer.Option("--dataset", help=_DATASET_HELP)] = "movielens-100k",
    models: Annotated[
        str | None,
        typer.Option(
            "--models",
            help="Comma-separated models to run (e.g. als,ease,hybrid); default: every "
            "registered model and the hybrid. The popular and random baselines always run.",
        ),
    ] = None,
    k: Annotated[int, typer.Option("--k", min=1, max=1000, help="List length scored.")] = 10,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Folder with the dataset's files (or the corpus holding interactions/); "
            "default: PODSIGHT_TEST_DATA, else ../shared/data.",
        ),
    ] = None,
    tune: Annotated[
        bool,
        typer.Option(
            "--tune",
            help="Choose each model's parameters on a validation split of the training part.",
        ),
    ] = False,
    stratify: Annotated[
        str | None,
        typer.Option(
            "--stratify",
            help="Split each 'user''s or each 'item''s interactions 75/25 (default: item on "
            "movielens-100k, as the Recommenders benchmark notebook; user elsewhere).",
        ),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar per model.")] = True,
) -> None:
    """Evaluate every model, the hybrid and the baselines offline on one dataset:
    P@k, R@k, NDCG@k, MAP@k, coverage and novelty, beside published figures."""
    chosen = [m.strip() for m in models.split(",") if m.strip()] if models else None
    report = run_step(
        "recs.evaluate",
        dataset=dataset,
        models=chosen,
        k=k,
        data_dir=data_dir,
        tune=tune,
        stratify=stratify,
        progress=progress_view(progress),
    )
    render.evaluation_report(report)


@recs_app.command("offline")
def offline(
    train: Annotated[
        Path,
        typer.Option(
            "--train", help="Interactions CSV with a header: user_id,item_id,weight[,timestamp]."
        ),
    ],
    users: Annotated[Path, typer.Option("--users", help="Users to recommend to, one id a line.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write user_id,rank,item_id,score.")],
    n: Annotated[int, typer.Option("--n", min=1, max=10_000, help="Items per user.")] = 10,
    model: Annotated[
        str | None,
        typer.Option(
            "--model", help="A model that needs no catalog (default: the best CF model measured)."
        ),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Train on any interaction file and write the top n of each listed user, never an
    item they have in the file; users it does not know get the most popular items."""
    report = run_step(
        "recs.offline",
        train=train,
        users=users,
        out=out,
        n=n,
        model=model,
        progress=progress_view(progress),
    )
    render.offline_report(report)


def _models_option(value: str | None) -> list[str] | None:
    if value is None:
        return None
    names = [n.strip() for n in value.split(",") if n.strip()]
    if not names:
        raise typer.BadParameter("name at least one model, e.g. --models als,itemknn")
    return names


@recs_app.command("train")
def train(
    models: Annotated[
        str | None,
        typer.Option(
            "--models",
            help="Candidate models to blend, comma-separated (default: als, itemknn, content, "
            "fresh, trending, popular; those the data cannot support are left out).",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Promote even when the gate would reject it.")
    ] = False,
    engine: Annotated[
        str | None,
        typer.Option(
            help="Where the ALS factors are fitted: local (implicit) or spark "
            "[default: PODSIGHT_ENGINE, else local]."
        ),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Train a new model version on the lake's listening, gate it against the serving one
    and promote it (then precompute every known user's recommendations).

    Exits 1 when the gate rejects it (it is kept: `podsight recs promote VERSION --force`)."""
    report = run_step(
        "recs.train",
        models=_models_option(models),
        force=force,
        engine=engine,
        progress=progress_view(progress),
    )
    render.train_report(report)
    if report.status == "rejected":
        raise typer.Exit(1)


@recs_app.command("promote")
def promote(
    version: Annotated[str, typer.Argument(help="The version to serve (`podsight recs models`).")],
    force: Annotated[
        bool, typer.Option("--force", help="Promote even when the gate would refuse.")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Make a trained version the serving one, through the promotion gate unless --force."""
    report = run_step(
        "recs.promote", version=version, force=force, progress=progress_view(progress)
    )
    render.lifecycle_report(report)


@recs_app.command("rollback")
def rollback(
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Bring back the version that served before the serving one; its lists are
    recomputed and cached."""
    report = run_step("recs.rollback", progress=progress_view(progress))
    render.lifecycle_report(report)


@recs_app.command("ab")
def ab(
    version: Annotated[
        str | None, typer.Argument(help="The challenger version (`podsight recs models`).")
    ] = None,
    share: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Share of users it serves, by a hash of their id."),
    ] = 0.2,
    stop: Annotated[bool, typer.Option("--stop", help="End the A/B test running.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """A/B test: VERSION serves a share of users beside the serving version (each user
    always on the same side); --stop ends it. `podsight recs models` shows both."""
    if version is None and not stop:
        raise typer.BadParameter("give the VERSION to test, or --stop", param_hint="VERSION")
    report = run_step(
        "recs.ab", version=version, share=share, stop=stop, progress=progress_view(progress)
    )
    render.lifecycle_report(report)


@recs_app.command("models")
def models_list() -> None:
    """Every trained version, newest first: status, data, validation NDCG@10 and the
    online play-through rate."""
    render.model_list(run_step("recs.models"))
