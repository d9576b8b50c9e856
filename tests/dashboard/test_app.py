"""The app's frame: sign-in form, then the navigation a caller may use."""

from __future__ import annotations

from pathlib import Path

import pytest
from dashboard_stub import StubClient
from streamlit.testing.v1 import AppTest

import podsight.dashboard
from podsight.dashboard.client import ApiCallError
from podsight.dashboard.views import PAGES

APP = str(Path(podsight.dashboard.__file__).with_name("app.py"))


def test_signed_out_shows_the_sign_in_form():
    at = AppTest.from_file(APP, default_timeout=10).run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert at.button[0].label == "Sign in"


def test_a_wrong_password_shows_the_apis_message(monkeypatch):
    def refuse(self, username, password):
        raise ApiCallError(401, "invalid_credentials", "Wrong username or password.")

    monkeypatch.setattr("podsight.dashboard.client.ApiClient.sign_in", refuse)
    at = AppTest.from_file(APP, default_timeout=10).run()
    at.text_input[0].input("ann")
    at.text_input[1].input("nope")
    at.button[0].click().run()
    assert not at.exception
    assert "Wrong username or password." in at.error[0].value


def test_staff_pages_are_offered_to_staff_only():
    from podsight.dashboard.app import pages_for

    assert [p.slug for p in pages_for(StubClient(staff=True))] == [p.slug for p in PAGES]
    assert "match" not in [p.slug for p in pages_for(StubClient(staff=False))]


def test_signed_in_shows_who_and_the_first_page():
    at = AppTest.from_file(APP, default_timeout=10)
    client = StubClient(staff=False, username="ann")
    client.on("GET", r"/api/.*", {})
    at.session_state["podsight_client"] = client
    at.run()
    assert not at.exception
    assert at.sidebar.caption[0].value == "Signed in as **ann**"


def test_sign_out_revokes_the_token():
    at = AppTest.from_file(APP, default_timeout=10)
    client = StubClient()
    client.on("GET", r"/api/.*", {}).on("DELETE", "/api/auth/token", None)
    at.session_state["podsight_client"] = client
    at.run()
    at.sidebar.button[0].click().run()
    assert client.called("DELETE", "/api/auth/token")
    assert "podsight_client" not in at.session_state
    assert [t.label for t in at.text_input] == ["Username", "Password"]


def _page_or_signed_out(slug: str) -> None:
    import streamlit as st

    from podsight.dashboard.views import page

    client = st.session_state.get("podsight_client")
    if client is None:
        st.title("Signed out")
        st.write(st.session_state.get("podsight_signed_out", ""))
        return
    page(slug).module.render(client)


EXPIRED = ApiCallError(401, "token_expired", "This sign-in expired at 12:00; sign in again.")


@pytest.mark.parametrize("slug", [p.slug for p in PAGES])
def test_an_expired_sign_in_ends_the_session_on_every_page(slug):
    client = StubClient()
    for method in ("GET", "POST", "DELETE"):
        client.on(method, r"/.*", EXPIRED)
    at = AppTest.from_function(_page_or_signed_out, args=(slug,), default_timeout=10)
    at.session_state["podsight_client"] = client
    at.session_state["recs:listener"] = "someone"  # a page's state, to be forgotten
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if not client.calls:  # a page that asks nothing before input has nothing to expire
        return
    assert at.title[0].value == "Signed out"
    assert "expired" in at.markdown[0].value
    assert "recs:listener" not in at.session_state


def test_the_app_shows_the_sign_in_form_with_the_reason():
    at = AppTest.from_file(APP, default_timeout=10)
    client = StubClient()
    client.on("GET", r"/.*", EXPIRED)
    at.session_state["podsight_client"] = client
    at.run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert "expired" in at.info[0].value


def test_a_bug_in_a_page_is_a_message_not_a_traceback(monkeypatch):
    def broken(client):
        raise KeyError("ndcg@10")

    monkeypatch.setattr("podsight.dashboard.views.overview.render", broken)
    at = AppTest.from_file(APP, default_timeout=10)
    at.session_state["podsight_client"] = StubClient()
    at.run()
    assert not at.exception
    assert "The Overview page failed" in at.error[0].value
    assert "ndcg" not in at.error[0].value
