"""What the diversity re-rank (MMR on the item embeddings) costs in accuracy.

For each dataset the hybrid is fitted once (``Hybrid.fit``: weights on a validation split
holding out each user's latest 20 %), then the validation users' lists as served —
filtered, capped per show, re-ranked with λ — are measured for several λ: NDCG@10, P@10,
R@10, catalog coverage and intra-list similarity (mean cosine between two items of a
list). λ = 0 is relevance order.

    .venv/bin/python bench/recs_diversity.py [--datasets synthetic movielens-100k]
                                             [--lambdas 0.1 0.2 0.3 0.5]

Datasets: ``synthetic`` (tests/recs/recs_synthetic.py: two taste groups, shows, languages,
embeddings) and the evaluation's loaders (``movielens-100k`` etc., from
``$PODSIGHT_TEST_DATA/interactions``; the items' embeddings are their titles, years and
genres through the content embedder).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "recs"))

from podsight.recs.blend import Hybrid  # noqa: E402
from podsight.recs.core import ALGORITHMS, Dataset, algorithm  # noqa: E402

MODELS = ("als", "itemknn", "ease", "content", "fresh", "trending", "popular")


def load(name: str) -> Dataset:
    if name == "synthetic":
        from recs_synthetic import make_dataset

        return make_dataset()
    from podsight.recs.evaluate import load_dataset

    return load_dataset(name, content=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["synthetic", "movielens-100k"])
    parser.add_argument("--lambdas", nargs="+", type=float, default=[0.1, 0.2, 0.3, 0.5])
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    args = parser.parse_args()
    for name in args.datasets:
        started = time.perf_counter()
        data = load(name)
        models = {}
        for model in args.models:
            if model not in ALGORITHMS:
                continue
            try:
                models[model] = algorithm(model)()
            except (ImportError, AttributeError) as exc:  # a model not landed yet
                print(f"  ({model} left out: {exc})")
        hybrid = Hybrid(models, diversity=0.0)
        fit = hybrid.fit(data, diversities=args.lambdas)
        print(
            f"\n### {name}: {data.n_users} users, {data.n_items} items, "
            f"{data.matrix.nnz} interactions; {fit.validation_users} validation users, "
            f"split by {fit.split}; {time.perf_counter() - started:.0f} s"
        )
        print("weights: " + ", ".join(f"{m} {w:.2f}" for m, w in fit.weights.items()))
        if fit.skipped:
            print("left out (the data lacks their facts): " + ", ".join(fit.skipped))
        print("\n| list | λ | NDCG@10 | P@10 | R@10 | coverage | intra-list similarity |")
        print("|---|---|---|---|---|---|---|")
        rows = [(m, "—", metrics) for m, metrics in fit.models.items()]
        rows += [(f"{m} alone, served", "0", metrics) for m, metrics in fit.served_models.items()]
        rows.append(("blended ranking (no filters)", "—", fit.blend))
        rows += [("served", f"{lam:g}", metrics) for lam, metrics in sorted(fit.diversity.items())]
        for label, lam, m in rows:
            ils = f"{m.intra_list_similarity:.3f}" if m.intra_list_similarity is not None else "—"
            print(
                f"| {label} | {lam} | {m.ndcg:.4f} | {m.precision:.4f} | {m.recall:.4f} | "
                f"{m.coverage:.3f} | {ils} |"
            )


if __name__ == "__main__":
    main()
