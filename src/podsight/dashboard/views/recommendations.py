"""Recommendations: a listener's history beside their list (with each item's sources and
reason), a cold-start "try it", and the model versions with their offline and online
metrics; staff pick any listener and promote, roll back or train.

Endpoints: ``GET /api/recs/users`` (staff), ``GET /api/users/{id}/history``,
``GET /api/users/{id}/recommendations``, ``GET /api/episodes?q=``, ``POST /api/recs/try``,
``GET /api/recs/models``, and the jobs ``recs.promote``, ``recs.rollback`` and
``recs.train`` (staff; ``POST /api/jobs``, docs/dashboard.md).

A listener may be named in the address (``?user=ID``): staff land on them; anyone else
sees the API's refusal for a user other than themselves.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from podsight.dashboard import jobs, ui
from podsight.dashboard.client import ApiCallError, ApiClient

__all__ = ["render"]

HISTORY_EVENTS = 300  # the latest events read for the history column
RECOMMENDED = 20
LISTENER_PAGE = 50
TRY_N = 10
TRY_MAX = 20  # POST /api/recs/try takes up to 20 episodes
# Offline metrics a person can choose to compare (names as the manifest stores them).
METRICS = {
    "ndcg@10": "NDCG@10",
    "p@10": "precision@10",
    "r@10": "recall@10",
    "coverage": "catalog coverage",
}
BASELINES = ("popular", "random")  # the evaluation's baselines (recs/blend.py BASELINES)
CHOSEN_KEY = "recs:try:chosen"  # episode id -> label, the try-it history being built


# --------------------------------------------------------------------------- reading


def _fetch(client: ApiClient, calls: dict[str, tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """GET each ``name: (path, params)`` at once (threads: the page waits for the slowest
    call, not their sum); each value is the answer or the :class:`ApiCallError` raised,
    shown where the page uses it. Only HTTP runs in the threads, no Streamlit call."""
    from concurrent.futures import ThreadPoolExecutor

    def get(path: str, params: dict[str, Any]) -> Any:
        try:
            return client.get(path, **params)
        except ApiCallError as exc:
            return exc

    if len(calls) <= 1:
        return {name: get(*call) for name, call in calls.items()}
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = {name: pool.submit(get, *call) for name, call in calls.items()}
        return {name: future.result() for name, future in futures.items()}


def _shown(answer: Any) -> Any:
    """The answer, or None after showing its error."""
    if isinstance(answer, ApiCallError):
        ui.show_error(answer)
        return None
    return answer


def _listener_calls(user: str) -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        "history": (f"/api/users/{user}/history", {"limit": HISTORY_EVENTS}),
        "recs": (f"/api/users/{user}/recommendations", {"n": RECOMMENDED}),
    }


# --------------------------------------------------------------------------- who


def _pick_listener(client: ApiClient, asked: str | None, page: Any) -> str | None:
    """Staff: a listener from the lake's list (``page``, the answer of the search typed
    in the box whose value is in the session state); others: themselves."""
    if not client.staff:
        me = client.username
        if asked and asked != me:
            return asked  # the API refuses it, and the page shows why
        if me is None:
            st.info("This token acts for no user: sign in as a listener to see a list.")
        else:
            st.caption(f"Your listening and what podsight recommends you, **{me}**.")
        return me
    left, right = st.columns([1, 2])
    query = left.text_input(
        "Find a listener", key="recs:listener-q", placeholder="part of the id"
    ).strip()
    page = _shown(page)
    if page is None:
        return None
    listeners = page.get("results", [])
    ids = [row["user_id"] for row in listeners]
    labels = {
        row["user_id"]: f"{row['user_id']} · {row['plays']:,} plays, {row['episodes']:,} episodes"
        for row in listeners
    }
    if asked and asked not in labels:
        ids.insert(0, asked)
        labels[asked] = asked
    if not ids:
        if query:
            right.info(f"No listener id contains “{query}”.")
        else:
            right.info(
                "No listening in the lake yet: send events and run `podsight events "
                "consume` (or `podsight demo load`)."
            )
        return None
    more = " (the most active first; search for others)" if page.get("next_cursor") else ""
    return right.selectbox(
        f"Listener{more}",
        ids,
        index=ids.index(asked) if asked in ids else 0,
        format_func=lambda user: labels.get(user, user),
        key="recs:listener",
    )


# --------------------------------------------------------------------------- history / recs


def _history_table(events: list[dict[str, Any]]) -> pd.DataFrame:
    """The latest events as one row per episode: when last, what they did."""
    rows: dict[Any, dict[str, Any]] = {}
    for event in events:  # newest first
        episode = event.get("episode_id")
        if episode is None:
            continue
        row = rows.get(episode)
        if row is None:
            row = rows[episode] = {
                "episode": episode,
                "title": event.get("episode_title") or f"episode {episode}",
                "last event (UTC)": pd.Timestamp(event["occurred_at"]),
                "plays": 0,
                "events": 0,
                "did": [],
            }
        row["events"] += 1
        row["plays"] += event.get("type") == "play"
        kind = event.get("type")
        if kind in ("like", "unlike", "skip", "rate", "download") and kind not in row["did"]:
            row["did"].append(kind)
    table = pd.DataFrame(list(rows.values()))
    if not table.empty:
        table["did"] = table["did"].map(lambda kinds: ", ".join(kinds))
    return table


def _recommendation_table(results: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "#": rank,
                "title": item.get("title") or f"episode {item['episode']}",
                "show": item.get("show_title", ""),
                "sources": ", ".join(item.get("sources", [])),
                "reason": item.get("reason", ""),
                "score": item.get("score"),
            }
            for rank, item in enumerate(results, 1)
        ]
    )


def _listener_section(user: str, answers: dict[str, Any]) -> None:
    recs, history = answers["recs"], answers["history"]
    if isinstance(recs, ApiCallError) and recs.status == 403:
        ui.show_error(recs)  # their history is refused alike: one message is enough
        return
    # One above the other: side by side, half a page cut both tables off on the right.
    history_col, recs_col = st.container(), st.container()
    with recs_col:
        st.subheader("Recommended", anchor=False)
        recs = _shown(recs)
        if recs is not None:
            st.caption(
                f"Model {recs['model_version']} · "
                f"{'precomputed' if recs.get('cached') else 'computed now'} at "
                f"{str(recs.get('computed_at', ''))[:19].replace('T', ' ')} UTC"
            )
            if recs.get("results"):
                st.dataframe(
                    _recommendation_table(recs["results"]),
                    hide_index=True,
                    width="stretch",
                    column_config={"score": st.column_config.NumberColumn(format="%.3f")},
                )
            else:
                st.info("Nothing to recommend: every episode was heard or filtered out.")
    with history_col:
        st.subheader("History", anchor=False)
        history = _shown(history)
        if history is None:
            return
        table = _history_table(history.get("events", []))
        if table.empty:
            st.info(f"{user} has no listening history yet.")
            return
        more = " (latest events)" if history.get("next_before") else ""
        st.caption(f"{len(table):,} episodes{more}, most recent first")
        st.dataframe(
            table.drop(columns=["episode"]),
            hide_index=True,
            width="stretch",
            column_config={
                "last event (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")
            },
        )


# --------------------------------------------------------------------------- try it


def _try_section(client: ApiClient) -> None:
    st.subheader("Try it: a new listener", anchor=False)
    st.caption(
        "Pick a few episodes a new listener finished and see what the serving model would "
        "recommend them (nothing is saved)."
    )
    chosen: dict[int, str] = st.session_state.setdefault(CHOSEN_KEY, {})
    query = st.text_input(
        "Search the catalog", key="recs:try-q", placeholder="a word of an episode's title"
    ).strip()
    if query:
        found = ui.call(client.get, "/api/episodes", q=query, page_size=20)
        options = {
            e["id"]: f"{e['title']} — {e.get('channel_title', '')}"
            for e in (found or {}).get("results", [])
        }
        if found is not None and not options:
            st.caption(f"No episode matches “{query}”.")
        for episode, label in options.items():
            if st.checkbox(
                label,
                value=episode in chosen,
                key=f"recs:try-pick:{episode}",
                disabled=episode not in chosen and len(chosen) >= TRY_MAX,
            ):
                chosen[episode] = label
            else:
                chosen.pop(episode, None)
    if chosen:
        st.markdown("**Their history:** " + "; ".join(chosen.values()))
        if st.button("Clear", key="recs:try-clear"):
            chosen.clear()
            for key in [k for k in st.session_state if str(k).startswith("recs:try-pick:")]:
                del st.session_state[key]
            st.rerun()
    else:
        st.caption("No episode chosen: the answer is the cold start (popular in any language).")
    if st.button("Recommend", key="recs:try-go", type="primary"):
        answer = ui.call(client.post, "/api/recs/try", json={"episodes": list(chosen), "n": TRY_N})
        if answer is not None:
            if answer.get("not_in_model"):
                st.warning(
                    "Left out (not in model "
                    f"{answer['model_version']}: published after it was trained): "
                    + ", ".join(str(e) for e in answer["not_in_model"])
                )
            st.caption(f"Model {answer['model_version']}")
            if answer.get("results"):
                st.dataframe(
                    _recommendation_table(answer["results"]),
                    hide_index=True,
                    width="stretch",
                    column_config={"score": st.column_config.NumberColumn(format="%.3f")},
                )
            else:
                st.info("The model has nothing to recommend for that history.")


# --------------------------------------------------------------------------- models


def _offline_frame(models: list[dict[str, Any]], metric: str) -> pd.DataFrame:
    rows = []
    for model in models:
        for name, figures in (model.get("metrics") or {}).items():
            value = (figures or {}).get(metric) if isinstance(figures, dict) else None
            if value is None or name == "hybrid_ranking":
                continue
            kind = "baseline" if name in BASELINES else "blend" if name == "hybrid" else "model"
            label = {"hybrid": "hybrid (served)"}.get(name, name)
            rows.append({"version": model["version"], "model": label, "kind": kind,
                         "value": float(value)})  # fmt: skip
    return pd.DataFrame(rows)


def _offline_chart(frame: pd.DataFrame, title: str) -> None:
    import altair as alt

    if frame.empty:
        st.caption("No offline metrics recorded (too little data held out).")
        return
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("model:N", title="source (each alone) and the blend", sort="-y"),
            y=alt.Y("value:Q", title=f"{title} on the validation split (0–1)"),
            color=alt.Color("kind:N", title="kind",
                            scale=alt.Scale(domain=["blend", "model", "baseline"])),
            column=alt.Column("version:N", title="model version"),
            tooltip=["version", "model", "kind", alt.Tooltip("value:Q", format=".4f")],
        )
        .properties(height=220, width=alt.Step(22))
    )  # fmt: skip
    st.altair_chart(chart)


def _online_frame(models: list[dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for model in models:
        online = model.get("online") or {}
        if online.get("rate") is None:
            continue
        rows.append({
            "version": model["version"],
            "status": model["status"],
            "play-through (%)": round(100 * float(online["rate"]), 2),
            "shown": online.get("shown", 0),
            "played": online.get("played", 0),
        })  # fmt: skip
    return pd.DataFrame(rows)


def _rate(rate: float | None) -> str:
    return "—" if rate is None else f"{float(rate):.1%}"


def _models_section(client: ApiClient, answer: Any) -> None:
    st.subheader("Model versions", anchor=False)
    answer = _shown(answer)
    if answer is None:
        return
    models = answer.get("results", [])
    if not models:
        st.info("No model trained yet: run `podsight recs train` (or train one below).")
    else:
        table = pd.DataFrame([
            {
                "version": m["version"],
                "status": m["status"] + (f" ({m['share']:.0%})" if m.get("share") else ""),
                "trained (UTC)": pd.Timestamp(m["created_at"]),
                "NDCG@10": ((m.get("metrics") or {}).get("hybrid") or {}).get("ndcg@10"),
                # No rate until a version has served a day: a dash, not "None".
                "play-through": _rate((m.get("online") or {}).get("rate")),
                "impressions": (m.get("online") or {}).get("impressions", 0),
                "listeners": (m.get("data") or {}).get("users"),
                "note": m.get("note", ""),
            }
            for m in models
        ])  # fmt: skip
        st.dataframe(
            table,
            hide_index=True,
            width="stretch",
            column_config={
                "trained (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                "NDCG@10": st.column_config.NumberColumn(format="%.4f"),
            },
        )
        offline, online = st.columns([3, 2])
        with offline:
            metric = st.selectbox(
                "Offline metric", list(METRICS), format_func=METRICS.get, key="recs:metric"
            )
            st.caption(
                "Each version's validation split: the blend as served beside each of its "
                "sources alone and the baselines (`popular`, `random`) to beat."
            )
            _offline_chart(_offline_frame(models[:4], metric), METRICS[metric])
        with online:
            st.markdown("**Online: A/B play-through**")
            st.caption(
                "Share of (listener, episode) pairs shown in the last 7 days that were "
                "played within 24 h."
            )
            frame = _online_frame(models)
            if frame.empty:
                st.info(
                    "No play-through yet: a version's rate appears once lists it served "
                    "are 24 h old (impressions of the last 7 days)."
                )
            else:
                ui.bar_chart(
                    frame,
                    "version",
                    "play-through (%)",
                    x_title="model version",
                    y_title="played within 24 h of being shown (%)",
                    color="status",
                )
    if client.staff:
        _actions(client, models, answer.get("promote_tolerance"))


def _actions(client: ApiClient, models: list[dict[str, Any]], tolerance: float | None) -> None:
    """Promote, roll back and train as jobs: each recomputes every listener's list (seconds
    on the demo, minutes for thousands), so they run on the server with their progress."""
    st.markdown("**Change what serves**")
    promote_col, rollback_col, train_col = st.columns(3)
    with promote_col:
        others = [m["version"] for m in models if m["status"] != "serving"]
        version = st.selectbox("Version", others, key="recs:promote-version",
                               disabled=not others)  # fmt: skip
        force = st.checkbox(
            "Force past the gate",
            key="recs:force",
            help=f"The gate refuses a version whose NDCG@10 is more than {tolerance} below "
            "the serving one's.",
        )
        jobs.job_button(
            client,
            "Promote",
            "recs.promote",
            {"version": version, "force": force},
            key="recs-promote",
            disabled=not version,
            help="Serve this version and recompute every listener's list with it.",
        )
    with rollback_col:
        st.caption("Bring back the version that served before.")
        jobs.job_button(
            client,
            "Roll back",
            "recs.rollback",
            {},
            key="recs-rollback",
            disabled=not any(m["status"] == "serving" for m in models),
        )
    with train_col:
        st.caption("Fit a new version on the lake's listening (promoted if it passes the gate).")
        jobs.job_button(client, "Train a new model", "recs.train", {}, key="recs-train")


def render(client: ApiClient) -> None:
    st.title("Recommendations")
    asked = st.query_params.get("user")
    # Every read this run needs, at once where the listener is known before the list
    # (a listener themselves; staff after picking one): ≤ 1 s on the demo data.
    calls: dict[str, tuple[str, dict[str, Any]]] = {"models": ("/api/recs/models", {})}
    if client.staff:
        query = str(st.session_state.get("recs:listener-q") or "").strip()
        calls["users"] = ("/api/recs/users", {"q": query or None, "page_size": LISTENER_PAGE})
        known = st.session_state.get("recs:listener") or asked
    else:
        known = asked or client.username
    if known:
        calls.update(_listener_calls(known))
    answers = _fetch(client, calls)
    user = _pick_listener(client, asked, answers.get("users"))
    if user:
        if user != known:
            answers.update(_fetch(client, _listener_calls(user)))
        _listener_section(user, answers)
    st.divider()
    _try_section(client)
    st.divider()
    _models_section(client, answers["models"])
