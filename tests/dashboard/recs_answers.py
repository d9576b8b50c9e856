"""The API's answers the Recommendations page reads, in their real shape: copied from a
server on the demo home (``podsight demo load --listeners 50``, 2026-12-06) and trimmed to
a few rows. One place, so that the page's tests and the API cannot drift apart unseen
(``tests/recs/test_recs_dashboard_api.py`` pins the same shapes on the server side)."""

from __future__ import annotations

from typing import Any

__all__ = [
    "EPISODES",
    "HISTORY",
    "LISTENERS",
    "MODELS",
    "RECOMMENDATIONS",
    "SERVING",
    "CANDIDATE",
    "TRIED",
    "TRAIN_JOB",
]

SERVING = "20261206-134903-f256"
CANDIDATE = "20261206-141500-0a1b"

# GET /api/recs/users?page_size=50
LISTENERS: dict[str, Any] = {
    "results": [
        {"user_id": "sim42-00035", "plays": 423, "episodes": 51,
         "last_active_at": "2026-12-06T10:33:21.284000+00:00"},
        {"user_id": "sim42-00040", "plays": 104, "episodes": 40,
         "last_active_at": "2026-12-06T09:05:51.957000+00:00"},
        {"user_id": "sim42-00011", "plays": 79, "episodes": 16,
         "last_active_at": "2026-12-05T18:39:58.348000+00:00"},
    ],
    "next_cursor": "Wzc5LCJzaW00Mi0wMDAxMSJd:1xaCcX:zj2ffLhNVCk9kPXf1B9QyzE_07_jcWCTHCZojKrzuy8",
}  # fmt: skip


def _event(kind: str, at: str, episode: int | None, title: str, **extra: Any) -> dict[str, Any]:
    event = {"event_id": f"evt-{kind}-{at}", "type": kind, "occurred_at": at, "channel_id": 7,
             "device": "android", "session_id": "9b7737c0-908d-4ed1-a8c2-78a7b0d1ea5f",
             "episode_title": title, **extra}  # fmt: skip
    if episode is not None:
        event["episode_id"] = episode
    return event


# GET /api/users/{id}/history?limit=300 (newest first; keys of null values are left out)
HISTORY: dict[str, Any] = {
    "user_id": "sim42-00035",
    "events": [
        _event("subscribe", "2026-11-26T23:09:53.442000+00:00", None, ""),
        _event("rate", "2026-11-26T23:09:45.637000+00:00", 158, "Five myths about bootstrapping",
               duration_s=669.0, rating=5),
        _event("complete", "2026-11-26T23:09:26.761000+00:00", 158,
               "Five myths about bootstrapping", position_s=669.0, duration_s=669.0),
        _event("play", "2026-11-26T22:58:06.453000+00:00", 158, "Five myths about bootstrapping",
               position_s=0.0, duration_s=669.0),
        _event("like", "2026-11-25T20:01:00.000000+00:00", 280,
               "A beginner's guide to Premier League", duration_s=1500.0),
        _event("play", "2026-11-25T19:40:00.000000+00:00", 280,
               "A beginner's guide to Premier League", position_s=0.0, duration_s=1500.0),
    ],
    "next_before": None,
}  # fmt: skip

# GET /api/users/{id}/recommendations?n=20
RECOMMENDATIONS: dict[str, Any] = {
    "user_id": "sim42-00035",
    "model_version": SERVING,
    "kind": "episodes",
    "language": None,
    "cached": True,
    "computed_at": "2026-12-06T13:49:13.025203+00:00",
    "results": [
        {"episode": "277", "title": "Women's football: what nobody tells you", "show": "10",
         "show_title": "Notes on Women's Football", "language": "en", "score": 0.413011,
         "sources": ["itemknn", "als", "trending", "popular", "content"],
         "reason": "listeners who played Five myths about bootstrapping also played this"},
        {"episode": "629", "title": "Priya Nguyen on office life", "show": "18",
         "show_title": "The Awkward Dates Show", "language": "en", "score": 0.325562,
         "sources": ["popular", "trending", "itemknn", "als", "content"],
         "reason": "popular with listeners"},
    ],
}  # fmt: skip

# GET /api/episodes?q=football&page_size=20 (trimmed to the fields a list row has)
EPISODES: dict[str, Any] = {
    "results": [
        {"id": 277, "title": "Women's football: what nobody tells you", "channel": 10,
         "channel_title": "Notes on Women's Football", "guid": "wf-277", "description": "",
         "published_at": "2025-01-20T06:00:00Z", "duration_s": 1500, "enclosure_url": None,
         "enclosure_type": "audio/mpeg", "enclosure_length": None, "episode_number": None,
         "season_number": None, "episode_type": "full", "explicit": False, "image_url": "",
         "link": "", "transcripts": [], "has_transcript": True, "available": True,
         "sources": [], "created_at": "2026-12-06T13:41:00Z",
         "updated_at": "2026-12-06T13:41:00Z"},
        {"id": 279, "title": "Daniel Hughes explains women's football", "channel": 10,
         "channel_title": "Notes on Women's Football", "guid": "wf-279", "description": "",
         "published_at": "2025-01-06T06:00:00Z", "duration_s": 1400, "enclosure_url": None,
         "enclosure_type": "audio/mpeg", "enclosure_length": None, "episode_number": None,
         "season_number": None, "episode_type": "full", "explicit": False, "image_url": "",
         "link": "", "transcripts": [], "has_transcript": True, "available": True,
         "sources": [], "created_at": "2026-12-06T13:41:00Z",
         "updated_at": "2026-12-06T13:41:00Z"},
    ],
    "next": None,
    "page_size": 20,
}  # fmt: skip

# POST /api/recs/try {"episodes": [277, 279], "n": 10}
TRIED: dict[str, Any] = {
    "model_version": SERVING,
    "history": [
        {"episode": "277", "title": "Women's football: what nobody tells you", "show": "10",
         "show_title": "Notes on Women's Football", "language": "en"},
        {"episode": "279", "title": "Daniel Hughes explains women's football", "show": "10",
         "show_title": "Notes on Women's Football", "language": "en"},
    ],
    "not_in_model": [],
    "results": [
        {"episode": "278", "title": "Ask us anything about Premier League", "show": "10",
         "show_title": "Notes on Women's Football", "language": "en", "score": 0.465097,
         "sources": ["content", "fresh", "itemknn", "als", "popular", "trending"],
         "reason": "about Soccer, like Women's football: what nobody tells you you finished"},
        {"episode": "155", "title": "Ask us anything about bootstrapping", "show": "7",
         "show_title": "First Hires Weekly", "language": "en", "score": 0.373485,
         "sources": ["als", "content", "itemknn", "trending", "popular"],
         "reason": "because you finished Daniel Hughes explains women's football"},
    ],
}  # fmt: skip

_METRICS = {
    "hybrid": {"ndcg@10": 0.191128, "p@10": 0.045946, "r@10": 0.245817, "coverage": 0.106106,
               "users": 37, "intra_list_similarity": 0.225131},
    "hybrid_ranking": {"ndcg@10": 0.221652, "p@10": 0.056757, "r@10": 0.317889,
                       "coverage": 0.126126, "users": 37},
    "als": {"ndcg@10": 0.074488, "p@10": 0.02973, "r@10": 0.169884, "coverage": 0.122122,
            "users": 37},
    "itemknn": {"ndcg@10": 0.080572, "p@10": 0.027027, "r@10": 0.161519, "coverage": 0.114114,
                "users": 37},
    "popular": {"ndcg@10": 0.044437, "p@10": 0.016216, "r@10": 0.116474, "coverage": 0.018018,
                "users": 37},
    "random": {"ndcg@10": 0.004102, "p@10": 0.002703, "r@10": 0.013514, "coverage": 0.332332,
               "users": 37},
}  # fmt: skip


def _model(version: str, status: str, ndcg: float, online: dict[str, Any], note: str):
    metrics = {name: dict(figures) for name, figures in _METRICS.items()}
    metrics["hybrid"]["ndcg@10"] = ndcg
    return {
        "version": version, "status": status, "share": 0.0,
        "created_at": "2026-12-06T13:49:03.663286+00:00",
        "promoted_at": "2026-12-06T13:49:03.706321+00:00" if status == "serving" else None,
        "retired_at": None,
        "params": {"models": {"als": {"factors": 64}, "itemknn": {"neighbours": 100},
                              "popular": {"weighted": False}},
                   "weights": {"als": 0.4, "itemknn": 0.4, "popular": 0.2}, "left_out": [],
                   "seed": 0, "blend": {"split": "time", "validation_users": 37}},
        "data_version": 0,
        "data": {"users": 45, "items": 999, "interactions": 303, "shows": 24,
                 "as_of": "2026-12-06T13:48:57.656082+00:00", "source": "lake"},
        "metrics": metrics,
        "online": online,
        "note": note,
    }  # fmt: skip


# GET /api/recs/models: newest first
MODELS: dict[str, Any] = {
    "promote_tolerance": 0.01,
    "results": [
        _model(CANDIDATE, "rejected", 0.150000,
               {"impressions": 0, "shown": 0, "played": 0, "rate": None},
               "validation NDCG@10 0.1500 is 0.0411 below the serving version's 0.1911"),
        _model(SERVING, "serving", 0.191128,
               {"impressions": 120, "shown": 2400, "played": 96, "rate": 0.04},
               "first version: nothing serves yet"),
    ],
}  # fmt: skip

# POST /api/jobs {"step": "recs.train", "params": {}}: podsight.jobs.api.JobSerializer's answer
TRAIN_JOB: dict[str, Any] = {
    "id": 11, "step": "recs.train", "params": {}, "status": "queued",
    "progress": {"label": "", "item": "", "done": 0, "total": None}, "notes": [],
    "summary": "", "report": None, "error": "", "created_by": "ops",
    "created_at": "2026-12-06T14:00:00Z", "started_at": None, "finished_at": None,
}  # fmt: skip
