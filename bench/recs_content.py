"""Evaluation: the content model's choices (rejections, liked items, profile) on MovieLens.

Usage: ``.venv/bin/python bench/recs_content.py [--dataset movielens-100k|movielens-small]``

Loads the dataset through ``podsight.recs.evaluate`` (the items' title, year and genres
embedded with the configured embedder) and splits it with its Microsoft Recommenders
protocol (stratified 75/25 per user, seed 42, every test rating relevant, training items
never recommended). Then ``ContentProfile`` runs in variants, each on the same split:

- ``ratings as weights``: what ``podsight recs evaluate`` runs (every rating pulls the
  profile, a 1-star film included);
- ``≤ 2 stars rejected, negative_weight w``: training ratings of 1-2 stars move from the
  matrix to ``negatives`` (still never recommended), so they push the profile away by
  ``w`` (0: they only stop pulling);
- ``5 stars liked, boost b``: 5-star films are passed as ``History.liked``;
- each for both profiles (``nearest``: the highest cosine to one history item;
  ``centroid``: the cosine to the weighted mean), and ``nearest`` with fewer history items
  (``max_history``, the heaviest).

For scale it prints the most-rated films (popularity) on the same split. MovieLens is a
stand-in: it has no episode embeddings, and the title-and-genre text is a thin content.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

__all__ = ["main"]


def _ndcg(lists, users, split, k: int) -> tuple[float, float]:
    from podsight.recs.evaluate import ndcg_at_k, precision_at_k

    items = split.train.items
    n, p = [], []
    for user, rec in zip(users, lists, strict=True):
        ids = [items[i] for i in rec[:k]]
        n.append(ndcg_at_k(ids, split.relevant[user], k))
        p.append(precision_at_k(ids, split.relevant[user], k))
    return float(np.mean(n)), float(np.mean(p))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="movielens-100k",
                        choices=["movielens-100k", "movielens-small"])  # fmt: skip
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()

    from podsight.recs.algorithms.content import ContentProfile
    from podsight.recs.evaluate import load_interactions, split

    started = time.perf_counter()
    inter = load_interactions(args.dataset, content=True)
    split_ = split(inter)
    train = split_.train
    users = sorted(split_.relevant)
    print(f"{args.dataset}: {train.n_users} users, {train.n_items} items, "
          f"{train.matrix.nnz:,} training ratings; loaded in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip

    low = train.matrix - train.matrix.multiply(train.matrix > 2)
    low.eliminate_zeros()
    kept = (train.matrix - low).tocsr()
    kept.eliminate_zeros()
    rejecting = train.with_matrix(kept, negatives=sp.csr_matrix(low != 0, dtype=np.float32))
    rejecting.seen = train.seen_matrix()  # the low ratings are still heard: never shown
    print(f"ratings of 1-2 stars: {low.nnz:,} of {train.matrix.nnz:,}")

    five = train.matrix.multiply(train.matrix >= 5).tocsr()

    def histories(data, liked: bool = False):
        out = []
        for user in users:
            history = data.history(user)
            if liked:
                history.liked = five.getrow(user).indices.astype(np.int32)
            out.append(history)
        return out

    rows = []

    def run(label: str, data, model: ContentProfile, liked: bool = False) -> None:
        model.fit(data)
        t0 = time.perf_counter()
        lists = [s.items.tolist() for s in model.recommend_many(histories(data, liked), args.k)]
        seconds = time.perf_counter() - t0
        ndcg, precision = _ndcg(lists, users, split_, args.k)
        rows.append((label, ndcg, precision, seconds))

    for profile in ("nearest", "centroid"):
        run(f"{profile}: ratings as weights (podsight recs evaluate)", train,
            ContentProfile(profile=profile, negative_weight=0))  # fmt: skip
        for weight in (0.0, 0.25, 1.0):
            run(f"{profile}: ≤ 2 stars rejected, negative_weight {weight}", rejecting,
                ContentProfile(profile=profile, negative_weight=weight))  # fmt: skip
        for boost in (1.0, 2.0, 4.0):
            run(f"{profile}: ≤ 2 stars rejected (0.25), 5 stars liked, boost {boost}",
                rejecting, ContentProfile(profile=profile, boost=boost), liked=True)  # fmt: skip
    for cap in (20, 50):
        run(f"nearest: ratings as weights, max_history {cap}", train,
            ContentProfile(negative_weight=0, max_history=cap))  # fmt: skip

    popularity = np.asarray((train.matrix != 0).sum(axis=0)).ravel().astype(np.float64)
    lists = []
    for history in histories(train):
        scores = popularity.copy()
        scores[history.excluded()] = -np.inf
        lists.append(np.argsort(-scores, kind="stable")[: args.k].tolist())
    ndcg, precision = _ndcg(lists, users, split_, args.k)
    rows.append(("(most-rated films, for scale)", ndcg, precision, 0.0))

    width = max(len(r[0]) for r in rows)
    print(f"{'variant':<{width}}  NDCG@{args.k}  P@{args.k}  recommend s")
    for label, ndcg, precision, seconds in rows:
        print(f"{label:<{width}}  {ndcg:7.4f}  {precision:5.3f}  {seconds:10.2f}")
    print(f"{time.perf_counter() - started:.1f} s in all")


if __name__ == "__main__":
    main()
