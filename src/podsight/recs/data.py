"""The lake's listening and the catalog's facts as a recommender's :class:`Dataset`.

:func:`build_dataset` is what ``recs.train`` fits on. Its items are the catalog's alive
canonical episodes of alive shows (ids as text), all of them: a new episode has no plays
yet, but fresh and content models can still propose it. Its users are everyone with an
engagement row or a subscription event.

**Interactions** come from ``engagement_daily`` (one row per user × episode × UTC day,
its ``weight`` defined in docs/events.md). Each day's weight is decayed by its age,
``weight × 0.5 ** (age / half-life)`` (``PODSIGHT_RECS_HALF_LIFE``, default 90 days,
age from the row's ``last_event_at`` to ``now``), and summed per user × episode. A cell
is *rejected* when the listener unliked it more than liked it, last rated it 1–2,
skipped it without ever finishing it, or its decayed sum is negative; rejected cells go
to ``negatives`` (1.0), the others with a positive sum to ``matrix`` (the sum), and every
touched cell to ``seen`` and ``timestamps`` (its last event, epoch seconds). An episode
merged into another since the events were written counts as its survivor: the lake keeps
the id the event named, the catalog says where it went.

**Follows** are the latest ``subscribe``/``unsubscribe`` event per user × show in the
lake's ``events`` (the events API and the gPodder API both write them; a gPodder feed
the catalog did not know has no show and is left out), shows merged away counted as
their survivor.

**Facts** from the catalog: each item's show, title, language (the show's primary
subtag, lower case), publication time, availability, topics (the content analysis's
when the episode was analysed, else its show's categories) and embedding (the analysis's
episode vectors, a zero row where an episode has none; ``None`` when there are none at
all); each user's languages, by the weight of what they played in each (one who has
played nothing yet: those of the shows they follow). The finished and liked cells are
kept too, as histories have them.

:func:`user_histories` reads the same for a few users *now*, for serving: the model's
answer follows the lake, not the matrix it was fitted on.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from deltalake import DeltaTable

from podsight import conf, lake
from podsight.lake.tables import ENGAGEMENT_DAILY, EVENTS
from podsight.progress import SILENT, Progress
from podsight.recs.core import Dataset, History

__all__ = [
    "DEFAULT_HALF_LIFE_S",
    "FINISHED",
    "HALF_LIFE_SETTING",
    "LIKED_RATING",
    "LOW_RATING",
    "build_dataset",
    "half_life_s",
    "user_histories",
]

HALF_LIFE_SETTING = "PODSIGHT_RECS_HALF_LIFE"
DEFAULT_HALF_LIFE_S = 90 * 86_400.0
# An episode counts as finished from this completion on: players stop short of the end
# (credits, the next episode's trailer), and the simulator's "complete" is 1.0.
FINISHED = 0.9
# Ratings of 1-5: from 4 a rating is a like, up to 2 a rejection.
LIKED_RATING = 4
LOW_RATING = 2


def half_life_s() -> float:
    """The decay's half-life in seconds (``PODSIGHT_RECS_HALF_LIFE``, a timespan)."""
    raw = conf.env(HALF_LIFE_SETTING, "")
    if not raw:
        return DEFAULT_HALF_LIFE_S
    try:
        return conf.parse_timespan(raw)
    except ValueError as exc:
        raise conf.SettingError(f"{HALF_LIFE_SETTING}: {exc} (e.g. 90d, 30d, 12h)") from None


# -- reading the lake --------------------------------------------------------------------


@dataclass
class _Cells:
    """Per user × episode (survivors), as read from the lake."""

    users: np.ndarray  # object: user ids
    episodes: np.ndarray  # int64: alive episode ids
    score: np.ndarray  # float64: decayed sum of the daily weights
    likes: np.ndarray
    unlikes: np.ndarray
    skips: np.ndarray
    rating: np.ndarray  # float64: the last rating, NaN when never rated
    completion: np.ndarray
    last: np.ndarray  # float64: epoch seconds of the last event

    def __len__(self) -> int:
        return len(self.episodes)

    def take(self, mask: np.ndarray) -> _Cells:
        return _Cells(**{name: getattr(self, name)[mask] for name in self.__dataclass_fields__})

    @property
    def finished(self) -> np.ndarray:
        return self.completion >= FINISHED

    @property
    def liked(self) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return (self.likes > self.unlikes) | (self.rating >= LIKED_RATING)

    @property
    def rejected(self) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return (
                (self.unlikes > self.likes)
                | (self.rating <= LOW_RATING)
                | ((self.skips > 0) & ~self.finished)
                | (self.score < 0)
            )


def _engagement() -> DeltaTable | None:
    if not lake.exists(ENGAGEMENT_DAILY):
        return None
    return DeltaTable(str(lake.table_path(ENGAGEMENT_DAILY)))


def _events_dataset():
    if not lake.exists(EVENTS):
        return None
    return DeltaTable(str(lake.table_path(EVENTS))).to_pyarrow_dataset()


def _user_filter(con: duckdb.DuckDBPyConnection, users: Sequence[str] | None) -> str:
    if users is None:
        return ""
    con.register("wanted", pa.table({"user_id": pa.array(list(users), pa.string())}))
    return "WHERE user_id IN (SELECT user_id FROM wanted)"


def _moves(ids: np.ndarray, alive: np.ndarray, model) -> pa.Table:
    """(id, survivor) for the ids not among ``alive`` (sorted) whose survivor is."""
    missing = ids[~_member(ids, alive)]
    pairs: list[tuple[int, int]] = []
    if len(missing):
        from podsight.catalog.services import surviving_ids

        found = surviving_ids(model, missing.tolist())
        pairs = [(old, new) for old, new in found.items() if old != new]
    old = np.array([p[0] for p in pairs], dtype=np.int64)
    new = np.array([p[1] for p in pairs], dtype=np.int64)
    keep = _member(new, alive)
    return pa.table({"old": old[keep], "new": new[keep]})


def _member(values: np.ndarray, sorted_ids: np.ndarray) -> np.ndarray:
    if not len(sorted_ids):
        return np.zeros(len(values), dtype=bool)
    at = np.searchsorted(sorted_ids, values).clip(0, len(sorted_ids) - 1)
    return sorted_ids[at] == values


def _read_cells(
    table: DeltaTable | None,
    alive_episodes: np.ndarray,
    *,
    now_s: float,
    half_life: float,
    users: Sequence[str] | None = None,
) -> _Cells:
    if table is None:
        return _no_cells()
    with lake.io_lock:  # the events consumer writes from another thread (podsight.lake)
        return _query_cells(table, alive_episodes, now_s=now_s, half_life=half_life, users=users)


def _query_cells(
    table: DeltaTable,
    alive_episodes: np.ndarray,
    *,
    now_s: float,
    half_life: float,
    users: Sequence[str] | None,
) -> _Cells:
    con = lake.connect()
    try:
        con.register("lake_g", table.to_pyarrow_dataset())
        where = _user_filter(con, users)
        # One scan of the table (a few users' rows, or every row).
        con.execute(
            "CREATE TEMP TABLE g AS SELECT user_id, episode_id, weight, likes, unlikes, skips,"
            f" rating, max_completion, last_event_at FROM lake_g {where}"
        )
        ids = con.sql("SELECT DISTINCT episode_id FROM g").fetchnumpy()["episode_id"]
        con.register("m", _moves(np.asarray(ids, dtype=np.int64), alive_episodes, _episode()))
        # Decayed per day, then summed per (user, survivor). The last rating is the one of
        # the latest day that has one. Doubles throughout: sums of integers would come
        # back as 128-bit decimals.
        rows = con.sql(
            """
            WITH d AS (
                SELECT user_id, coalesce(m.new, g.episode_id) AS episode_id,
                    weight * pow(0.5, greatest(0.0, $now - epoch(last_event_at)) / $half)
                        AS decayed,
                    likes, unlikes, skips, rating, max_completion, last_event_at
                FROM g LEFT JOIN m ON g.episode_id = m.old
            )
            SELECT user_id, episode_id, sum(decayed) AS score,
                CAST(sum(likes) AS DOUBLE) AS likes, CAST(sum(unlikes) AS DOUBLE) AS unlikes,
                CAST(sum(skips) AS DOUBLE) AS skips,
                coalesce(CAST(arg_max(rating, last_event_at) FILTER (WHERE rating IS NOT NULL)
                    AS DOUBLE), 'NaN'::DOUBLE) AS rating,
                CAST(max(max_completion) AS DOUBLE) AS completion,
                CAST(epoch(max(last_event_at)) AS DOUBLE) AS last
            FROM d GROUP BY user_id, episode_id
            """,
            params={"now": now_s, "half": half_life},
        ).fetchnumpy()
    finally:
        con.close()
    if not len(rows["episode_id"]):
        return _no_cells()
    return _Cells(
        users=np.asarray(rows["user_id"], dtype=object),
        episodes=np.asarray(rows["episode_id"], dtype=np.int64),
        **{
            name: np.asarray(rows[name], dtype=np.float64)
            for name in ("score", "likes", "unlikes", "skips", "rating", "completion", "last")
        },
    )


def _no_cells() -> _Cells:
    floats = (np.zeros(0) for _ in range(7))
    return _Cells(np.zeros(0, dtype=object), np.zeros(0, dtype=np.int64), *floats)


def _episode():
    from podsight.catalog.models import Episode

    return Episode


def _read_follows(
    alive_shows: np.ndarray, users: Sequence[str] | None = None
) -> tuple[np.ndarray, pa.Table]:
    """Everyone with a subscription event, and per user × show (survivors) the latest
    event's type."""

    with lake.io_lock:  # the events consumer writes from another thread (podsight.lake)
        dataset = _events_dataset()
        none = pa.table({"user_id": pa.array([], pa.string()), "channel_id": [], "type": []})
        if dataset is None:
            return np.zeros(0, dtype=object), none
        return _query_follows(dataset, alive_shows, users)


def _query_follows(dataset, alive_shows: np.ndarray, users: Sequence[str] | None):
    from podsight.catalog.models import Channel

    con = lake.connect()
    try:
        con.register("e", dataset)
        where = _user_filter(con, users)
        where = (where + " AND" if where else "WHERE") + " type IN ('subscribe', 'unsubscribe')"
        con.execute(
            "CREATE TEMP TABLE s AS SELECT user_id, channel_id, type, occurred_at, received_at,"
            f" log_partition, log_offset FROM e {where}"
        )
        people = con.sql("SELECT DISTINCT user_id FROM s").fetchnumpy()["user_id"]
        ids = con.sql(
            "SELECT DISTINCT channel_id FROM s WHERE channel_id IS NOT NULL"
        ).fetchnumpy()["channel_id"]
        con.register("m", _moves(np.asarray(ids, dtype=np.int64), alive_shows, Channel))
        latest = con.sql(
            """
            SELECT user_id, coalesce(m.new, s.channel_id) AS channel_id, type
            FROM s LEFT JOIN m ON s.channel_id = m.old
            WHERE s.channel_id IS NOT NULL
            QUALIFY row_number() OVER (
                PARTITION BY user_id, coalesce(m.new, s.channel_id)
                ORDER BY occurred_at DESC, received_at DESC, log_partition DESC,
                    log_offset DESC
            ) = 1
            """
        ).to_arrow_table()
    finally:
        con.close()
    return np.asarray(people, dtype=object), latest


# -- the catalog -------------------------------------------------------------------------


@dataclass
class _Catalog:
    episode_ids: np.ndarray  # int64, sorted
    show_ids: np.ndarray  # int64, sorted
    item_show: np.ndarray
    shows: list[str]
    show_titles: list[str]
    item_titles: list[str]
    item_language: list[str]
    item_published: np.ndarray
    item_available: np.ndarray
    item_topics: list[tuple[str, ...]]


def _primary(language: str) -> str:
    return language.strip().replace("_", "-").split("-")[0].lower()


def _epoch_seconds(values: list) -> np.ndarray:
    """Epoch seconds (NaN for None) of datetimes as a driver returns them: aware
    datetimes (PostgreSQL) or naive UTC text (Django's SQLite)."""
    times = pa.array(values)
    if pa.types.is_null(times.type):
        return np.full(len(values), math.nan)
    if not pa.types.is_timestamp(times.type):
        times = times.cast(pa.timestamp("us"))
    micros = times.cast(pa.int64())
    return micros.to_numpy(zero_copy_only=False).astype(np.float64) / 1e6


def _read_catalog() -> _Catalog:
    from django.db import connection

    from podsight.catalog.models import Channel, ChannelCategory, Episode
    from podsight.content.models import EpisodeAnalysis

    channels = list(Channel.objects.alive().order_by("id").values_list("id", "title", "language"))
    show_ids = np.array([c[0] for c in channels], dtype=np.int64)
    show_language = [_primary(c[2] or "") for c in channels]
    categories: dict[int, list[str]] = {}
    for channel_id, name in (
        ChannelCategory.objects.filter(channel__merged_into__isnull=True)
        .order_by("channel_id", "id")
        .values_list("channel_id", "name")
    ):
        categories.setdefault(channel_id, []).append(name)
    # The rows as the database driver returns them: Django's per-value converters cost
    # more than the query on a large catalog; the times are converted at once below.
    query = (
        Episode.objects.alive()
        .filter(channel__merged_into__isnull=True)
        .order_by("id")
        .values_list("id", "channel_id", "title", "published_at", "available")
    )
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if rows:
        ids, channel_of, titles, published, available = (list(c) for c in zip(*rows, strict=True))
    else:
        ids, channel_of, titles, published, available = [], [], [], [], []
    episode_ids = np.array(ids, dtype=np.int64)
    item_show = np.searchsorted(show_ids, np.array(channel_of, dtype=np.int64)).astype(np.int32)
    analysed: dict[int, tuple[str, ...]] = {}
    for episode_id, topics in EpisodeAnalysis.objects.filter(
        episode__merged_into__isnull=True
    ).values_list("episode_id", "topics"):
        names = tuple(t["topic"] for t in topics or () if isinstance(t, dict) and t.get("topic"))
        if names:
            analysed[episode_id] = names
    show_topics = [tuple(categories.get(int(c), ())) for c in show_ids.tolist()]
    shows_of = item_show.tolist()
    return _Catalog(
        episode_ids=episode_ids,
        show_ids=show_ids,
        item_show=item_show,
        shows=[str(c) for c in show_ids.tolist()],
        show_titles=[c[1] or "" for c in channels],
        item_titles=[t or "" for t in titles],
        item_language=[show_language[s] for s in shows_of],
        item_published=_epoch_seconds(published),
        item_available=np.array(available, dtype=bool),
        item_topics=[analysed.get(e) or show_topics[s] for e, s in zip(ids, shows_of, strict=True)],
    )


def _vectors(episode_ids: np.ndarray) -> np.ndarray | None:
    from podsight.content.similar import load_vectors

    stored = load_vectors()
    if not len(stored.ids):
        return None
    out = np.zeros((len(episode_ids), stored.matrix.shape[1]), dtype=np.float32)
    at = np.searchsorted(stored.ids, episode_ids).clip(0, len(stored.ids) - 1)
    hit = stored.ids[at] == episode_ids
    out[hit] = stored.matrix[at[hit]]
    return out


# -- building ----------------------------------------------------------------------------


def _languages_by_weight(
    user_rows: np.ndarray, items: np.ndarray, weights: np.ndarray, item_language: list[str],
    n_users: int,
) -> list[tuple[str, ...]]:  # fmt: skip
    """Per user, the languages of what they played, the most weight first."""
    names, codes = np.unique(np.array(item_language + [""], dtype=object), return_inverse=True)
    codes = codes[:-1][items]
    known = names[codes] != ""
    per = sp.coo_matrix(
        (weights[known], (user_rows[known], codes[known])), shape=(n_users, len(names))
    ).tocsr()  # summed where a user played several episodes in one language
    per.eliminate_zeros()
    row_of = np.repeat(np.arange(n_users), np.diff(per.indptr))
    order = np.lexsort((-per.data, row_of))  # by user, then by weight, heaviest first
    ranked = names[per.indices[order]].tolist()
    bounds = per.indptr.tolist()
    return [tuple(ranked[bounds[u] : bounds[u + 1]]) for u in range(n_users)]


def build_dataset(
    *,
    now: datetime | None = None,
    half_life: float | None = None,
    progress: Progress = SILENT,
) -> Dataset:
    """The lake's listening as of ``now`` (default: the present) on the catalog's alive
    episodes, with the catalog's facts; ``half_life`` in seconds (default
    ``PODSIGHT_RECS_HALF_LIFE``). ``data_version`` is the Delta version of
    ``engagement_daily`` read (None when the table does not exist yet)."""
    now = now or datetime.now(UTC)
    half = half_life if half_life is not None else half_life_s()
    if half <= 0:
        raise ValueError("the half-life must be > 0 seconds")
    with progress.task("recommendation data", total=4) as task:
        task.update(item="catalog")
        catalog = _read_catalog()
        task.advance(item="engagement")
        table = _engagement()
        version = table.version() if table is not None else None
        cells = _read_cells(table, catalog.episode_ids, now_s=now.timestamp(), half_life=half)
        task.advance(item="subscriptions")
        subscribers, latest = _read_follows(catalog.show_ids)
        task.advance(item="matrices")
        users = sorted(set(cells.users.tolist()) | set(subscribers.tolist()))
        data = _assemble(users, catalog, cells, latest)
        data.item_vectors = _vectors(catalog.episode_ids)
        data.now = now.timestamp()
        data.data_version = version
        task.advance()
    progress.note(
        f"{data.n_users:,} listeners × {data.n_items:,} episodes: {data.matrix.nnz:,} "
        f"positive and {data.negatives.nnz:,} rejected interactions, "
        f"{data.follows.nnz:,} follows (engagement_daily version {version})"
    )
    return data


def _user_rows(users: list[str], ids: np.ndarray) -> np.ndarray:
    lookup = pa.array(users, pa.string())
    return np.asarray(
        pc.index_in(pa.array(ids.tolist(), pa.string()), value_set=lookup)
        .fill_null(-1)
        .to_numpy(zero_copy_only=False),
        dtype=np.int64,
    )


def _assemble(users: list[str], catalog: _Catalog, cells: _Cells, latest: pa.Table) -> Dataset:
    n_users, n_items, n_shows = len(users), len(catalog.episode_ids), len(catalog.shows)
    known = _member(cells.episodes, catalog.episode_ids)
    cells = cells.take(known)
    rows = _user_rows(users, cells.users)
    cols = np.searchsorted(catalog.episode_ids, cells.episodes)
    rejected = cells.rejected
    positive = ~rejected & (cells.score > 0)

    def matrix(mask: np.ndarray, values: np.ndarray, dtype=np.float32) -> sp.csr_matrix:
        return sp.csr_matrix(
            (values[mask].astype(dtype), (rows[mask], cols[mask])), shape=(n_users, n_items)
        )

    every = np.ones(len(cells), dtype=bool)
    follows, unfollowed = _follow_matrices(latest, users, catalog.show_ids, n_users, n_shows)
    return Dataset(
        users=users,
        items=[str(i) for i in catalog.episode_ids.tolist()],
        matrix=matrix(positive, cells.score),
        negatives=matrix(rejected, np.ones(len(cells))),
        seen=matrix(every, np.ones(len(cells))),
        timestamps=matrix(every, cells.last, np.float64),
        # As in histories, so that fitting (the blend's validation) and serving see the same.
        finished=matrix(positive & cells.finished, np.ones(len(cells))),
        liked=matrix(positive & cells.liked, np.ones(len(cells))),
        item_show=catalog.item_show,
        shows=catalog.shows,
        show_titles=catalog.show_titles,
        item_titles=catalog.item_titles,
        item_language=catalog.item_language,
        item_published=catalog.item_published,
        item_available=catalog.item_available,
        item_topics=catalog.item_topics,
        follows=follows,
        unfollowed=unfollowed,
        user_languages=_with_followed_languages(
            _languages_by_weight(
                rows[positive],
                cols[positive],
                cells.score[positive],
                catalog.item_language,
                n_users,
            ),
            follows,
            catalog.item_show,
            catalog.item_language,
        ),
        name="lake",
    )


def _show_languages(item_show: np.ndarray, item_language: list[str], n_shows: int) -> list[str]:
    """Each show's language: the first its episodes state ("" when none does)."""
    out = [""] * n_shows
    for show, language in zip(item_show.tolist(), item_language, strict=True):
        if show >= 0 and language and not out[show]:
            out[show] = language
    return out


def _with_followed_languages(
    languages: list[tuple[str, ...]], follows: sp.csr_matrix, item_show: np.ndarray,
    item_language: list[str],
) -> list[tuple[str, ...]]:  # fmt: skip
    """A listener who has played nothing yet but follows shows gets those shows' languages
    (the cold-start list is "popular in <language>"), not every language."""
    if not any(
        not langs and follows.indptr[u] < follows.indptr[u + 1] for u, langs in enumerate(languages)
    ):
        return languages
    show_language = _show_languages(item_show, item_language, follows.shape[1])
    out = list(languages)
    for user, langs in enumerate(languages):
        if not langs:
            followed = follows.indices[follows.indptr[user] : follows.indptr[user + 1]]
            out[user] = _unique(show_language[s] for s in followed.tolist())
    return out


def _unique(languages: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(lang for lang in languages if lang))


def _follow_matrices(
    latest: pa.Table, users: list[str], show_ids: np.ndarray, n_users: int, n_shows: int
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    channel = np.asarray(latest.column("channel_id").to_numpy(zero_copy_only=False), np.int64)
    kind = np.asarray(latest.column("type").to_numpy(zero_copy_only=False), dtype=object)
    rows = _user_rows(users, np.asarray(latest.column("user_id").to_pylist(), dtype=object))
    ok = _member(channel, show_ids) & (rows >= 0)
    cols = np.searchsorted(show_ids, channel)

    def matrix(mask: np.ndarray) -> sp.csr_matrix:
        mask = mask & ok
        return sp.csr_matrix(
            (np.ones(int(mask.sum()), dtype=np.float32), (rows[mask], cols[mask])),
            shape=(n_users, n_shows),
        )

    return matrix(kind == "subscribe"), matrix(kind == "unsubscribe")


# -- one user's history now --------------------------------------------------------------


@dataclass
class _Lookup:
    """A dataset's ids as sorted integer arrays, to map the lake onto its indices."""

    items: np.ndarray  # sorted episode ids
    item_index: np.ndarray  # their indices in data.items
    shows: np.ndarray
    show_index: np.ndarray
    users: dict[str, int]


def _lookup(data: Dataset) -> _Lookup:
    # Cached on the dataset: a serving process maps every refresh onto the same one.
    cached = data.__dict__.get("_podsight_lookup")
    if cached is not None and cached[0] == (len(data.items), len(data.shows), len(data.users)):
        return cached[1]
    try:
        items = np.array([int(i) for i in data.items], dtype=np.int64)
        shows = np.array([int(s) for s in data.shows], dtype=np.int64)
    except ValueError:
        raise ValueError(
            f"dataset {data.name!r} does not name catalog episodes: only a lake dataset "
            "maps onto listeners' histories"
        ) from None
    order, show_order = np.argsort(items, kind="stable"), np.argsort(shows, kind="stable")
    found = _Lookup(
        items=items[order],
        item_index=order,
        shows=shows[show_order],
        show_index=show_order,
        users={u: i for i, u in enumerate(data.users)},
    )
    data.__dict__["_podsight_lookup"] = ((len(data.items), len(data.shows), len(data.users)), found)
    return found


def _indices(ids: np.ndarray, sorted_ids: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Positions in the dataset of ``ids`` (-1 where it has none)."""
    out = np.full(len(ids), -1, dtype=np.int64)
    hit = _member(ids, sorted_ids)
    out[hit] = index[np.searchsorted(sorted_ids, ids[hit])]
    return out


def user_histories(
    user_ids: Iterable[str], data: Dataset, *, now: datetime | None = None
) -> dict[str, History]:
    """Each user's history as the lake holds it now, in ``data``'s items and shows (what
    ``data`` does not hold, such as an episode published since it was built, is left
    out). A user ``data`` does not know has ``index`` None, and whatever the lake has:
    plays since, or subscriptions only; one the lake knows nothing of, an empty history."""
    wanted = sorted(set(user_ids))
    out = {u: History(user=u) for u in wanted}
    if not wanted:
        return out
    look = _lookup(data)
    now_s = (now or datetime.now(UTC)).timestamp()
    cells = _read_cells(
        _engagement(), look.items, now_s=now_s, half_life=half_life_s(), users=wanted
    )
    _, latest = _read_follows(look.shows, wanted)
    cols = _indices(cells.episodes, look.items, look.item_index)
    cells, cols = cells.take(cols >= 0), cols[cols >= 0]
    rejected = cells.rejected
    positive = ~rejected & (cells.score > 0)
    finished, liked = cells.finished & positive, cells.liked & positive
    f_channels = np.asarray(latest.column("channel_id").to_numpy(zero_copy_only=False), np.int64)
    f_cols = _indices(f_channels, look.shows, look.show_index)
    f_users = np.asarray(latest.column("user_id").to_pylist(), dtype=object)
    f_kinds = np.asarray(latest.column("type").to_pylist(), dtype=object)
    order = np.argsort(cells.users.astype(str), kind="stable") if len(cells) else np.zeros(0, int)
    by_user = _groups(cells.users[order])
    for user in wanted:
        mine = order[by_user.get(user, slice(0, 0))]
        mine = mine[np.argsort(cols[mine], kind="stable")]
        pos = mine[positive[mine]]
        shows_mine = (f_users == user) & (f_cols >= 0)
        out[user] = History(
            user=user,
            index=look.users.get(user),
            items=cols[pos].astype(np.int32),
            weights=cells.score[pos].astype(np.float32),
            negatives=np.sort(cols[mine[rejected[mine]]]).astype(np.int32),
            seen=np.sort(cols[mine]).astype(np.int32),
            follows=np.sort(f_cols[shows_mine & (f_kinds == "subscribe")]).astype(np.int32),
            unfollowed=np.sort(f_cols[shows_mine & (f_kinds == "unsubscribe")]).astype(np.int32),
            languages=_history_languages(cols[pos], cells.score[pos], data)
            or _followed_show_languages(f_cols[shows_mine & (f_kinds == "subscribe")], data),
            times=cells.last[pos],
            finished=cols[mine[finished[mine]]].astype(np.int32),
            liked=cols[mine[liked[mine]]].astype(np.int32),
        )
    return out


def _groups(sorted_users: np.ndarray) -> dict[str, slice]:
    """user → the slice of ``sorted_users`` holding them."""
    if not len(sorted_users):
        return {}
    names, starts = np.unique(sorted_users.astype(str), return_index=True)
    ends = [*starts[1:].tolist(), len(sorted_users)]
    return {
        str(n): slice(s, e) for n, s, e in zip(names.tolist(), starts.tolist(), ends, strict=True)
    }


def _followed_show_languages(shows: np.ndarray, data: Dataset) -> tuple[str, ...]:
    if data.item_language is None or data.item_show is None or not len(shows):
        return ()
    show_language = _show_languages(data.item_show, data.item_language, len(data.shows))
    return _unique(show_language[s] for s in shows.tolist())


def _history_languages(items: np.ndarray, weights: np.ndarray, data: Dataset) -> tuple[str, ...]:
    if data.item_language is None or not len(items):
        return ()
    totals: dict[str, float] = {}
    for item, weight in zip(items.tolist(), weights.tolist(), strict=True):
        language = data.item_language[item]
        if language:
            totals[language] = totals.get(language, 0.0) + weight
    return tuple(sorted(totals, key=lambda lang: (-totals[lang], lang)))
