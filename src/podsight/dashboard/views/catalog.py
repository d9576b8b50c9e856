"""The Catalog page: find shows and episodes, then look at one show.

Search: shows (``GET /api/channels``) or episodes (``GET /api/episodes``) by full text
with filters, or episodes by what is said in them (``GET /api/search``, semantic).

A show's page (``?channel=ID``, so it can be linked to and reloaded): every source record
linked to it with the link's method, confidence and explanation (``GET
/api/channels/{id}``), the source each canonical field came from (its ``field_sources``),
its metrics per platform over time (``GET /api/channels/{id}/metrics``), its episodes
with their transcript status (``GET /api/channels/{id}/episodes``); staff can sync it
(step ``ingest.rss`` on its feed, as a job).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import altair as alt
import pandas as pd
import streamlit as st

from podsight.dashboard import ui
from podsight.dashboard.client import ApiCallError, ApiClient
from podsight.dashboard.jobs import job_button

__all__ = ["MODES", "PAGE_SIZE", "SECTIONS", "SECTION_KEY", "SOURCES", "feed_url", "render"]

SOURCES = ("rss", "podcastindex", "apple", "spotify", "youtube")
MODES = ("Shows", "Episodes", "What is said")
PAGE_SIZE = 25
EPISODES_PAGE_SIZE = 50
ANY = "any"

# How field_sources names a field → the detail's key for its value.
_FIELD_KEYS = {"description_text": "description"}


def render(client: ApiClient) -> None:
    channel = st.query_params.get("channel")
    if channel:
        _channel_page(client, str(channel))
    else:
        _search(client)


# --- search ---------------------------------------------------------------------------


def _cursor(next_url: str | None) -> str | None:
    """The cursor of a list's ``next`` link (the API hands out whole URLs)."""
    if not next_url:
        return None
    return (parse_qs(urlsplit(next_url).query).get("cursor") or [None])[0]


def _paged(client: ApiClient, key: str, path: str, params: dict[str, Any]) -> dict | None:
    """One page of a cursor list; "Next page" / "First page" move along it. The cursor is
    forgotten whenever the query changes."""
    state = st.session_state.setdefault(f"catalog:{key}", {"params": None, "cursor": None})
    if state["params"] != params:
        state.update(params=params, cursor=None)
    answer = ui.call(client.get, path, **params, cursor=state["cursor"])
    if answer is None:
        return None
    left, right, _ = st.columns([1, 1, 6])
    following = _cursor(answer.get("next"))
    if following and right.button("Next page", key=f"{key}:next", icon=":material/arrow_forward:"):
        state["cursor"] = following
        st.rerun()
    if state["cursor"] and left.button("First page", key=f"{key}:first"):
        state["cursor"] = None
        st.rerun()
    return answer


def _count(n: int, noun: str, answer: dict) -> str:
    more = "; more on the next page" if answer.get("next") else ""
    return f"{n} {noun}{'' if n == 1 else 's'} on this page{more}"


def _choice(label: str, options: tuple[str, ...], key: str) -> str | None:
    value = st.selectbox(label, (ANY, *options), key=key)
    return None if value == ANY else value


def _open_show(options: dict[int, str], key: str) -> None:
    """Pick one of the shows in the results and open its page."""
    if not options:
        return
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    picked = left.selectbox(
        "Open a show", list(options), format_func=lambda i: f"{options[i]} (#{i})", key=key
    )
    if right.button("Open show", key=f"{key}:open", icon=":material/open_in_new:", type="primary"):
        st.query_params["channel"] = str(picked)
        st.rerun()


def _search(client: ApiClient) -> None:
    st.title("Catalog")
    mode = st.radio("Search", MODES, horizontal=True, key="catalog:mode")
    query = st.text_input(
        "Words" if mode != "What is said" else "What was said, in any words",
        key="catalog:q",
        placeholder="e.g. burnout" if mode != "What is said" else "e.g. how to sleep better",
    )
    if mode == "Shows":
        _search_shows(client, query)
    elif mode == "Episodes":
        _search_episodes(client, query)
    else:
        _search_said(client, query)


def _search_shows(client: ApiClient, query: str) -> None:
    cols = st.columns(4)
    with cols[0]:
        source = _choice("Source", SOURCES, "catalog:shows:source")
    language = cols[1].text_input("Language", key="catalog:shows:language", placeholder="en")
    category = cols[2].text_input("Category", key="catalog:shows:category")
    with cols[3]:
        explicit = _choice("Explicit", ("yes", "no"), "catalog:shows:explicit")
    params = {
        "q": query.strip() or None,
        "source": source,
        "language": language.strip() or None,
        "category": category.strip() or None,
        "explicit": {"yes": "true", "no": "false"}.get(explicit or ""),
        "page_size": PAGE_SIZE,
    }
    answer = _paged(client, "shows", "/api/channels", params)
    if answer is None:
        return
    rows = answer.get("results", [])
    if not rows:
        filtered = any(v for k, v in params.items() if k != "page_size")
        st.info(
            "No show matches these filters."
            if filtered
            else "The catalog is empty: add shows with `podsight ingest rss FEED_URL` "
            "(or `podsight demo load` for a demo catalog)."
        )
        return
    table = pd.DataFrame(
        {
            "id": [c["id"] for c in rows],
            "title": [c["title"] for c in rows],
            "author": [c["author"] for c in rows],
            "language": [c["language"] for c in rows],
            "episodes": [c["episode_count"] for c in rows],
            "sources": [", ".join(sorted({s["source"] for s in c["sources"]})) for c in rows],
            "categories": [", ".join(c["categories"]) for c in rows],
        }
    )
    st.caption(_count(len(rows), "show", answer))
    st.dataframe(table, hide_index=True, width="stretch")
    _open_show({c["id"]: c["title"] for c in rows}, "catalog:shows:pick")


def _search_episodes(client: ApiClient, query: str) -> None:
    cols = st.columns(4)
    with cols[0]:
        source = _choice("Source", SOURCES, "catalog:episodes:source")
    language = cols[1].text_input("Language", key="catalog:episodes:language", placeholder="en")
    with cols[2]:
        transcript = _choice("Has a transcript link", ("yes", "no"), "catalog:episodes:tr")
    after = cols[3].date_input("Published after", value=None, key="catalog:episodes:after")
    params = {
        "q": query.strip() or None,
        "source": source,
        "language": language.strip() or None,
        "has_transcript": {"yes": "true", "no": "false"}.get(transcript or ""),
        "published_after": f"{after.isoformat()}T00:00:00Z" if isinstance(after, date) else None,
        "page_size": PAGE_SIZE,
    }
    answer = _paged(client, "episodes", "/api/episodes", params)
    if answer is None:
        return
    rows = answer.get("results", [])
    if not rows:
        filtered = any(v for k, v in params.items() if k != "page_size")
        st.info(
            "No episode matches these filters."
            if filtered
            else "The catalog has no episodes yet: add shows with `podsight ingest rss "
            "FEED_URL` (or `podsight demo load`)."
        )
        return
    st.caption(_count(len(rows), "episode", answer))
    st.dataframe(_episode_table(rows, with_show=True), hide_index=True, width="stretch")
    _open_show({e["channel"]: e["channel_title"] for e in rows}, "catalog:episodes:pick")


def _search_said(client: ApiClient, query: str) -> None:
    cols = st.columns(3)
    language = cols[0].text_input("Language", key="catalog:said:language", placeholder="en")
    after = cols[1].date_input("Published after", value=None, key="catalog:said:after")
    limit = cols[2].number_input("Episodes", 1, 50, 10, key="catalog:said:limit")
    if not query.strip():
        st.caption(
            "Type what was said: episodes are ranked by how well their transcripts (or show "
            "notes) answer it, by meaning and by words."
        )
        return
    answer = ui.call(
        client.get,
        "/api/search",
        q=query.strip(),
        language=language.strip() or None,
        published_after=f"{after.isoformat()}T00:00:00Z" if isinstance(after, date) else None,
        limit=int(limit),
    )
    if answer is None:
        return
    rows = answer.get("results", [])
    if not rows:
        st.info(
            f"Nothing said matches ({answer.get('passages_indexed', 0):,} passages searched)."
            if answer.get("index")
            else "Nothing is indexed yet: run `podsight content transcripts` and then "
            "`podsight content analyze`, which builds the search index."
        )
        return
    table = pd.DataFrame(
        {
            "episode": [r["title"] for r in rows],
            "show": [r["channel_title"] for r in rows],
            "published": pd.to_datetime([r["published_at"] for r in rows], utc=True),
            "score": [r["score"] for r in rows],
            "best passage": [(r["passages"] or [{}])[0].get("text", "") for r in rows],
            "at (s)": [(r["passages"] or [{}])[0].get("start_s") for r in rows],
            "listen": [r["link"] for r in rows],
        }
    )
    st.caption(
        f"{len(rows)} episodes, {answer.get('method', '')} ranking over "
        f"{answer.get('passages_indexed', 0):,} passages."
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "score": st.column_config.NumberColumn(format="%.4f"),
            "listen": st.column_config.LinkColumn(display_text="play at the moment"),
        },
    )
    _open_show({r["channel_id"]: r["channel_title"] for r in rows}, "catalog:said:pick")


def _episode_table(rows: list[dict], *, with_show: bool) -> pd.DataFrame:
    data: dict[str, list] = {"id": [e["id"] for e in rows], "title": [e["title"] for e in rows]}
    if with_show:
        data["show"] = [e["channel_title"] for e in rows]
    data.update(
        {
            "published": pd.to_datetime([e["published_at"] for e in rows], utc=True),
            "duration (min)": [
                round(e["duration_s"] / 60, 1) if e["duration_s"] else None for e in rows
            ],
            "transcript": [e.get("transcript_status", "") for e in rows],
            "sources": [", ".join(s["source"] for s in e["sources"]) for e in rows],
        }
    )
    return pd.DataFrame(data)


# --- one show ---------------------------------------------------------------------------


def _back() -> None:
    if st.button("Back to search", icon=":material/arrow_back:", key="catalog:back"):
        del st.query_params["channel"]
        st.rerun()


SECTIONS = ("Source records", "Field sources", "Metrics", "Episodes")
SECTION_KEY = "catalog:section"


def _channel_page(client: ApiClient, raw_id: str) -> None:
    _back()
    if not raw_id.isdigit() or int(raw_id) < 1:
        st.error(f"`{raw_id}` is not a channel id: open a show from the search.")
        return
    pk = int(raw_id)
    try:
        detail = client.get(f"/api/channels/{pk}")
    except ApiCallError as exc:
        if exc.status == 401:
            raise  # the app sends an expired session back to the sign-in form
        ui.show_error(exc)
        return
    if detail["id"] != pk:  # a merged id: show the survivor under its own id
        st.query_params["channel"] = str(detail["id"])
    _header(client, detail)
    # Lazy tabs: only the open one runs, so the page asks the API only for what it shows.
    tabs = st.tabs(SECTIONS, key=SECTION_KEY, on_change="rerun")
    sources, fields, metrics, episodes = tabs
    if sources.open:
        with sources:
            _source_records(detail)
    if fields.open:
        with fields:
            _field_sources(detail)
    if metrics.open:
        with metrics:
            answer = ui.call(client.get, f"/api/channels/{detail['id']}/metrics")
            if answer is not None:
                _metrics(answer)
    if episodes.open:
        with episodes:
            cursor_key = f"catalog:channel:{detail['id']}:cursor"
            answer = ui.call(
                client.get,
                f"/api/channels/{detail['id']}/episodes",
                page_size=EPISODES_PAGE_SIZE,
                cursor=st.session_state.get(cursor_key),
            )
            if answer is not None:
                _episodes(answer, detail, cursor_key)


def feed_url(detail: dict) -> str | None:
    """The show's feed: its RSS record's address, else one a directory names."""
    records = detail.get("sources", [])
    for record in records:
        if record["source"] == "rss" and record["url"].startswith(("http://", "https://")):
            return record["url"]
    for record in records:
        url = (record.get("data") or {}).get("feed_url") or ""
        if url.startswith(("http://", "https://")):
            return url
    return None


def _header(client: ApiClient, detail: dict) -> None:
    st.title(detail["title"] or f"Show {detail['id']}")
    facts = [
        detail.get("author"),
        detail.get("language"),
        f"{detail.get('episode_count', 0):,} episodes",
        ", ".join(detail.get("categories") or []),
    ]
    st.caption(" · ".join(f for f in facts if f) + f" · show #{detail['id']}")
    if detail.get("description"):
        with st.expander("Description"):
            st.write(detail["description"])
    if not client.staff:
        return
    url = feed_url(detail)
    job_button(
        client,
        "Sync this show",
        "ingest.rss",
        {"locations": [url]} if url else {},
        key=f"catalog-sync-{detail['id']}",
        help=f"Fetch {url} and store what changed (step ingest.rss, run by the server)"
        if url
        else "No feed address is known for this show (no RSS record, no directory entry).",
        disabled=url is None,
    )


def _latest(record: dict) -> str:
    latest = record.get("latest_metrics") or {}
    return ", ".join(f"{name} {m['value']:,.0f}" for name, m in sorted(latest.items()))


def _source_records(detail: dict) -> None:
    records = detail.get("sources", [])
    if not records:
        st.info("No source record is linked to this show.")
        return
    st.caption(
        "Every source record linked to this show and how: `key` links share an identifier "
        "(feed URL, podcast:guid, iTunes id); `fuzzy` ones were matched by their names and "
        "episodes, with a confidence."
    )
    table = pd.DataFrame(
        {
            "source": [r["source"] for r in records],
            "record": [r["external_id"] for r in records],
            "method": [r["method"] for r in records],
            "confidence": [r["confidence"] for r in records],
            "status": [r["status"] or "-" for r in records],
            "explanation": [r["explanation"] for r in records],
            "latest metrics": [_latest(r) for r in records],
            "fetched": pd.to_datetime([r["fetched_at"] for r in records], utc=True),
            "gone since": pd.to_datetime([r["vanished_at"] for r in records], utc=True),
            "url": [r["url"] for r in records],
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "confidence": st.column_config.ProgressColumn(
                min_value=0.0, max_value=1.0, format="%.3f"
            ),
            "url": st.column_config.LinkColumn(),
            "explanation": st.column_config.TextColumn(width="large"),
        },
    )
    with st.expander("Why each record is linked (full explanations)"):
        for r in records:
            confidence = "" if r["confidence"] is None else f", {r['confidence']:.3f}"
            # Escaped: explanations hold "~" (read as strike-through) and could hold "$".
            why = r["explanation"].replace("~", r"\~").replace("$", r"\$")
            st.markdown(
                f"- **{r['source']}** `{r['external_id']}` ({r['method']}{confidence}): {why}"
            )


def _shown(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "-"
    if isinstance(value, list):
        return ", ".join(
            str(v.get("name") or v.get("url") or v) if isinstance(v, dict) else str(v)
            for v in value
        )
    text = str(value)
    return text if len(text) <= 120 else text[:119] + "…"


def _field_sources(detail: dict) -> None:
    origins = detail.get("field_sources") or {}
    if not origins:
        st.info("No field of this show has a recorded source yet.")
        return
    st.caption(
        "Which linked record each canonical field was taken from (survivorship: the first "
        "record with a value in the order RSS, Podcast Index, Apple, Spotify, YouTube)."
    )
    rows = []
    for field, origin in sorted(origins.items()):
        source, _, external_id = origin.partition(":")
        rows.append(
            {
                "field": field,
                "value": _shown(detail.get(_FIELD_KEYS.get(field, field))),
                "source": source,
                "record": external_id,
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def _chart_grid(frame: pd.DataFrame, x: str, x_title: str, x_format: str) -> None:
    """A line chart per metric (a line per platform), three to a row, each with its own
    count scale: one faceted chart, which draws far faster than one chart per metric."""
    base = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            # A date format: on one snapshot Vega's own ticks are sub-second (".287").
            x=alt.X(
                f"{x}:T",
                title=x_title,
                axis=alt.Axis(format=x_format, labelOverlap=True, tickCount=3),
            ),
            y=alt.Y("value:Q", title="count"),
            color=alt.Color("source:N", title="source"),
            tooltip=["source", "metric", x, alt.Tooltip("value:Q", format=",.0f")],
        )
    )
    chart = (
        # 190 px wide: at 230 the third panel (wide count labels) ran past the page edge.
        base.properties(width=190, height=160)
        .facet(facet=alt.Facet("metric:N", title=None), columns=3)
        .resolve_scale(y="independent", x="independent")
        .configure_legend(orient="bottom")
    )
    st.altair_chart(chart, width="content")


def _metrics(answer: dict) -> None:
    totals = answer.get("episodes", [])
    own = answer.get("series", [])
    if not totals and not own:
        st.info(
            "No metrics recorded for this show yet: syncing its platforms "
            "(`podsight sources sync`) records views, likes and comments each time."
        )
        return
    if totals:
        st.subheader("Its episodes, added up per platform")
        st.caption("Each day: the sum over the show's episodes of their latest count.")
        rows = [
            {"source": t["source"], "metric": t["metric"], "day": p["day"], "value": p["value"],
             "episodes": p["records"]}
            for t in totals for p in t["points"]
        ]  # fmt: skip
        frame = pd.DataFrame(rows)
        frame["day"] = pd.to_datetime(frame["day"])
        _chart_grid(frame, "day", "Day (UTC)", "%Y-%m-%d")
    if own:
        st.subheader("The show's own records")
        rows = [
            {"source": s["source"], "metric": s["metric"], "observed": p["observed_at"],
             "value": p["value"]}
            for s in own for p in s["points"]
        ]  # fmt: skip
        frame = pd.DataFrame(rows)
        frame["observed"] = pd.to_datetime(frame["observed"], utc=True)
        _chart_grid(frame, "observed", "Observed at (UTC)", "%Y-%m-%d %H:%M")
    if all(len(s["points"]) < 2 for s in [*totals, *own]):
        st.caption("One snapshot per series so far: each sync adds a point.")


def _episodes(answer: dict, detail: dict, cursor_key: str) -> None:
    rows = answer.get("results", [])
    if not rows:
        st.info("This show has no episodes stored.")
        return
    counts = pd.Series([e.get("transcript_status", "") for e in rows]).value_counts()
    st.caption(
        f"{detail.get('episode_count', len(rows)):,} episodes, newest first; transcripts on "
        "this page: " + ", ".join(f"{n} {status}" for status, n in counts.items())
    )
    st.dataframe(_episode_table(rows, with_show=False), hide_index=True, width="stretch")
    following = _cursor(answer.get("next"))
    left, right, _ = st.columns([1, 1, 6])
    if following and right.button("Next page", key="catalog:channel:next"):
        st.session_state[cursor_key] = following
        st.rerun()
    if st.session_state.get(cursor_key) and left.button("First page", key="catalog:channel:first"):
        st.session_state[cursor_key] = None
        st.rerun()
