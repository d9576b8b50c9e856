"""The Content page: search what is said in episodes, and an episode's own page.

Its state is in the URL, so every view of it is a link someone can keep or send:
``?q=…`` (with ``channel``, ``language``, ``published_after``, ``limit``) is a search,
``?episode=ID&t=SECONDS`` an episode opened at a moment: its transcript starts just
before that moment with the segment spoken then highlighted, and its audio plays from
there. A search result's passage button opens that URL in the same session (a plain
link would open a new browser session, signed out).

Endpoints: ``GET /api/search`` (and ``GET /api/channels`` for the show filter) on the
search; ``GET /api/episodes/{id}/analysis`` (title, audio, transcript state, keywords, topics,
chapters, sponsors), ``GET /api/episodes/{id}/transcript?at=`` and
``GET /api/episodes/{id}/similar`` on the episode page.
"""

from __future__ import annotations

import re
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from typing import Any

import streamlit as st

from podsight.dashboard import ui
from podsight.dashboard.client import ApiCallError, ApiClient
from podsight.dashboard.jobs import job_button

__all__ = ["clock", "render"]

SEARCH_PARAMS = ("q", "channel", "language", "published_after", "limit")
DEFAULT_LIMIT, MAX_LIMIT = 10, 50
SHOWS_LISTED = 200  # the show filter's choices, by title (a page of the API)
SHOWS_KEPT_S = 300
_SHOWS_KEY = "content:shows"
TRANSCRIPT_PAGE = 100  # segments per page of the transcript
LEAD_IN_S = 20  # the transcript opens this long before the moment, for context
SIMILAR_K = 8

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|$<>~:])")


def _md(text: str) -> str:
    """Text shown as itself in Markdown (a "$8" would otherwise start LaTeX)."""
    return _MARKDOWN.sub(r"\\\1", " ".join(str(text).split()))


def clock(seconds: float | None) -> str:
    """``m:ss`` or ``h:mm:ss``; empty for no time."""
    if seconds is None:
        return ""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _whole(value: Any) -> int | None:
    """A query parameter that should be a whole number, else None (a hand-edited URL)."""
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def _open(episode: int, at: float | None) -> None:
    """Go to the episode (at a moment), keeping the search in the URL for the way back."""
    st.query_params["episode"] = str(episode)
    if at is None:
        st.query_params.pop("t", None)
    else:
        st.query_params["t"] = str(int(at))


def _back() -> None:
    st.query_params.pop("episode", None)
    st.query_params.pop("t", None)


def render(client: ApiClient) -> None:
    episode = _whole(st.query_params.get("episode"))
    if episode is not None and episode > 0:
        _episode_page(client, episode, _whole(st.query_params.get("t")))
    else:
        _search_page(client)


# --- search --------------------------------------------------------------------------------


def _search(form: dict[str, Any]) -> None:
    for name in SEARCH_PARAMS:
        value = form.get(name)
        if value in (None, ""):
            st.query_params.pop(name, None)
        else:
            st.query_params[name] = str(value)


def _shows(client: ApiClient) -> dict[str, Any] | None:
    """The show filter's choices, read once a few minutes per browser session (not on
    every search): a show added meanwhile appears after that."""
    kept = st.session_state.get(_SHOWS_KEY)
    if kept is not None and time.monotonic() - kept[0] < SHOWS_KEPT_S:
        return kept[1]
    shows = ui.call(client.get, "/api/channels", ordering="title", page_size=SHOWS_LISTED)
    if shows is not None:
        st.session_state[_SHOWS_KEY] = (time.monotonic(), shows)
    return shows


def _search_page(client: ApiClient) -> None:
    st.title("Content")
    st.caption(
        "Search what is said in the episodes (transcripts, or the show notes of episodes "
        "without one). Each passage opens its episode at that moment."
    )
    params = st.query_params
    shows = _shows(client)
    titles = {c["id"]: c["title"] for c in (shows or {}).get("results", [])}
    channel = _whole(params.get("channel"))
    if channel is not None and channel not in titles:
        titles[channel] = f"show {channel}"
    after = params.get("published_after")
    try:
        after_day = date.fromisoformat(after[:10]) if after else None
    except ValueError:
        after_day = None
    limit = _whole(params.get("limit")) or DEFAULT_LIMIT
    with st.form("content-search"):
        query = st.text_input(
            "Search what is said",
            value=params.get("q", ""),
            placeholder="e.g. a team checked the answers by hand",
            key="content-q",
        )
        left, middle, right, last = st.columns([3, 1, 2, 1])
        options = [None, *titles]
        picked = left.selectbox(
            "Show",
            options,
            index=options.index(channel) if channel in options else 0,
            format_func=lambda c: "Every show" if c is None else titles[c],
            key="content-channel",
        )
        language = middle.text_input(
            "Language", value=params.get("language", ""), placeholder="en", key="content-lang"
        )
        day = right.date_input(
            "Published after", value=after_day, format="YYYY-MM-DD", key="content-after"
        )
        how_many = last.number_input(
            "Episodes", 1, MAX_LIMIT, value=min(max(limit, 1), MAX_LIMIT), key="content-limit"
        )
        submitted = st.form_submit_button("Search", type="primary", icon=":material/search:")
    if submitted:  # into the URL, and searched in this same run
        _search(
            {
                "q": query.strip(),
                "channel": picked,
                "language": language.strip(),
                "published_after": f"{day.isoformat()}T00:00:00Z" if day else None,
                "limit": None if how_many == DEFAULT_LIMIT else int(how_many),
            }
        )
        channel, after, limit = picked, params.get("published_after"), int(how_many)
    q = params.get("q", "").strip()
    if not q:
        st.info("Type what was said, in any words, and press **Search**.")
        return
    answer = ui.call(
        client.get,
        "/api/search",
        q=q,
        channel=channel,
        language=params.get("language") or None,
        published_after=after or None,
        limit=min(limit, MAX_LIMIT) if limit != DEFAULT_LIMIT else None,
    )
    if answer is None:
        return
    _results(answer)


def _results(answer: dict[str, Any]) -> None:
    results = answer.get("results") or []
    if answer.get("index") is None:
        st.info(
            "Nothing is searchable yet: run `podsight content transcripts`, then "
            "`podsight content analyze`, which cuts the transcripts (or show notes) into "
            "passages and indexes them."
        )
        return
    if not results:
        st.info(
            f"No episode matches {answer.get('query')!r} among "
            f"{answer.get('passages_indexed', 0):,} passages; try other words or fewer filters."
        )
        return
    st.caption(
        f"{len(results)} episodes for {answer.get('query')!r} ({answer.get('method')} search "
        f"over {answer.get('passages_indexed', 0):,} passages)"
    )
    for result in results:
        _result(result)


def _result(result: dict[str, Any]) -> None:
    episode = result["episode_id"]
    with st.container(border=True, key=f"content-result-{episode}"):
        head, action = st.columns([5, 1])
        when = (result.get("published_at") or "")[:10]
        facts = " · ".join(
            x for x in (_md(result.get("channel_title") or ""), when, result.get("language")) if x
        )
        head.markdown(f"**{_md(result.get('title') or f'Episode {episode}')}**  \n{facts}")
        action.button(
            "Episode page",
            key=f"content-open-{episode}",
            on_click=_open,
            args=(episode, None),
            icon=":material/article:",
        )
        for passage in result.get("passages") or []:
            _passage(episode, passage)


def _passage(episode: int, passage: dict[str, Any]) -> None:
    start = passage.get("start_s")
    button, words = st.columns([1, 5])
    button.button(
        f"Open at {clock(start)}" if start is not None else "Open (no time)",
        key=f"content-moment-{episode}-{passage['passage_no']}",
        on_click=_open,
        args=(episode, start),
        type="tertiary",
        icon=":material/play_circle:",
        help="The episode page, its transcript and audio at this moment",
    )
    notes = []
    if passage.get("kind") == "notes":
        notes.append("from the show notes")
    if passage.get("sponsor") is not None:
        notes.append(f"ad read{': ' + passage['sponsor'] if passage['sponsor'] else ''}")
    end = passage.get("end_s")
    span = f"{clock(start)}–{clock(end)}" if start is not None and end is not None else ""
    tail = " · ".join(x for x in (span, *notes, f"score {passage.get('score', 0):.3f}") if x)
    link = passage.get("link")
    audio = f" · [audio]({link})" if link else ""
    words.markdown(f"{_md(passage.get('text', ''))}  \n:gray[{_md(tail)}]{audio}")


# --- one episode ---------------------------------------------------------------------------


def _episode_page(client: ApiClient, episode_id: int, at: int | None) -> None:
    st.button("Back to search", on_click=_back, icon=":material/arrow_back:", key="content-back")
    detail = ui.call(client.get, f"/api/episodes/{episode_id}/analysis")
    if detail is None:
        return
    st.title(detail.get("title") or f"Episode {episode_id}")
    when = (detail.get("published_at") or "")[:10]
    length = clock(detail.get("duration_s"))
    st.caption(
        " · ".join(x for x in (detail.get("channel_title"), when, length and f"{length} long") if x)
    )
    analysis = detail.get("analysis")
    similar = None
    if analysis is not None:
        # Asked now, read after the transcript: the page waits for the slower, not the sum.
        pool = ThreadPoolExecutor(max_workers=1)
        similar = pool.submit(client.get, f"/api/episodes/{detail['id']}/similar", k=SIMILAR_K)
        pool.shutdown(wait=False)
    _audio(detail, at)
    left, right = st.columns([3, 2], gap="large")
    with left:
        _transcript(client, detail, at)
    with right:
        if analysis is None:
            st.info(
                "Not analysed yet: `podsight content analyze` finds its chapters, keywords, "
                "topics, sponsor segments and similar episodes."
            )
            if client.staff:
                job_button(
                    client,
                    "Analyse this episode",
                    "content.analyze",
                    {"episode_ids": [detail["id"]]},
                    key=f"content-analyze-{detail['id']}",
                )
            return
        _chapters(detail)
        _keywords_topics(detail)
        _sponsors(detail)
        _similar(similar)


def _audio(detail: dict[str, Any], at: int | None) -> None:
    url = detail.get("enclosure_url")
    if not url:
        st.caption("This episode lists no audio file.")
        return
    base = url.split("#", 1)[0]
    st.audio(base, format=detail.get("enclosure_type") or "audio/mpeg", start_time=at or 0)
    if at:
        st.markdown(
            f"Playing from **{clock(at)}** · [the audio file at {clock(at)}]({base}#t={at})"
        )


_WHY_NO_TRANSCRIPT = {
    "pending": "Its feed links a transcript that has not been fetched yet: run "
    "`podsight content transcripts`.",
    "none": "Its feed links no transcript: `podsight content transcripts --asr` transcribes "
    "episodes from their audio.",
    "no_speech_model": "No speech model for its language, so it was not transcribed.",
}


def _transcript(client: ApiClient, detail: dict[str, Any], at: int | None) -> None:
    st.subheader("Transcript")
    state = detail.get("transcript") or {}
    if not state.get("version"):
        status = state.get("status", "none")
        why = _WHY_NO_TRANSCRIPT.get(status) or f"The last attempt failed: {state.get('error')}"
        st.info(f"No transcript. {why}", icon=":material/subtitles_off:")
        return
    # Which page: the one at the moment, the start, or one followed through `next`.
    key = f"content-transcript:{detail['id']}:{at}"
    cursor = st.session_state.get(key)
    if cursor:
        page = ui.call(
            client.get,
            f"/api/episodes/{detail['id']}/transcript",
            cursor=cursor,
            page_size=TRANSCRIPT_PAGE,
        )
    else:
        start = None if cursor == "" or not at else max(at - LEAD_IN_S, 0)
        page = ui.call(
            client.get,
            f"/api/episodes/{detail['id']}/transcript",
            at=start,
            page_size=TRANSCRIPT_PAGE,
        )
    if page is None:
        return
    segments = page.get("results") or []
    offset = page.get("offset", 0)
    total = page.get("segments", len(segments))
    source = f"{state.get('source')}, {page.get('format')}" if state.get("source") else ""
    st.caption(
        f"Segments {offset + 1}–{offset + len(segments)} of {total}"
        + (f" ({source}, version {page.get('version')})" if source else "")
    )
    moment = _moment_index(segments, at)
    with st.container(height=520, key="content-transcript"):
        for i, segment in enumerate(segments):
            line = _segment_line(segment)
            if i == moment:
                with st.container(border=True, key="content-moment"):
                    st.markdown(f":orange-background[{line}]")
            else:
                st.markdown(line)
    earlier, later = st.columns(2)
    if offset > 0:
        earlier.button(
            "From the start",
            key="content-transcript-start",
            on_click=st.session_state.__setitem__,
            args=(key, ""),
            icon=":material/first_page:",
        )
    following = page.get("next")
    if following:
        token = re.search(r"[?&]cursor=([^&]+)", following)
        later.button(
            "Later",
            key="content-transcript-next",
            on_click=st.session_state.__setitem__,
            args=(key, _unquote(token.group(1)) if token else None),
            icon=":material/navigate_next:",
        )


def _unquote(value: str) -> str:
    from urllib.parse import unquote

    return unquote(value)


def _moment_index(segments: list[dict[str, Any]], at: int | None) -> int | None:
    """The segment spoken at ``at``: the last one starting before the end of that whole
    second (``t`` is whole seconds, rounded down from the passage's start)."""
    if at is None:
        return None
    found = None
    for i, segment in enumerate(segments):
        start = segment.get("start_s")
        if start is not None and start < at + 1:
            found = i
    return found


def _segment_line(segment: dict[str, Any]) -> str:
    start = segment.get("start_s")
    stamp = f"`{clock(start)}` " if start is not None else ""
    speaker = f"**{_md(segment['speaker'])}:** " if segment.get("speaker") else ""
    return f"{stamp}{speaker}{_md(segment.get('text', ''))}"


def _chapters(detail: dict[str, Any]) -> None:
    chapters = detail.get("chapters") or []
    source = {"feed": "from the feed", "auto": "found at topic shifts"}.get(
        detail.get("chapters_source") or "", ""
    )
    st.subheader("Chapters")
    if not chapters:
        st.caption("No chapters: the transcript is too short to divide, or has none.")
        return
    st.caption(f"{len(chapters)} chapters, {source}" if source else f"{len(chapters)} chapters")
    for i, chapter in enumerate(chapters):
        start = chapter.get("start_s")
        title = chapter.get("title") or f"Chapter {i + 1}"
        if start is None:
            st.markdown(f"- {_md(title)}")
            continue
        st.button(
            f"{clock(start)} {title}",
            key=f"content-chapter-{i}",
            on_click=_open,
            args=(detail["id"], start),
            type="tertiary",
            icon=":material/play_arrow:",
        )


def _keywords_topics(detail: dict[str, Any]) -> None:
    st.subheader("Keywords and topics")
    keywords = [k["keyword"] for k in detail.get("keywords") or []]
    topics = detail.get("topics") or []
    if keywords:
        st.markdown("**Keywords:** " + ", ".join(_md(k) for k in keywords))
    else:
        st.caption("No keywords (too little text).")
    if topics:
        st.markdown(
            "**Topics:** "
            + ", ".join(
                f"{_md(t['topic'])}{' (' + _md(t['parent']) + ')' if t.get('parent') else ''}"
                for t in topics
            )
        )
    else:
        st.caption("No topic fits it closely enough.")


def _sponsors(detail: dict[str, Any]) -> None:
    sponsors = detail.get("sponsors") or []
    st.subheader("Sponsor segments")
    if not sponsors:
        st.caption("No ad read found.")
        return
    rows = [
        {
            "from": clock(s.get("start_s")),
            "to": clock(s.get("end_s")),
            "sponsor": s.get("name") or "(not named)",
            "code": s.get("code", ""),
            "address": s.get("url", ""),
            "in other episodes": bool(s.get("repeated")),
            "read": s.get("text", ""),
        }
        for s in sponsors
    ]
    # Long addresses and reads were cut at the column's edge: links and wide columns.
    st.dataframe(
        rows,
        hide_index=True,
        column_config={
            "from": st.column_config.TextColumn(width="small"),
            "to": st.column_config.TextColumn(width="small"),
            "address": st.column_config.LinkColumn(width="medium"),
            "read": st.column_config.TextColumn(width="large"),
        },
    )


def _similar(similar: Future) -> None:
    st.subheader("Similar episodes")
    try:
        answer = similar.result()
    except ApiCallError as exc:
        ui.show_error(exc)
        return
    results = answer.get("results") or []
    if not answer.get("analyzed"):
        st.caption("Run `podsight content analyze` to find similar episodes.")
        return
    if not results:
        st.caption("No other analysed episode to compare with.")
        return
    for other in results:
        shared = [*other.get("shared_topics", []), *other.get("shared_keywords", [])]
        relation = other.get("relation") or ""
        # The title is the button's label: a narrow side column clipped "Open" to "O".
        st.button(
            other["title"],
            key=f"content-similar-{other['id']}",
            on_click=_open,
            args=(other["id"], None),
            icon=":material/arrow_forward:",
        )
        st.caption(
            f"{_md(other.get('channel_title', ''))} · "
            f"{other.get('score', 0):.2f} similar"
            f"{', ' + relation if relation else ''}"
            f"{'; shares ' + _md(', '.join(shared[:6])) if shared else ''}"
        )
