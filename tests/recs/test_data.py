"""``recs.data``: the lake's listening and the catalog's facts as a Dataset, and one
listener's history now. Events go through the real path: checked and resolved by
``ingest`` into the log, written to the lake by the consumer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from listening import catalog, home  # noqa: F401
from podsight.catalog.models import Channel, Episode
from podsight.content.models import EpisodeAnalysis
from podsight.content.similar import EpisodeVectors, save_vectors
from podsight.events.consumer import consume
from podsight.events.services import ingest
from podsight.lake.tables import ENGAGEMENT_DAILY
from podsight.recs.data import build_dataset, user_histories

pytestmark = pytest.mark.django_db

DAY = 86_400.0
# Fixed, in the past (events from the future are refused), mornings (no session over
# midnight); every call passes ``now``, so nothing reads the wall clock.
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=180)
HALF = 90 * DAY


def _event(user: str, kind: str, at: datetime, **fields) -> dict:
    return {
        "event_id": str(uuid.uuid4()),
        "user_id": user,
        "type": kind,
        "occurred_at": at.isoformat(),
        **fields,
    }


def _listen(user: str, episode: Episode, at: datetime, share: float, end: str) -> list[dict]:
    """Play from 0, then end (``complete``, ``pause`` or ``skip``) at ``share`` of it."""
    d = float(episode.duration_s)
    position = round(share * d, 1)
    common = {"episode": episode.pk, "duration_s": d, "session_id": str(uuid.uuid4())}
    return [
        _event(user, "play", at, position_s=0, **common),
        _event(user, end, at + timedelta(seconds=position), position_s=position, **common),
    ]


def _send(items: list[dict]) -> None:
    result = ingest(items, client="test")
    assert not result.errors, result.errors[:3]
    consume(once=True)


def _cell(data, matrix, user: str, episode: Episode) -> float:
    return float(matrix[data.users.index(user), data.items.index(str(episode.pk))])


@pytest.fixture
def episodes(catalog):  # noqa: F811
    rows = list(Episode.objects.filter(duration_s__gt=100).order_by("pk")[:9])
    assert len(rows) == 9
    return rows


def test_weights_decay_rejections_follows_and_facts(episodes):
    a, b, c, d, e, f, g, merged, survivor = episodes
    show_a, show_other = a.channel, Channel.objects.exclude(pk=a.channel_id).get()
    day = timedelta(days=1)
    events = (
        # ann finishes a twice, half a year and a quarter of a year ago
        _listen("ann", a, T0, 1.0, "complete")
        + _listen("ann", a, T0 + 90 * day, 1.0, "complete")
        # skips b after a minute; likes c after a third; finishes d and rates it 1
        + _listen("ann", b, T0 + 170 * day, 0.02, "skip")
        + _listen("ann", c, T0 + 170 * day, 0.3, "pause")
        + [_event("ann", "like", T0 + 170 * day + timedelta(hours=1), episode=c.pk)]
        + _listen("ann", d, T0 + 170 * day, 1.0, "complete")
        + [_event("ann", "rate", T0 + 170 * day + timedelta(hours=2), episode=d.pk, rating=1)]
        # bob unlikes e, downloads f, finishes g and rates it 5, plays what gets merged
        + [_event("bob", "unlike", T0 + 179 * day, episode=e.pk)]
        + [_event("bob", "download", T0 + 179 * day, episode=f.pk)]
        + _listen("bob", g, T0 + 179 * day, 0.95, "pause")
        + [_event("bob", "rate", T0 + 179 * day + timedelta(hours=3), episode=g.pk, rating=5)]
        + _listen("bob", merged, T0 + 179 * day, 1.0, "complete")
        # cat only subscribes; dan subscribes, unsubscribes, then subscribes to another
        + [_event("cat", "subscribe", T0 + 100 * day, channel=show_a.pk)]
        + [_event("dan", "subscribe", T0 + 100 * day, channel=show_a.pk)]
        + [_event("dan", "unsubscribe", T0 + 110 * day, channel=show_a.pk)]
        + [_event("dan", "subscribe", T0 + 111 * day, channel=show_other.pk)]
    )
    _send(events)
    # Matching merges an episode after its events were written: the survivor gets them.
    Episode.objects.filter(pk=merged.pk).update(merged_into=survivor)
    Episode.objects.filter(pk=f.pk).update(available=False)
    Channel.objects.filter(pk=show_other.pk).update(language="DE-at")
    EpisodeAnalysis.objects.create(episode=a, topics=[{"topic": "Marketing", "score": 0.4}])

    data = build_dataset(now=NOW, half_life=HALF)
    assert data.name == "lake" and data.now == NOW.timestamp()
    from deltalake import DeltaTable

    from podsight import lake

    version = DeltaTable(str(lake.table_path(ENGAGEMENT_DAILY))).version()
    assert data.data_version == version
    assert data.users == ["ann", "bob", "cat", "dan"]
    alive = Episode.objects.alive().filter(channel__merged_into__isnull=True)
    assert data.items == [str(pk) for pk in alive.order_by("pk").values_list("pk", flat=True)]
    assert str(merged.pk) not in data.items

    # Each day's weight halves every 90 days: 1.0 × 0.5² + 1.0 × 0.5 (to the second).
    age = (NOW - T0).total_seconds()
    expected = 0.5 ** ((age - a.duration_s) / HALF) + 0.5 ** (
        (age - 90 * DAY - a.duration_s) / HALF
    )
    assert _cell(data, data.matrix, "ann", a) == pytest.approx(expected, rel=1e-4)
    assert 0.74 < expected < 0.76
    # A like counts: a third listened, plus 0.5, barely decayed (10 days).
    assert _cell(data, data.matrix, "ann", c) == pytest.approx((0.3 + 0.5) * 0.5 ** (10 / 90), 1e-3)
    # Skipped, rated low and unliked: rejected, never positive; seen all the same.
    for user, episode in (("ann", b), ("ann", d), ("bob", e)):
        assert _cell(data, data.matrix, user, episode) == 0
        assert _cell(data, data.negatives, user, episode) == 1
        assert _cell(data, data.seen, user, episode) == 1
    assert _cell(data, data.matrix, "bob", f) == pytest.approx(0.1, abs=1e-3)  # a download
    assert _cell(data, data.matrix, "bob", g) > 1  # 0.95 + 0.5 for the 5
    assert _cell(data, data.matrix, "bob", survivor) == pytest.approx(1.0, abs=0.01)
    assert data.seen.nnz == 8 and data.negatives.nnz == 3 and data.matrix.nnz == 5
    last = _cell(data, data.timestamps, "ann", a)
    assert last == pytest.approx((T0 + 90 * day).timestamp() + a.duration_s, abs=1)
    assert data.matrix.getrow(data.users.index("cat")).nnz == 0

    # Follows: the latest event per user × show.
    shows = data.shows
    follows = {(data.users[u], shows[s]) for u, s in zip(*data.follows.nonzero(), strict=True)}
    unfollowed = {
        (data.users[u], shows[s]) for u, s in zip(*data.unfollowed.nonzero(), strict=True)
    }
    assert follows == {("cat", str(show_a.pk)), ("dan", str(show_other.pk))}
    assert unfollowed == {("dan", str(show_a.pk))}

    # Facts.
    i = data.items.index(str(a.pk))
    assert data.shows[data.item_show[i]] == str(a.channel_id)
    assert data.show_titles[data.item_show[i]] == show_a.title
    assert data.item_titles[i] == a.title
    assert data.item_published[i] == pytest.approx(a.published_at.timestamp())
    assert data.item_topics[i] == ("Marketing",)  # analysed: the analysis's topics
    other = data.items.index(str(Episode.objects.filter(channel=show_other).first().pk))
    categories = tuple(show_other.categories.order_by("id").values_list("name", flat=True))
    assert categories and data.item_topics[other] == categories  # else the show's
    assert data.item_language[other] == "de" and data.item_language[i] == "en"
    assert not data.item_available[data.items.index(str(f.pk))]
    assert data.item_available.sum() == len(data.items) - 1
    assert data.item_vectors is None  # no episode was analysed into vectors
    assert data.user_languages[data.users.index("ann")] == ("en",)
    # Nothing played yet: the languages of the shows they follow (cold start in those).
    assert data.user_languages[data.users.index("cat")] == ("en",)
    assert data.user_languages[data.users.index("dan")] == ("de",)

    # Finished and liked cells, as histories have them (for reasons and content's weight).
    def cells(m):
        return {(data.users[u], data.items[i]) for u, i in zip(*m.nonzero(), strict=True)}

    assert cells(data.finished) == {
        ("ann", str(a.pk)),
        ("bob", str(g.pk)),
        ("bob", str(survivor.pk)),
    }
    assert cells(data.liked) == {("ann", str(c.pk)), ("bob", str(g.pk))}
    assert data.history(data.users.index("ann")).liked.tolist() == [data.items.index(str(c.pk))]
    # Every item's show is a show of the dataset; per-show affinity sums over them.
    assert (data.item_show >= 0).all() and data.item_show.max() < len(data.shows)


def test_vectors_are_the_analysis_episode_vectors_with_zero_rows_where_missing(episodes):
    a, b = episodes[:2]
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(2, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    stored = EpisodeVectors()
    stored.update({a.pk: vectors[0], b.pk: vectors[1]}, "test-embedder")
    save_vectors(stored)
    data = build_dataset(now=NOW)
    assert data.item_vectors.shape == (len(data.items), 8)
    assert np.allclose(data.item_vectors[data.items.index(str(a.pk))], vectors[0])
    assert np.allclose(data.item_vectors[data.items.index(str(b.pk))], vectors[1])
    assert np.count_nonzero(np.abs(data.item_vectors).sum(axis=1)) == 2
    # No listening at all: no users, every episode still an item.
    assert data.n_users == 0 and data.matrix.shape == (0, len(data.items))
    assert data.data_version is None


def test_histories_follow_the_lake_not_the_fitted_matrix(episodes):
    a, b, c = episodes[:3]
    show = a.channel
    _send(_listen("ann", a, T0, 1.0, "complete"))
    data = build_dataset(now=NOW)
    # After the dataset was built: ann likes c and skips b; eve subscribes and plays.
    later = T0 + timedelta(days=1)
    _send(
        _listen("ann", c, later, 0.5, "pause")
        + [_event("ann", "like", later + timedelta(hours=1), episode=c.pk)]
        + _listen("ann", b, later, 0.01, "skip")
        + [_event("eve", "subscribe", later, channel=show.pk)]
        + [_event("fay", "subscribe", later, channel=show.pk)]
        + _listen("eve", a, later, 1.0, "complete")
    )
    got = user_histories(["ann", "eve", "fay", "zed"], data, now=NOW)
    ann, eve, fay, zed = got["ann"], got["eve"], got["fay"], got["zed"]
    index = {str(pk): i for i, pk in enumerate(data.items)}
    ia, ib, ic = index[str(a.pk)], index[str(b.pk)], index[str(c.pk)]
    assert ann.index == data.users.index("ann")
    assert sorted(ann.items.tolist()) == sorted([ia, ic])
    assert ann.negatives.tolist() == [ib] and sorted(ann.seen.tolist()) == sorted([ia, ib, ic])
    assert ann.finished.tolist() == [ia] and ann.liked.tolist() == [ic]
    assert ann.languages == ("en",) and len(ann.times) == 2
    weights = dict(zip(ann.items.tolist(), ann.weights.tolist(), strict=True))
    assert weights[ic] > weights[ia]  # 0.5 + a like, and a day more recent
    # A listener the dataset never saw: no row, what the lake has.
    assert eve.index is None and eve.items.tolist() == [ia]
    assert eve.follows.tolist() == [data.shows.index(str(show.pk))]
    assert zed.index is None and zed.is_empty
    # Only a subscription: no plays, the followed show's language.
    assert fay.index is None and not len(fay.items) and fay.languages == ("en",)
    # The dataset's own view of ann is the one it was built with.
    assert data.history(data.users.index("ann")).items.tolist() == [ia]


def test_the_half_life_setting(monkeypatch):
    from podsight.conf import SettingError
    from podsight.recs.data import DEFAULT_HALF_LIFE_S, half_life_s

    monkeypatch.delenv("PODSIGHT_RECS_HALF_LIFE", raising=False)
    assert half_life_s() == DEFAULT_HALF_LIFE_S == 90 * DAY
    monkeypatch.setenv("PODSIGHT_RECS_HALF_LIFE", "30d")
    assert half_life_s() == 30 * DAY
    monkeypatch.setenv("PODSIGHT_RECS_HALF_LIFE", "soon")
    with pytest.raises(SettingError, match="PODSIGHT_RECS_HALF_LIFE"):
        build_dataset()
