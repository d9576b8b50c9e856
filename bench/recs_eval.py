"""Evaluation: every recommender, the hybrid and the baselines on every dataset, in one run.

Usage: ``.venv/bin/python bench/recs_eval.py [--datasets a,b] [--models a,b] [--no-tune]
[--home DIR] [--k 10] [--markdown FILE]``

Runs the ``recs.evaluate`` step (``podsight recs evaluate``) on MovieLens-100k (the
Microsoft Recommenders protocol, beside its published figures; split by item as its
benchmark notebook does, then per user as the issue words it), MovieLens small and
Last.fm from ``$PODSIGHT_TEST_DATA/interactions`` (default ``../shared/data``), and, with
``--home`` (a ``PODSIGHT_HOME`` where ``podsight demo load`` ran), on the simulated
listeners with their true-topic share. By default each model's parameters are chosen on a
validation split of the training part (``--tune``; never on the test part); the hybrid
fits its weights the same way. Prints each table as the CLI does, then all of them as
Markdown (also written to ``--markdown``) for docs/recs.md, with the command and the
machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

__all__ = ["FILE_DATASETS", "main", "markdown"]

FILE_DATASETS = ("movielens-100k", "movielens-small", "lastfm")


def markdown(report) -> str:  # noqa: ANN001 - an EvaluationReport
    """One dataset's table as Markdown: our rows, then the published ones."""
    k = report.k
    topics = any(r.topic_share is not None for r in report.results)
    head = ["model", f"P@{k}", f"R@{k}", f"NDCG@{k}", f"MAP@{k}", "MAP", "coverage", "novelty"]
    if topics:
        head.append("true topics")
    head += ["fit s", "notes"]
    lines = [
        f"**{report.dataset}**: {report.users} users, {report.items} candidate items, "
        f"{report.train_interactions:,} training / {report.test_interactions:,} test "
        f"interactions; split {report.protocol}; weights: {report.weighting}.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    best = report.best()
    for r in report.results:
        name = f"{r.name} (baseline)" if r.baseline else r.name
        if r is best:
            name = f"**{name}**"
        cells = [name] + [f"{v:.3f}" for v in (r.precision, r.recall, r.ndcg, r.map_at_k, r.map,
                                              r.coverage)]  # fmt: skip
        cells.append(f"{r.novelty:.2f}")
        if topics:
            cells.append("–" if r.topic_share is None else f"{r.topic_share:.3f}")
        params = ", ".join(f"{a}={b}" for a, b in r.params.items() if a not in ("num_threads",))
        cells += [f"{r.fit_seconds:.1f}", (r.detail + "; " if r.detail else "") + params]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    for p in report.published:
        cells = [f"{p.name} (published)", f"{p.precision:.3f}", f"{p.recall:.3f}",
                 f"{p.ndcg:.3f}", "–", f"{p.map:.3f}", "–", "–"]  # fmt: skip
        if topics:
            cells.append("–")
        cells += ["", "Recommenders benchmark"]
        lines.append("| " + " | ".join(cells) + " |")
    for name, why in report.skipped.items():
        lines.append(f"\nskipped {name}: {why}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default=",".join(FILE_DATASETS))
    parser.add_argument("--models", default="", help="comma-separated; default every model")
    parser.add_argument("--no-tune", action="store_true", help="every model with its defaults")
    parser.add_argument("--home", type=Path, help="a demo PODSIGHT_HOME: adds 'simulated'")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args(argv)
    datasets = [d for d in args.datasets.split(",") if d]
    if args.home:
        os.environ["PODSIGHT_HOME"] = str(args.home.resolve())
        if "simulated" not in datasets:
            datasets.append("simulated")
    from podsight.bootstrap import start
    from podsight.cli import render
    from podsight.cli.output import progress_view
    from podsight.pipeline import run_step

    start()
    models = [m for m in args.models.split(",") if m] or None
    command = "python bench/recs_eval.py " + " ".join(argv if argv is not None else sys.argv[1:])
    started = time.perf_counter()
    parts = []
    runs = []
    for dataset in datasets:
        runs.append((dataset, None))
        if dataset == "movielens-100k":  # the benchmark code's split by item, and per user
            runs.append((dataset, "user"))
    for dataset, stratify in runs:
        report = run_step(
            "recs.evaluate",
            dataset=dataset,
            models=models,
            k=args.k,
            tune=not args.no_tune,
            stratify=stratify,
            progress=progress_view(True),
        )
        render.evaluation_report(report)
        parts.append(markdown(report))
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    text = (
        f"`{command.strip()}` ({time.strftime('%Y-%m-%d')}, {machine}, "
        f"{time.perf_counter() - started:.0f} s)\n\n" + "\n\n".join(parts) + "\n"
    )
    print(text)
    if args.markdown:
        args.markdown.write_text(text, "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
