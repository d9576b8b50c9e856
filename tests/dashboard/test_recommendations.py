"""The Recommendations page against a StubClient answering as the API does
(``recs_answers``: real answers from the demo home)."""

from __future__ import annotations

import json
import re

import pytest
import recs_answers as A
from dashboard_stub import StubClient
from streamlit.testing.v1 import AppTest

from podsight.dashboard.client import ApiCallError

SLUG = "recommendations"
REFUSAL = ("A token reads the recommendations of the user it acts for; another user's needs "
           "the staff scope.")  # fmt: skip


def _answering(stub: StubClient, user: str = "sim42-00035") -> StubClient:
    stub.on("GET", "/api/recs/users", A.LISTENERS)
    stub.on("GET", f"/api/users/{re.escape(user)}/history", {**A.HISTORY, "user_id": user})
    stub.on("GET", f"/api/users/{re.escape(user)}/recommendations",
            {**A.RECOMMENDATIONS, "user_id": user})  # fmt: skip
    stub.on("GET", "/api/recs/models", A.MODELS)
    stub.on("GET", "/api/episodes", A.EPISODES)
    return stub


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [i.value for i in at.info] + [w.value for w in at.warning]
    parts += [e.value for e in at.error] + [s.value for s in at.success]
    return "\n".join(str(p) for p in parts)


def _frames(at: AppTest) -> list:
    return [d.value for d in at.dataframe]


def _frame_with(at: AppTest, column: str, value) -> object:
    """The table whose ``column`` holds ``value``."""
    found = [f for f in _frames(at) if column in f and value in list(f[column])]
    assert found, f"no table with {value!r} in {column!r}"
    return found[0]


def _charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def _chart_rows(at: AppTest, index: int) -> list[dict]:
    """The rows a chart draws (its dataset, sent beside the spec as Arrow)."""
    import pyarrow as pa

    (dataset,) = at.get("vega_lite_chart")[index].proto.datasets
    return pa.ipc.open_stream(dataset.data.data).read_all().to_pylist()


def _script(slug: str) -> None:
    import streamlit as st

    from podsight.dashboard.views import page

    page(slug).module.render(st.session_state["podsight_client"])


def _with_query(stub: StubClient, **query: str) -> AppTest:
    """The page opened at ``…/recommendations?user=…`` (run_page opens it bare)."""
    at = AppTest.from_function(_script, args=(SLUG,), default_timeout=10)
    at.session_state["podsight_client"] = stub
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_staff_pick_a_listener_and_see_their_history_beside_their_recommendations(run_page):
    stub = _answering(StubClient(staff=True))
    stub.on("GET", "/api/users/sim42-00040/history", {**A.HISTORY, "user_id": "sim42-00040"})
    stub.on("GET", "/api/users/sim42-00040/recommendations", A.RECOMMENDATIONS)
    at = run_page(SLUG, stub)
    assert stub.called("GET", "/api/recs/users") == [({"page_size": 50}, None)]
    picker = at.selectbox(key="recs:listener")
    assert picker.options[:2] == ["sim42-00035 · 423 plays, 51 episodes",
                                  "sim42-00040 · 104 plays, 40 episodes"]  # fmt: skip
    assert "search for others" in picker.label  # more listeners than one page
    # The most active listener first: their history (one row per episode) and list.
    assert stub.called("GET", "/api/users/sim42-00035/history") == [({"limit": 300}, None)]
    assert stub.called("GET", "/api/users/sim42-00035/recommendations") == [({"n": 20}, None)]
    history, recs = _frames(at)[:2]
    assert list(history["title"]) == ["Five myths about bootstrapping",
                                      "A beginner's guide to Premier League"]  # fmt: skip
    assert list(history["plays"]) == [1, 1] and list(history["did"]) == ["rate", "like"]
    assert list(recs["title"])[0] == "Women's football: what nobody tells you"
    assert list(recs["sources"])[0] == "itemknn, als, trending, popular, content"
    assert list(recs["reason"])[1] == "popular with listeners"
    assert f"Model {A.SERVING} · precomputed" in _texts(at)

    picker.set_value("sim42-00040").run()
    assert not at.exception
    assert stub.called("GET", "/api/users/sim42-00040/recommendations")


def test_staff_search_listeners_by_id(run_page):
    stub = _answering(StubClient(staff=True))
    at = run_page(SLUG, stub)
    stub.on("GET", "/api/recs/users", {"results": [], "next_cursor": None})
    at.text_input(key="recs:listener-q").input("nobody").run()
    assert stub.called("GET", "/api/recs/users")[-1] == ({"q": "nobody", "page_size": 50}, None)
    assert "No listener id contains “nobody”." in _texts(at)


def test_an_empty_lake_says_what_to_run(run_page):
    stub = _answering(StubClient(staff=True))
    stub.on("GET", "/api/recs/users", {"results": [], "next_cursor": None})
    stub.on("GET", "/api/recs/models", {"promote_tolerance": 0.01, "results": []})
    at = run_page(SLUG, stub)
    text = _texts(at)
    assert "podsight events consume" in text and "podsight recs train" in text
    assert not at.error


def test_a_listener_sees_their_own_and_no_picker(run_page):
    stub = _answering(StubClient(staff=False, username="sim42-00001"), user="sim42-00001")
    at = run_page(SLUG, stub)
    assert not stub.called("GET", "/api/recs/users")  # the staff list is not even asked
    assert not at.selectbox(key="recs:listener") if _has_key(at, "recs:listener") else True
    assert stub.called("GET", "/api/users/sim42-00001/recommendations")
    assert stub.called("GET", "/api/users/sim42-00001/history")
    assert "Your listening and what podsight recommends you, **sim42-00001**." in _texts(at)
    assert len(_frames(at)) >= 2
    # Non-staff get no promote, roll back or train.
    labels = [b.label for b in at.button]
    assert "Promote" not in labels and "Roll back" not in labels
    assert "Train a new model" not in labels


def _has_key(at: AppTest, key: str) -> bool:
    return any(getattr(w, "key", None) == key for w in at.selectbox)


def test_a_listener_asking_for_another_user_sees_the_apis_refusal():
    stub = _answering(StubClient(staff=False, username="sim42-00001"), user="sim42-00001")
    refused = ApiCallError(403, "permission_denied", REFUSAL)
    stub.on("GET", "/api/users/sim42-00002/recommendations", refused)
    stub.on("GET", "/api/users/sim42-00002/history", refused)
    at = _with_query(stub, user="sim42-00002")
    assert stub.called("GET", "/api/users/sim42-00002/recommendations")
    assert [w.value for w in at.warning] == [REFUSAL]  # shown once, as the API words it
    assert not _frames(at)[:1] or "title" not in _frames(at)[0] or len(_frames(at)) == 1


def test_staff_land_on_the_listener_named_in_the_address():
    stub = _answering(StubClient(staff=True), user="sim42-00011")
    at = _with_query(stub, user="sim42-00011")
    assert at.selectbox(key="recs:listener").value == "sim42-00011"
    assert stub.called("GET", "/api/users/sim42-00011/recommendations")


def test_try_it_posts_the_chosen_episodes_and_shows_the_answer(run_page):
    stub = _answering(StubClient(staff=False, username="sim42-00001"), user="sim42-00001")
    stub.on("POST", "/api/recs/try", A.TRIED)
    at = run_page(SLUG, stub)
    at.text_input(key="recs:try-q").input("football").run()
    assert stub.called("GET", "/api/episodes")[-1] == ({"q": "football", "page_size": 20}, None)
    at.checkbox(key="recs:try-pick:277").check().run()
    at.checkbox(key="recs:try-pick:279").check().run()
    assert "Women's football: what nobody tells you" in _texts(at)
    at.button(key="recs:try-go").click().run()
    assert not at.exception
    assert stub.called("POST", "/api/recs/try") == [({}, {"episodes": [277, 279], "n": 10})]
    answer = _frame_with(at, "title", "Ask us anything about Premier League")
    assert list(answer["title"]) == ["Ask us anything about Premier League",
                                     "Ask us anything about bootstrapping"]  # fmt: skip
    assert list(answer["reason"])[1] == A.TRIED["results"][1]["reason"]
    assert "content, fresh" in list(answer["sources"])[0]

    # Unchecking one takes it out of the next request.
    at.checkbox(key="recs:try-pick:279").uncheck().run()
    at.button(key="recs:try-go").click().run()
    assert stub.called("POST", "/api/recs/try")[-1] == ({}, {"episodes": [277], "n": 10})


def test_try_it_with_nothing_chosen_asks_for_the_cold_start_and_names_left_out_ones(run_page):
    stub = _answering(StubClient(staff=True))
    stub.on("POST", "/api/recs/try", {**A.TRIED, "history": [], "not_in_model": [9001]})
    at = run_page(SLUG, stub)
    at.button(key="recs:try-go").click().run()
    assert stub.called("POST", "/api/recs/try") == [({}, {"episodes": [], "n": 10})]
    assert any("9001" in w.value for w in at.warning)


def test_try_it_before_any_model_shows_the_apis_message(run_page):
    stub = _answering(StubClient(staff=True))
    stub.on(
        "POST",
        "/api/recs/try",
        ApiCallError(
            409, "no_model", "No recommendation model is serving yet: run `podsight recs train`."
        ),
    )
    at = run_page(SLUG, stub)
    at.button(key="recs:try-go").click().run()
    assert not at.exception
    assert any("podsight recs train" in e.value for e in at.error)


def test_model_versions_are_charted_offline_against_baselines_and_online(run_page):
    stub = _answering(StubClient(staff=True))
    at = run_page(SLUG, stub)
    versions = _frames(at)[2]
    assert list(versions["version"]) == [A.CANDIDATE, A.SERVING]
    assert list(versions["status"]) == ["rejected", "serving"]
    offline, online = _charts(at)
    # Axes say what they measure, in what unit; the popular baseline is among the bars.
    assert offline["encoding"]["y"]["title"] == "NDCG@10 on the validation split (0–1)"
    assert offline["encoding"]["column"]["title"] == "model version"
    assert online["encoding"]["y"]["title"] == "played within 24 h of being shown (%)"
    assert online["encoding"]["x"]["title"] == "model version"
    bars = _chart_rows(at, 0)
    assert {(r["version"], r["model"], r["kind"]) for r in bars} >= {
        (A.SERVING, "hybrid (served)", "blend"),
        (A.SERVING, "popular", "baseline"),
        (A.SERVING, "random", "baseline"),
        (A.CANDIDATE, "als", "model"),
    }
    assert [r["play-through (%)"] for r in _chart_rows(at, 1)] == [4.0]  # rate 0.04

    # A version too new for its 24 h window: said so, no empty chart.
    fresh = {**A.MODELS, "results": [{**A.MODELS["results"][1], "online": {
        "impressions": 3, "shown": 0, "played": 0, "rate": None}}]}  # fmt: skip
    stub.on("GET", "/api/recs/models", fresh)
    at.run()
    assert len(_charts(at)) == 1
    assert any("No play-through yet" in i.value for i in at.info)
    assert list(at.dataframe[-1].value["play-through"]) == ["—"]  # not "None"

    stub.on("GET", "/api/recs/models", A.MODELS)
    at.selectbox(key="recs:metric").set_value("r@10").run()
    assert _charts(at)[0]["encoding"]["y"]["title"] == "recall@10 on the validation split (0–1)"


def _job(step: str, params: dict, **fields) -> dict:
    return {**A.TRAIN_JOB, "step": step, "params": params, **fields}


def test_staff_promote_with_force_then_roll_back_start_their_jobs(run_page):
    stub = _answering(StubClient(staff=True))
    promote = {"version": A.CANDIDATE, "force": True}
    stub.on("POST", "/api/jobs", lambda params, body: _job(body["step"], body["params"]))
    stub.on("GET", "/api/jobs/11", _job("recs.promote", promote, status="running",
            progress={"label": "recommending", "item": "", "done": 10, "total": 45}))  # fmt: skip
    at = run_page(SLUG, stub)
    assert at.selectbox(key="recs:promote-version").options == [A.CANDIDATE]
    at.checkbox(key="recs:force").check().run()
    at.button(key="job-button:recs-promote").click().run()
    assert not at.exception
    assert stub.called("POST", "/api/jobs") == [({}, {"step": "recs.promote", "params": promote})]
    assert "recommending: 10 of 45" in [p.proto.text for p in at.get("progress")]

    at.button(key="job-button:recs-rollback").click().run()
    assert stub.called("POST", "/api/jobs")[-1] == ({}, {"step": "recs.rollback", "params": {}})


def test_a_promotion_the_gate_refuses_shows_why(run_page):
    stub = _answering(StubClient(staff=True))
    why = (f"model {A.CANDIDATE} was not promoted: validation NDCG@10 0.1500 is 0.0411 below "
           "the serving version's 0.1911")  # fmt: skip
    failed = _job("recs.promote", {"version": A.CANDIDATE, "force": False}, status="failed",
                  error=why)  # fmt: skip
    stub.on("POST", "/api/jobs", {**failed, "status": "queued", "error": ""})
    stub.on("GET", "/api/jobs/11", failed)
    at = run_page(SLUG, stub)
    at.button(key="job-button:recs-promote").click().run()
    assert stub.called("POST", "/api/jobs") == [
        ({}, {"step": "recs.promote", "params": {"version": A.CANDIDATE, "force": False}})
    ]
    at.run()
    assert any(why in e.value for e in at.error)


def test_train_starts_the_recs_train_job(run_page):
    stub = _answering(StubClient(staff=True))
    stub.on("POST", "/api/jobs", A.TRAIN_JOB)
    stub.on(
        "GET",
        "/api/jobs/11",
        {
            **A.TRAIN_JOB,
            "status": "running",
            "progress": {"label": "recs: fit", "item": "als", "done": 2, "total": 6},
        },
    )
    at = run_page(SLUG, stub)
    at.button(key="job-button:recs-train").click().run()
    assert stub.called("POST", "/api/jobs") == [({}, {"step": "recs.train", "params": {}})]


@pytest.mark.parametrize("status", [0, 500])
def test_an_unreachable_or_failing_api_is_a_message_not_a_traceback(run_page, status):
    stub = StubClient(staff=True)
    stub.on("GET", r"/api/.*", ApiCallError(status, "error", "The API is down."))
    at = run_page(SLUG, stub)
    assert any("The API is down." in e.value for e in at.error)
