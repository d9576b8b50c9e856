"""The Streamlit script ``podsight dashboard`` serves: sign in, then the pages.

The API's address comes from ``PODSIGHT_DASHBOARD_API_URL`` (``podsight dashboard --api``
sets it for this process). The signed-in client lives in the browser session's state
under ``CLIENT_KEY``; tests put a stub there.
"""

from __future__ import annotations

import logging
import os

import streamlit as st

from podsight.dashboard.client import DEFAULT_API_URL, ApiCallError, ApiClient
from podsight.dashboard.ui import CLIENT_KEY, SIGNED_OUT_KEY, end_session, show_error
from podsight.dashboard.views import PAGES, Page

__all__ = ["CLIENT_KEY", "main", "pages_for"]

log = logging.getLogger(__name__)


def _sign_in(api_url: str) -> None:
    st.title("podsight")
    st.caption(f"Sign in to the podsight API at {api_url}")
    if st.session_state.get(SIGNED_OUT_KEY):
        st.info(st.session_state[SIGNED_OUT_KEY], icon=":material/logout:")
    with st.form("sign-in"):
        username = st.text_input("Username")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        client = ApiClient(api_url)
        try:
            client.sign_in(username, password)
        except ApiCallError as exc:
            if exc.status == 401:  # wrong password: not a session to end
                st.error(exc.message, icon=":material/error:")
            else:
                show_error(exc)
            return
        st.session_state.pop(SIGNED_OUT_KEY, None)
        st.session_state[CLIENT_KEY] = client
        st.rerun()


def _signing_in(api_url: str, page: Page):
    def run() -> None:
        _sign_in(api_url)

    run.__name__ = f"sign_in_{page.slug}"
    return run


def _runner(page: Page, client: ApiClient):
    def run() -> None:
        try:
            page.module.render(client)
        except ApiCallError as exc:
            show_error(exc)  # a 401 ends the session there
        except Exception:  # a bug: said on the page, the traceback only in the console
            log.exception("the %s page failed", page.slug)
            st.error(
                f"The {page.title} page failed; the dashboard's console has the details. "
                "Reload to try again.",
                icon=":material/error:",
            )
        if client.expired:  # shown another way by the page: end the session all the same
            end_session(client.expired)

    run.__name__ = f"page_{page.slug}"
    return run


def pages_for(client: ApiClient) -> list[Page]:
    """The pages offered to the caller: staff pages to staff only."""
    return [p for p in PAGES if client.staff or not p.staff]


def main() -> None:
    # An emoji favicon is drawn in the page; a :material/…: one is fetched from Google.
    st.set_page_config(page_title="podsight", page_icon="🎙️", layout="wide")
    api_url = os.environ.get("PODSIGHT_DASHBOARD_API_URL") or DEFAULT_API_URL
    client: ApiClient | None = st.session_state.get(CLIENT_KEY)
    if client is not None and client.expired:
        end_session(client.expired)
    if client is None:
        # Every page's address answers with the sign-in form, so that a kept link
        # (/content?episode=…&t=…) opens its page, query and all, once signed in.
        forms = [
            st.Page(_signing_in(api_url, p), title=p.title, url_path=p.slug, default=(i == 0))
            for i, p in enumerate(PAGES)
        ]
        st.navigation(forms, position="hidden").run()
        return
    with st.sidebar:
        who = client.username or "client token"
        st.caption(f"Signed in as **{who}**{' (staff)' if client.staff else ''}")
        if st.button("Sign out", icon=":material/logout:", key="sign-out"):
            try:
                client.sign_out()
            except ApiCallError as exc:
                if exc.status != 0:  # an absent server cannot keep the session alive
                    show_error(exc)
            end_session("Signed out.")
    pages = [
        st.Page(_runner(p, client), title=p.title, icon=p.icon, url_path=p.slug,
                default=(i == 0))
        for i, p in enumerate(pages_for(client))
    ]  # fmt: skip
    st.navigation(pages).run()


if __name__ == "__main__":  # how Streamlit runs a script; importing it runs nothing
    main()
