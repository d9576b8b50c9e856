"""Directory: search the Podcast Index directory (the imported dump) and add a show.

Everyone may search (``GET /api/directory``); staff get an "Add" button per feed not yet
in the catalog (the API refuses others, so they are not offered it). Adding reads the feed,
which can take as long as the feed's server does, so it runs as the ``directory.add`` job
(:func:`~podsight.dashboard.jobs.job_button`) and the page stays usable meanwhile.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import streamlit as st

from podsight.dashboard.client import ApiCallError, ApiClient
from podsight.dashboard.jobs import job_button, started_job
from podsight.dashboard.ui import show_error

__all__ = ["PAGE_SIZE", "render"]

PAGE_SIZE = 25


def _search(client: ApiClient, q: str, language: str, category: str) -> dict[str, Any] | None:
    cursors: dict[str, str] = st.session_state.setdefault("directory:cursors", {})
    key = f"{q}\x00{language}\x00{category}"
    try:
        return client.get(
            "/api/directory",
            q=q,
            language=language.strip() or None,
            category=category.strip() or None,
            page_size=PAGE_SIZE,
            cursor=cursors.get(key),
        )
    except ApiCallError as exc:
        if exc.code == "directory_unavailable":
            # Not an error of the page: the operator has not imported a dump yet.
            st.info(exc.message, icon=":material/info:")
        else:
            show_error(exc)
        return None


def _cursor_of(next_link: str | None) -> str | None:
    """The ``cursor`` parameter of the API's ``next`` link."""
    if not next_link:
        return None
    values = parse_qs(urlsplit(next_link).query).get("cursor")
    return values[0] if values else None


def _feed_row(client: ApiClient, feed: dict[str, Any]) -> None:
    pid = feed["podcastindex_id"]
    with st.container(border=True):
        left, right = st.columns([4, 2])
        with left:
            dead = " · dead feed" if feed.get("dead") else ""
            st.markdown(f"**{feed['title']}** — {feed.get('author') or 'no author'}{dead}")
            facts = [
                f"language {feed.get('language') or '?'}",
                f"{feed['episode_count']} episodes"
                if feed.get("episode_count") is not None
                else "episodes ?",
                f"popularity {feed['popularity']}/30"
                if feed.get("popularity") is not None
                else "popularity ?",
                f"Podcast Index {pid}",
            ]
            if feed.get("categories"):
                facts.append(", ".join(feed["categories"]))
            st.caption(" · ".join(facts))
            st.caption(feed.get("url") or "")
        with right:
            channel = feed.get("channel")
            if channel is not None:
                st.markdown(f":green[In the catalog] (channel {channel})")
            key = f"directory-add:{pid}"
            # Once added, the button stays (disabled) while this session follows its job,
            # so the job's summary or error (a feed that failed to read) stays in view.
            if client.staff and (channel is None or started_job(key) is not None):
                job_button(
                    client,
                    "Add" if channel is None else "Added",
                    "directory.add",
                    {"podcastindex_id": pid},
                    key=key,
                    help="Add this feed to the sources file and the catalog, and read it",
                    disabled=channel is not None,
                )


def render(client: ApiClient) -> None:
    st.title("Directory")
    st.caption(
        "Search the Podcast Index directory (the imported dump) by title, author or "
        "description words."
        + ("" if client.staff else " Adding a show to the catalog is for staff.")
    )
    with st.form("directory-search"):
        q = st.text_input("Search", placeholder="e.g. history, a show's name, a host")
        col1, col2 = st.columns(2)
        language = col1.text_input("Language", placeholder="e.g. en or pt-BR")
        category = col2.text_input("Category", placeholder="e.g. Science")
        submitted = st.form_submit_button("Search", icon=":material/search:")
    if submitted:
        st.session_state["directory:query"] = (q.strip(), language, category)
        st.session_state["directory:cursors"] = {}
    query = st.session_state.get("directory:query")
    if not query or not query[0]:
        st.caption("Type some words and press Search.")
        return
    page = _search(client, *query)
    if page is None:
        return
    results = page.get("results") or []
    if not results:
        st.info("No feed in the directory matches those words.", icon=":material/search_off:")
        return
    for feed in results:
        _feed_row(client, feed)
    key = "\x00".join(query)
    cursors = st.session_state.setdefault("directory:cursors", {})
    prev_col, next_col = st.columns(2)
    if cursors.get(key) and prev_col.button("First page", key="directory:first"):
        cursors.pop(key, None)
        st.rerun()
    next_cursor = _cursor_of(page.get("next"))
    if next_cursor and next_col.button("Next page", key="directory:next"):
        cursors[key] = next_cursor
        st.rerun()
