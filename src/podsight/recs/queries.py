"""Read-side helpers of the recommendations API: the listeners a staff member can pick.

:func:`listeners` reads the lake's ``engagement_daily`` (one row per user × episode ×
day) with DuckDB: each listener's plays, distinct episodes and last activity, most plays
first, filtered by a substring of the id, paged by a keyset over (plays, user id) so a
page stays right while new listening arrives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from podsight import lake
from podsight.lake.tables import ENGAGEMENT_DAILY

__all__ = ["ListenerPage", "listeners"]


@dataclass
class ListenerPage:
    results: list[dict[str, Any]]
    # (plays, user_id) of the last row when there are more, for the next page's cursor.
    after: tuple[int, str] | None


def listeners(
    *, q: str | None = None, size: int = 50, after: tuple[int, str] | None = None
) -> ListenerPage:
    """Listeners with their play counts, most plays first (ties by id), whose id holds
    ``q`` (case-insensitive); the page after ``after`` = (plays, user_id)."""
    if not lake.exists(ENGAGEMENT_DAILY):
        return ListenerPage([], None)
    from deltalake import DeltaTable

    dataset = DeltaTable(str(lake.table_path(ENGAGEMENT_DAILY))).to_pyarrow_dataset()
    where, params = [], {"limit": size + 1}
    if q:
        # strpos, not LIKE: the search text's % and _ are plain characters.
        where.append("strpos(lower(user_id), lower($q)) > 0")
        params["q"] = q
    having = ""
    if after is not None:
        having = "HAVING sum(plays) < $plays OR (sum(plays) = $plays AND user_id > $user)"
        params["plays"], params["user"] = after
    con = lake.connect()
    try:
        con.register("engagement", dataset)
        table = con.sql(
            "SELECT user_id, sum(plays)::BIGINT AS plays, count(DISTINCT episode_id) AS episodes,"
            " epoch_us(max(last_event_at)) AS last_us FROM engagement"
            + (f" WHERE {' AND '.join(where)}" if where else "")
            + f" GROUP BY user_id {having} ORDER BY plays DESC, user_id LIMIT $limit",
            params=params,
        ).to_arrow_table()
    finally:
        con.close()
    rows = table.to_pylist()
    more = len(rows) > size
    rows = rows[:size]
    results = [
        {
            "user_id": r["user_id"],
            "plays": int(r["plays"] or 0),
            "episodes": int(r["episodes"] or 0),
            "last_active_at": (
                datetime.fromtimestamp(r["last_us"] / 1e6, UTC).isoformat()
                if r["last_us"] is not None
                else None
            ),
        }
        for r in rows
    ]
    last = results[-1] if results else None
    return ListenerPage(results, (last["plays"], last["user_id"]) if more and last else None)
