"""The app's frame: sign-in form, then the navigation a caller may use."""

from __future__ import annotations

from pathlib import Path

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
