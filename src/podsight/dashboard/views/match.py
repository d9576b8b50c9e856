"""Match review (staff): the links the matcher was unsure of, decided by a person.

- the ``needs_review`` queue (``GET /api/links?status=needs_review``), filtered by entity
  and source, paged;
- the selected link's records side by side, field by field, with the score's reasons
  (``GET /api/links/{entity}/{record_id}``);
- confirm, reject or force with a reason (``POST /api/links/{entity}/{record_id}/confirm``,
  ``…/reject``, ``POST /api/links/force``); the queue is read again after each;
- the link's history: moves and people's decisions (``…/history``);
- "Re-run matching" as a job (step ``match``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from podsight.dashboard.client import ApiCallError, ApiClient
from podsight.dashboard.fetch import get_all
from podsight.dashboard.jobs import job_button
from podsight.dashboard.ui import bar_chart, call, show_error

__all__ = ["PAGE_SIZE", "actor_label", "render"]

PAGE_SIZE = 50
QUEUE_ROWS_SHOWN = 8  # rows of the queue table before it scrolls
ENTITIES = {"Channels and episodes": None, "Channels": "channel", "Episodes": "episode"}
SOURCES = ("any", "rss", "podcastindex", "apple", "spotify", "youtube")
_FLASH = "match:flash"
_CURSOR = "match:cursor"
_SESSION_PREFIX = "token:session:"


def actor_label(actor: str) -> str:
    """Who did it, for people: a dashboard sign-in's token is named after its user."""
    if actor.startswith(_SESSION_PREFIX):
        return f"{actor[len(_SESSION_PREFIX) :].split(':', 1)[0]} (signed in)"
    if actor.startswith("token:"):
        return f"API token {actor[len('token:') :]}"
    return actor


def _record_label(record: dict[str, Any]) -> str:
    title = record.get("title") or record.get("external_id") or ""
    return f"{record.get('source')}: {title}"


def _item_label(item: dict[str, Any]) -> str:
    partners = item.get("partners") or []
    other = f" ↔ {_record_label(partners[0])}" if partners else ""
    more = f" (+{len(partners) - 1})" if len(partners) > 1 else ""
    confidence = item.get("confidence")
    score = f" · {confidence:.2f}" if confidence is not None else ""
    head = f"{item['entity']} {item['record']['id']} · {_record_label(item['record'])}"
    return f"{head}{other}{more}{score}"


def _queue(client: ApiClient, entity: str | None, source: str | None) -> dict[str, Any] | None:
    return call(
        client.get,
        "/api/links",
        status="needs_review",
        entity=entity,
        source=source,
        page_size=PAGE_SIZE,
        cursor=st.session_state.get(_CURSOR),
    )


def _partners_label(partners: list[dict[str, Any]]) -> str:
    if not partners:
        return "—"
    more = f" (+{len(partners) - 1} more)" if len(partners) > 1 else ""
    return _record_label(partners[0]) + more


def _when(value: str | None) -> str:
    return value[:16].replace("T", " ") if value else "—"  # ISO 8601, UTC: to the minute


def _queue_table(items: list[dict[str, Any]]) -> None:
    rows = [
        {
            "link": item["id"],
            "record": _record_label(item["record"]),
            "matched with": _partners_label(item.get("partners") or []),
            "confidence": item.get("confidence"),
            "linked at (UTC)": _when(item.get("linked_at")),
        }
        for item in items
    ]
    # A long queue scrolls in a fixed height, so the link under review stays near the top.
    height = 300 if len(rows) > QUEUE_ROWS_SHOWN else "content"
    st.table(pd.DataFrame(rows), hide_index=True, border="horizontal", height=height)


def _same(values: list[Any]) -> str:
    present = [str(v).strip().casefold() for v in values if v not in (None, "")]
    if len(present) < 2:
        return ""
    return "same" if len(set(present)) == 1 else "differs"


def _side_by_side(detail: dict[str, Any]) -> None:
    records = [detail["record"], *detail.get("partners", [])]
    names = []
    for index, record in enumerate(records):
        role = "under review" if index == 0 else "matched with"
        names.append(f"{record['source']} #{record['record_id']} ({role})")
    fields: list[str] = list(detail.get("fields") or [])  # the API's order
    for record in records:
        fields += [f for f in record.get("fields", {}) if f not in fields]
    rows = []
    for label, get in (
        ("external id", lambda r: r.get("external_id")),
        ("url", lambda r: r.get("url")),
        ("link method", lambda r: r.get("method") or "own row"),
        ("link status", lambda r: r.get("status") or "—"),
        ("link confidence", lambda r: r.get("confidence")),
    ):
        values = [get(r) for r in records]
        rows.append({"field": label, "compare": "",
                     **dict(zip(names, map(_wrapped, values), strict=True))})  # fmt: skip
    for field in fields:
        values = [r.get("fields", {}).get(field) for r in records]
        rows.append(
            {
                "field": field.replace("_", " "),
                "compare": _same(values),
                **dict(zip(names, map(_wrapped, values), strict=True)),
            }
        )
    st.table(pd.DataFrame(rows), hide_index=True, border="horizontal")


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


_BREAK = "\u200b"  # zero-width space: lets the browser wrap a long token there
_LONG = 24


def _wrapped(value: Any) -> str:
    """A cell that wraps: long unbroken values (addresses, ids) ran the table past the
    page's right edge. Addresses stay links to the full address (st.table renders Markdown)."""
    text = _cell(value)
    if not any(len(word) > _LONG for word in text.split()):
        return text
    if text.startswith(("http://", "https://")) and " " not in text:
        shown = text.replace("/", "/" + _BREAK).replace("-", "-" + _BREAK)
        return f"[{shown}]({text})"
    return " ".join(
        _BREAK.join(w[i : i + _LONG] for i in range(0, len(w), _LONG)) if len(w) > _LONG else w
        for w in text.split(" ")
    )


def _reasons(detail: dict[str, Any]) -> None:
    reasons = detail.get("reasons") or []
    if not reasons:
        st.caption("The matcher left no explanation for this link.")
        return
    scored = [r for r in reasons if r.get("bits") is not None and not r.get("total")]
    text, chart = st.columns([3, 2]) if scored else (st.container(), None)
    with text:
        for reason in reasons:
            bits = reason.get("bits")
            if reason.get("total"):
                st.markdown(f"**Score: {reason['text']}**")
            elif bits is not None:
                colour = "green" if bits > 0 else "red" if bits < 0 else "gray"
                st.markdown(f"- {reason['text']}: :{colour}[{bits:+.1f} bits]")
            else:
                st.markdown(f"- {reason['text']}")
    if chart is not None:
        with chart:
            data = pd.DataFrame({"feature": [r["text"] for r in scored],
                                 "bits": [r["bits"] for r in scored]})  # fmt: skip
            bar_chart(data, "feature", "bits", x_title="Feature compared",
                      y_title="Evidence (bits: log2 of the odds)", height=200)  # fmt: skip


def _act(client: ApiClient, path: str, body: dict[str, Any], done: str) -> None:
    """A button's callback: it runs before the page does, so the page that follows reads
    the queue once, already without the decided link."""
    try:
        client.post(path, json=body)
    except ApiCallError as exc:
        st.session_state[_FLASH] = exc
    else:
        st.session_state[_FLASH] = done


def _reason(detail: dict[str, Any]) -> str:
    return (st.session_state.get(f"match:reason:{detail['id']}") or "").strip()


def _confirm(client: ApiClient, detail: dict[str, Any]) -> None:
    base = f"/api/links/{detail['entity']}/{detail['record']['record_id']}"
    _act(client, f"{base}/confirm", {"reason": _reason(detail)}, f"Confirmed {detail['id']}.")


def _reject(client: ApiClient, detail: dict[str, Any], others: list[int | None]) -> None:
    reason = _reason(detail)
    if not reason:
        st.session_state[_FLASH] = Warning("Say why in Reason before rejecting.")
        return
    body: dict[str, Any] = {"reason": reason}
    choice = st.session_state.get(f"match:against:{detail['id']}") or 0
    if others[choice] is not None:
        body["other"] = others[choice]
    base = f"/api/links/{detail['entity']}/{detail['record']['record_id']}"
    _act(client, f"{base}/reject", body, f"Rejected {detail['id']}.")


def _force(client: ApiClient, detail: dict[str, Any]) -> None:
    reason = _reason(detail)
    other = (st.session_state.get(f"match:other:{detail['id']}") or "").strip()
    if not other or not reason:
        st.session_state[_FLASH] = Warning(
            "Name the other record and say why in Reason before forcing."
        )
        return
    body = {
        "entity": detail["entity"],
        "record": detail["record"]["record_id"],
        "other": int(other) if other.isdigit() else other,
        "reason": reason,
    }
    _act(client, "/api/links/force", body, f"Forced {detail['id']} with {other}.")


def _actions(client: ApiClient, detail: dict[str, Any]) -> None:
    partners = detail.get("partners") or []
    st.text_input(
        "Reason",
        key=f"match:reason:{detail['id']}",
        placeholder="Why (kept with the decision; needed to reject or force)",
    )
    confirm_col, reject_col = st.columns(2)
    with confirm_col:
        st.button("Confirm link", key="match:confirm", type="primary", icon=":material/check:",
                  on_click=_confirm, args=(client, detail))  # fmt: skip
    with reject_col:
        labels = ["every record it was matched with"] + [
            f"{p['source']} #{p['record_id']}" for p in partners
        ]
        others: list[int | None] = [None] + [p["record_id"] for p in partners]
        st.selectbox("Reject against", range(len(labels)), format_func=labels.__getitem__,
                     key=f"match:against:{detail['id']}")  # fmt: skip
        st.button("Reject link", key="match:reject", icon=":material/close:",
                  on_click=_reject, args=(client, detail, others))  # fmt: skip
    with st.expander("Force this record together with another one"):
        st.text_input(
            "Other record",
            key=f"match:other:{detail['id']}",
            placeholder="record id, or source:external_id (e.g. spotify:4rOoJ6Egrf8K2IrywzwOMk)",
        )
        st.button("Force link", key="match:force", icon=":material/link:",
                  on_click=_force, args=(client, detail))  # fmt: skip


def _history(history: dict[str, Any] | ApiCallError) -> None:
    if isinstance(history, ApiCallError):
        show_error(history)
        return
    decisions = history.get("overrides") or []
    if decisions:
        st.markdown("**People's decisions**")
        st.table(
            pd.DataFrame(
                [
                    {
                        "at (UTC)": _when(d["at"]),
                        "who": actor_label(d["actor"]),
                        "decision": d["action"],
                        "record": d["record_id"],
                        "other record": d.get("other_record_id"),
                        "reason": d.get("reason") or "",
                    }
                    for d in decisions
                ]
            ),
            hide_index=True,
            border="horizontal",
        )
    events = history.get("events") or []
    if not events:
        st.caption("No link event yet: the record is in its own row.")
        return
    st.markdown("**Link events**")
    st.table(
        pd.DataFrame(
            [
                {
                    "at (UTC)": _when(e["at"]),
                    "who": actor_label(e["actor"]),
                    "from": e.get("from_canonical"),
                    "to": e.get("to_canonical"),
                    "method": e.get("method"),
                    "status": e.get("status"),
                    "confidence": e.get("confidence"),
                    "explanation": e.get("explanation"),
                }
                for e in events
            ]
        ),
        hide_index=True,
        border="horizontal",
    )


def _detail(client: ApiClient, item: dict[str, Any]) -> None:
    path = f"/api/links/{item['entity']}/{item['record']['id']}"
    # Both at once: the page waits for the slower one, not for the two in turn.
    answers = get_all(client, {"detail": (path, {}), "history": (f"{path}/history", {})})
    detail = answers["detail"]
    if isinstance(detail, ApiCallError):
        show_error(detail)
        return
    confidence = detail.get("confidence")
    st.subheader(f"{detail['entity'].capitalize()} record {detail['record']['record_id']}")
    st.caption(
        f"In {detail['entity']} {detail.get('canonical_id')} · method {detail.get('method')} · "
        f"status {detail.get('status') or '—'} · confidence "
        + (f"{confidence:.4f}" if confidence is not None else "—")
    )
    st.markdown("**Why the matcher linked them**")
    _reasons(detail)
    st.markdown("**The records, field by field**")
    _side_by_side(detail)
    _actions(client, detail)
    st.markdown("#### History")
    _history(answers["history"])


def render(client: ApiClient) -> None:
    st.title("Match review")
    if not client.staff:
        st.warning("Match review is for staff.", icon=":material/lock:")
        return
    st.caption(
        "Links the matcher made but was unsure of: episode pairs below p 0.99, channel links "
        "below 0.6 confidence or with a close second candidate, and links made by schedule. "
        "Decisions are kept and every later run obeys them."
    )
    flash = st.session_state.pop(_FLASH, None)
    if isinstance(flash, ApiCallError):
        show_error(flash)
    elif isinstance(flash, Warning):
        st.warning(str(flash), icon=":material/edit:")
    elif flash:
        st.success(flash, icon=":material/done:")
    filters = st.columns([2, 2, 3])
    entity_label = filters[0].selectbox("Entity", list(ENTITIES), key="match:entity")
    source = filters[1].selectbox("Source of the record", SOURCES, key="match:source")
    with filters[2]:
        full = st.checkbox("Full run (score every pair again)", key="match:full")
        job_button(
            client,
            "Re-run matching",
            "match",
            {"full": full},
            key="match-run",
            help="Runs `podsight match` on the server; the queue is read again when it ends.",
        )
    filter_key = (entity_label, source)
    if st.session_state.get("match:filters") != filter_key:
        st.session_state["match:filters"] = filter_key
        st.session_state.pop(_CURSOR, None)
    page = _queue(client, ENTITIES[entity_label], None if source == "any" else source)
    if page is None:
        return
    items = page.get("results") or []
    if not items:
        if st.session_state.get(_CURSOR):
            st.info("No more links on this page.")
            if st.button("Back to the first page", key="match:first"):
                st.session_state.pop(_CURSOR, None)
                st.rerun()
        else:
            st.success("No link needs review.", icon=":material/task_alt:")
        return
    more = " (more on the next page)" if page.get("next_cursor") else ""
    st.markdown(f"**{len(items)} link{'s' if len(items) != 1 else ''} to review**{more}")
    _queue_table(items)
    pager = st.columns(2)
    if st.session_state.get(_CURSOR) and pager[0].button("First page", key="match:first"):
        st.session_state.pop(_CURSOR, None)
        st.rerun()
    if page.get("next_cursor") and pager[1].button("Next page", key="match:next"):
        st.session_state[_CURSOR] = page["next_cursor"]
        st.rerun()
    by_id = {item["id"]: item for item in items}
    chosen = st.selectbox(
        "Link to review", list(by_id), format_func=lambda i: _item_label(by_id[i]),
        key="match:selected",
    )  # fmt: skip
    _detail(client, by_id[chosen])
