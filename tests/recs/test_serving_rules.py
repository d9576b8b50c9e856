"""Serving's own rules on the real blender: what a request may ask, and that a filtered
list keeps the per-show cap (review of serving, items 2 and 12)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
from blend_fakes import Fixed

from podsight.errors import InputError
from podsight.recs import serving
from podsight.recs.blend import Hybrid
from podsight.recs.core import Dataset, History


class _Cache(dict):
    def get(self, user):
        return dict.get(self, user)

    def put_many(self, entries):
        self.update(entries)


@pytest.fixture
def mixed(monkeypatch):
    """One English show with six episodes between sixteen one-episode German shows,
    ranked so that the unfiltered list is capped only by the German episodes between."""
    order = ["e0", "e1"] + [f"g{i}" for i in range(8)] + ["e2", "e3"]
    order += [f"g{i}" for i in range(8, 16)] + ["e4", "e5"]
    items = [*order, "h0"]
    show = [0 if x.startswith("e") else 17 if x == "h0" else 1 + int(x[1:]) for x in items]
    n = len(items)
    data = Dataset(
        users=["u"], items=[str(100 + i) for i in range(n)], matrix=sp.csr_matrix((1, n)),
        item_show=np.array(show, np.int32), shows=[str(s) for s in range(18)],
        show_titles=[f"S{s}" for s in range(18)], item_titles=items,
        item_language=["en" if x.startswith("e") else "de" for x in items],
        item_available=np.ones(n, bool),
    )  # fmt: skip
    hybrid = Hybrid({"fixed": Fixed(list(range(n - 1)), list(range(n - 1, 0, -1)))},
                    weights={"fixed": 1.0}, diversity=0.0)  # fmt: skip
    hybrid.fit(data, validation_share=0)
    history = History(user="u", items=np.array([n - 1], np.int32), weights=np.ones(1, np.float32))
    full = hybrid.recommend(history, serving.CACHED_LENGTH)
    listed = [
        {"episode": r.episode, "title": items[r.item], "show": r.show, "show_title": "",
         "language": r.language or "", "score": float(r.score), "sources": list(r.sources),
         "reason": r.reason}
        for r in full
    ]  # fmt: skip
    store = _Cache(u={"v": "v1", "at": "2026-12-06T00:00:00+00:00", "items": listed})
    monkeypatch.setattr(
        serving, "_load", lambda version, current=None: SimpleNamespace(hybrid=hybrid)
    )
    monkeypatch.setattr(serving, "active", lambda: serving.Active("v1"))
    monkeypatch.setattr(serving, "cache", lambda: store)
    return hybrid


def test_a_language_filter_keeps_the_per_show_cap(mixed):
    got = serving.recommendations_for("u", n=6, language="en", log_impression=False)
    shows = [item["show"] for item in got.items]
    assert shows  # the English show's episodes, at most show_cap in any cap_window places
    for start in range(len(shows)):
        window = shows[start : start + mixed.cap_window]
        assert max(window.count(s) for s in set(window)) <= mixed.show_cap, shows
    unfiltered = serving.recommendations_for("u", n=6, log_impression=False)
    assert [i["title"] for i in unfiltered.items][:2] == ["e0", "e1"]


def test_a_user_id_longer_than_the_column_is_refused_before_computing(mixed):
    with pytest.raises(InputError, match="150"):
        serving.recommendations_for("x" * 151, log_impression=False)
    assert "x" * 151 not in serving.cache()
