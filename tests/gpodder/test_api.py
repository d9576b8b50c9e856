"""The gPodder.net API v2, driven over real HTTP by the client library apps are built on
(``mygpoclient``) against a live server: auth and the login cookie, subscriptions and
episode actions round trips with ``since``, devices, the Simple API formats, refusals,
and the listening events every change becomes."""

from __future__ import annotations

import base64
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest
from lxml import etree
from mygpoclient import http
from mygpoclient.api import EpisodeAction as ClientAction
from mygpoclient.api import MygPodderClient

from podsight.accounts.services import create_user
from podsight.events import log as event_log
from podsight.events.log import LocalLog
from podsight.gpodder.models import Device, EpisodeAction, Subscription
from podsight.sources.models import CandidateKind, CatalogCandidate, SourceEpisode

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.network]

PASSWORD = "correct horse battery staple"
FEED_A = "https://feeds.example.org/a.xml"
FEED_B = "https://feeds.example.org/b.xml"
FEED_C = "http://podcasts.example.net/c.rss"
EPISODE_1 = "https://media.example.org/a/1.mp3"
EPISODE_2 = "https://media.example.org/b/2.mp3"


@pytest.fixture
def alice(db):
    return create_user("alice", PASSWORD)


@pytest.fixture
def client(live_server, alice) -> MygPodderClient:
    return MygPodderClient("alice", PASSWORD, root_url=live_server.url)


def _raw(
    method: str,
    url: str,
    body: bytes | None = None,
    *,
    auth: tuple[str, str] | None = None,
    cookie: str | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One request as sent, without urllib's auth retry: status, headers, body."""
    request = urllib.request.Request(url, data=body, method=method)
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    if cookie is not None:
        request.add_header("Cookie", f"sessionid={cookie}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S")


def _hour_ago() -> datetime:
    return (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)


def _logged() -> list[dict]:
    entries, _ = LocalLog().read({}, 10_000)
    return [orjson.loads(e.payload) for e in entries]


def _next_second(after: int) -> None:
    """Wait until the clock is past the second ``after``: what is stored from now on has
    a later time than everything before."""
    time.sleep(max(0.0, after + 1 - time.time()) + 0.05)


@pytest.mark.clock
def test_round_trip_with_login_cookie_subscriptions_and_actions(live_server, client):
    base = live_server.url
    login = http.HttpClient("alice", PASSWORD)
    assert login.POST(f"{base}/api/2/auth/alice/login.json", None) == b""
    cookie = next(c.value for c in login._cookie_jar if c.name == "sessionid")
    # The cookie alone authenticates; without it (and without Basic) the answer is 401.
    assert _raw("GET", f"{base}/api/2/devices/alice.json", cookie=cookie)[::2] == (200, b"[]")
    status, headers, _ = _raw("GET", f"{base}/api/2/devices/alice.json")
    assert status == 401 and headers["WWW-Authenticate"] == 'Basic realm="podsight"'
    assert _raw("POST", f"{base}/api/2/auth/alice/login.json", cookie=cookie)[0] == 200

    update = client.update_subscriptions("phone", [FEED_A, f"  {FEED_B}\n"], [])
    assert update.update_urls == [(f"  {FEED_B}\n", FEED_B)]
    t0 = _hour_ago()
    actions = [
        ClientAction(FEED_A, EPISODE_1, "download", device="phone", timestamp=_stamp(t0)),
        ClientAction(
            FEED_A,
            EPISODE_1,
            "play",
            device="phone",
            timestamp=_stamp(t0 + timedelta(minutes=5)),
            started=10,
            position=130,
            total=600,
        ),
        ClientAction(FEED_B, EPISODE_2, "new", timestamp=_stamp(t0 + timedelta(minutes=6))),
    ]
    uploaded = client.upload_episode_actions(actions)
    assert abs(uploaded - time.time()) < 5
    _next_second(max(uploaded, update.since))

    changes = client.pull_subscriptions("phone", 0)
    assert (changes.add, changes.remove) == ([FEED_A, FEED_B], [])
    assert changes.since > update.since
    later = client.pull_subscriptions("phone", changes.since)
    assert (later.add, later.remove) == ([], [])

    fetched = client.download_episode_actions(since=0)
    expected = [
        {
            "podcast": FEED_A,
            "episode": EPISODE_1,
            "action": "download",
            "device": "phone",
            "timestamp": _stamp(t0),
        },
        {
            "podcast": FEED_A,
            "episode": EPISODE_1,
            "action": "play",
            "device": "phone",
            "timestamp": _stamp(t0 + timedelta(minutes=5)),
            "started": 10,
            "position": 130,
            "total": 600,
        },
        {
            "podcast": FEED_B,
            "episode": EPISODE_2,
            "action": "new",
            "timestamp": _stamp(t0 + timedelta(minutes=6)),
        },
    ]
    assert [a.to_dictionary() for a in fetched.actions] == expected
    assert fetched.since > uploaded
    assert client.download_episode_actions(since=fetched.since).actions == []
    # since is inclusive of its second: the upload's own timestamp returns the upload.
    assert len(client.download_episode_actions(since=uploaded).actions) == 3
    by_device = client.download_episode_actions(since=0, device_id="phone")
    assert [a.action for a in by_device.actions] == ["download", "play"]
    by_podcast = client.download_episode_actions(since=0, podcast=FEED_B)
    assert [a.action for a in by_podcast.actions] == ["new"]
    aggregated = _raw("GET", f"{base}/api/2/episodes/alice.json?aggregated=true", cookie=cookie)
    assert [a["action"] for a in orjson.loads(aggregated[2])["actions"]] == ["play", "new"]

    # Logging out clears the cookie on the client; the server keeps no session list.
    status, headers, _ = _raw("POST", f"{base}/api/2/auth/alice/logout.json", cookie=cookie)
    assert status == 200 and 'sessionid=""' in headers["Set-Cookie"]


def test_devices_are_listed_created_and_updated(live_server, client):
    assert client.get_devices() == []
    assert client.update_device_settings("phone", caption="Alice's phone", type="mobile")
    client.update_subscriptions("laptop", [FEED_A, FEED_B], [])
    client.update_subscriptions("laptop", [], [FEED_B])
    assert client.update_device_settings("phone", caption="Work phone")

    devices = [(d.device_id, d.caption, d.type, d.subscriptions) for d in client.get_devices()]
    assert devices == [("phone", "Work phone", "mobile", 0), ("laptop", "", "other", 1)]

    url = f"{live_server.url}/api/2/devices/alice/phone.json"
    status, _, body = _raw("POST", url, b'{"type": "toaster"}', auth=("alice", PASSWORD))
    assert status == 400
    assert "type" in orjson.loads(body)["error"]["details"]
    bad_id = f"{live_server.url}/api/2/devices/alice/{'x' * 101}.json"
    assert _raw("POST", bad_id, b"{}", auth=("alice", PASSWORD))[0] == 400
    assert Device.objects.get(uid="phone").type == "mobile"


def test_simple_api_replaces_lists_in_json_txt_and_opml(live_server, client):
    base = live_server.url
    creds = ("alice", PASSWORD)
    assert client.put_subscriptions("phone", [FEED_A, FEED_B]) is True
    assert client.get_subscriptions("phone") == [FEED_A, FEED_B]

    text = f"# exported\n{FEED_C}\n\n{FEED_A}\n".encode()
    status, _, body = _raw("PUT", f"{base}/subscriptions/alice/phone.txt", text, auth=creds)
    assert (status, body) == (200, b"")
    status, headers, body = _raw("GET", f"{base}/subscriptions/alice/phone.txt", auth=creds)
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert body.decode() == f"{FEED_A}\n{FEED_C}\n"

    # The replacement was applied as changes: B is removed for the advanced API.
    changes = client.pull_subscriptions("phone", 0)
    assert (changes.add, changes.remove) == ([FEED_A, FEED_C], [FEED_B])

    client.put_subscriptions("tablet", [FEED_B])
    status, _, body = _raw("GET", f"{base}/subscriptions/alice.opml", auth=creds)
    assert status == 200
    outlines = etree.fromstring(body).findall("body/outline")
    assert [o.get("xmlUrl") for o in outlines] == [FEED_A, FEED_C, FEED_B]
    status, _, body = _raw("GET", f"{base}/subscriptions/alice.json", auth=creds)
    assert orjson.loads(body) == [FEED_A, FEED_C, FEED_B]

    opml = (
        b'<?xml version="1.0"?><opml version="1.0"><head/><body>'
        b'<outline text="A folder"><outline type="rss" xmlUrl="' + FEED_B.encode() + b'"/>'
        b"</outline></body></opml>"
    )
    assert _raw("PUT", f"{base}/subscriptions/alice/phone.opml", opml, auth=creds)[0] == 200
    assert client.get_subscriptions("phone") == [FEED_B]

    with pytest.raises(http.NotFound):
        client.get_subscriptions("nowhere")
    assert _raw("GET", f"{base}/subscriptions/alice/phone.xml", auth=creds)[0] == 400
    broken = b"<opml><body><outline"
    assert _raw("PUT", f"{base}/subscriptions/alice/phone.opml", broken, auth=creds)[0] == 400


def test_wrong_password_and_other_users_are_refused(live_server, client):
    create_user("bob", "bobs password")
    base = live_server.url
    with pytest.raises(http.Unauthorized):
        MygPodderClient("alice", "wrong", root_url=base).get_devices()
    status, headers, _ = _raw("GET", f"{base}/api/2/devices/alice.json", auth=("alice", "wrong"))
    assert status == 401 and headers["WWW-Authenticate"] == 'Basic realm="podsight"'

    status, _, body = _raw("GET", f"{base}/api/2/devices/alice.json", auth=("bob", "bobs password"))
    assert status == 403 and orjson.loads(body)["error"]["code"] == "other_user"
    status, _, _ = _raw(
        "POST",
        f"{base}/api/2/subscriptions/alice/phone.json",
        b'{"add": ["https://evil.example/feed"]}',
        auth=("bob", "bobs password"),
    )
    assert status == 403
    assert not Subscription.objects.exists()

    # A session of bob's presented to alice's login: 400, as the reference says.
    bob = http.HttpClient("bob", "bobs password")
    bob.POST(f"{base}/api/2/auth/bob/login.json", None)
    cookie = next(c.value for c in bob._cookie_jar if c.name == "sessionid")
    assert _raw("POST", f"{base}/api/2/auth/alice/login.json", cookie=cookie)[0] == 400
    assert _raw("POST", f"{base}/api/2/auth/alice/logout.json", cookie=cookie)[0] == 400
    assert _raw("GET", f"{base}/api/2/episodes/alice.json", cookie=cookie)[0] == 403


def test_invalid_uploads_are_refused_whole(live_server, client):
    url = f"{live_server.url}/api/2/episodes/alice.json"
    creds = ("alice", PASSWORD)
    batch = [
        {"podcast": FEED_A, "episode": EPISODE_1, "action": "download"},
        {"podcast": FEED_A, "episode": EPISODE_1, "action": "listen"},
        {"podcast": FEED_A, "action": "play", "position": "ten"},
        "play",
    ]
    status, _, body = _raw("POST", url, orjson.dumps(batch), auth=creds)
    assert status == 400
    error = orjson.loads(body)["error"]
    assert error["code"] == "invalid_actions"
    assert error["message"].startswith("3 of the 4 episode actions are invalid")
    problems = {p["index"]: p["errors"] for p in error["details"]["actions"]}
    assert sorted(problems) == [1, 2, 3]
    assert problems[1]["action"][0].startswith("must be one of: download, play, delete")
    assert set(problems[2]) == {"episode", "position"}
    assert "non_field_errors" in problems[3]
    assert _raw("POST", url, b"{not json", auth=creds)[0] == 400
    assert not EpisodeAction.objects.exists() and _logged() == []

    subscriptions = f"{live_server.url}/api/2/subscriptions/alice/phone.json"
    both = orjson.dumps({"add": [FEED_A, FEED_B], "remove": [FEED_B]})
    status, _, body = _raw("POST", subscriptions, both, auth=creds)
    assert status == 400 and orjson.loads(body)["error"]["details"] == {"urls": [FEED_B]}
    assert not Subscription.objects.exists()
    # Not http(s): rewritten to "" and ignored, as the reference says.
    update = client.update_subscriptions("phone", ["ftp://example.org/feed", FEED_A], [])
    assert update.update_urls == [("ftp://example.org/feed", "")]
    assert list(Subscription.objects.values_list("url", flat=True)) == [FEED_A]


def test_changes_become_events_with_catalog_ids_and_candidates(live_server, client, catalog):
    record = (
        SourceEpisode.objects.filter(source="rss", episode__duration_s__gt=600)
        .exclude(data__enclosure_url=None)
        .select_related("episode", "source_channel")
        .first()
    )
    episode = record.episode
    feed = record.source_channel.url
    unknown_feed, unknown_episode = (
        "https://unknown.example.com/feed.xml",
        "https://u.example/1.mp3",
    )
    t0 = _hour_ago()
    actions = [
        ClientAction(
            feed,
            episode.enclosure_url,
            "play",
            device="phone",
            timestamp=_stamp(t0),
            started=60,
            position=300,
            total=episode.duration_s,
        ),
        ClientAction(feed, episode.enclosure_url, "download", device="phone", timestamp=_stamp(t0)),
        ClientAction(feed, episode.enclosure_url, "delete", device="phone", timestamp=_stamp(t0)),
        # An app's position beyond its own total: the total is left out, not the event.
        ClientAction(
            unknown_feed, unknown_episode, "play", timestamp=_stamp(t0), position=90, total=30
        ),
    ]
    client.update_subscriptions("phone", [feed, unknown_feed], [])
    client.upload_episode_actions(actions)

    events = _logged()
    assert [(e["type"], e["feed_url"]) for e in events] == [
        ("subscribe", feed),
        ("subscribe", unknown_feed),
        ("play", feed),
        ("pause", feed),
        ("download", feed),
        ("progress", unknown_feed),
    ]
    assert {e["user_id"] for e in events} == {"alice"}
    assert {e["client"] for e in events} == {"gpodder"}
    subscribe, _, play, pause, download, progress = events
    assert (subscribe["channel_id"], subscribe["episode_id"]) == (episode.channel_id, None)
    assert play["episode_id"] == pause["episode_id"] == download["episode_id"] == episode.pk
    assert play["channel_id"] == episode.channel_id
    at_us = int(t0.timestamp()) * 1_000_000
    assert (play["position_s"], play["occurred_us"]) == (60, at_us - 240 * 1_000_000)
    assert (pause["position_s"], pause["occurred_us"]) == (300, at_us)
    assert play["session_id"] == pause["session_id"] == f"gpodder:phone:{int(t0.timestamp())}"
    assert play["duration_s"] == pause["duration_s"] == episode.duration_s
    assert (download["position_s"], download["device"]) == (None, "phone")
    assert progress["episode_id"] is None and progress["enclosure_url"] == unknown_episode
    assert (progress["position_s"], progress["duration_s"], progress["device"]) == (90, None, None)

    candidates = CatalogCandidate.objects.order_by("kind")
    assert [(c.kind, c.feed_url, c.episode_url, c.origin, c.mentions) for c in candidates] == [
        (CandidateKind.EPISODE, unknown_feed, unknown_episode, "gpodder", 1),
        (CandidateKind.FEED, unknown_feed, "", "gpodder", 1),
    ]

    # Apps re-upload after a lost answer: no new events, no second copy of the actions.
    client.update_subscriptions("phone", [feed, unknown_feed], [])
    client.upload_episode_actions(actions)
    assert len(_logged()) == len(events)
    assert EpisodeAction.objects.count() == 4
    assert CatalogCandidate.objects.get(kind=CandidateKind.FEED).mentions == 1

    client.update_subscriptions("phone", [], [unknown_feed])
    last = _logged()[-1]
    assert (last["type"], last["feed_url"], last["device"]) == (
        "unsubscribe",
        unknown_feed,
        "phone",
    )


def test_a_log_outage_answers_503_and_stores_nothing(live_server, client, monkeypatch):
    monkeypatch.setenv("PODSIGHT_EVENT_LOG", "unknown-backend")
    event_log.reset_shared()
    with pytest.raises(http.UnknownResponse) as refused:
        client.update_subscriptions("phone", [FEED_A], [])
    assert refused.value.args == (503,)
    action = ClientAction(FEED_A, EPISODE_1, "download", device="phone")
    with pytest.raises(http.UnknownResponse):
        client.upload_episode_actions([action])
    assert not Device.objects.exists()
    assert not Subscription.objects.exists() and not EpisodeAction.objects.exists()

    monkeypatch.delenv("PODSIGHT_EVENT_LOG")
    event_log.reset_shared()
    client.update_subscriptions("phone", [FEED_A], [])
    assert [e["type"] for e in _logged()] == ["subscribe"]


@pytest.mark.clock
def test_what_apps_really_send_is_accepted_and_kept(live_server, client):
    """AntennaPod's -1 placeholders and upper-case actions, zones, missing and future
    timestamps: stored as sent, turned into the events the schema accepts."""
    url = f"{live_server.url}/api/2/episodes/alice.json"
    local = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    offset = local.astimezone(timezone(timedelta(hours=2)))
    future = datetime.now(UTC) + timedelta(days=1)
    batch = [
        {
            "podcast": FEED_A,
            "episode": EPISODE_1,
            "guid": "episode-1",
            "action": "DOWNLOAD",
            "timestamp": offset.isoformat(),
            "started": -1,
            "position": -1,
            "total": -1,
        },
        {
            "podcast": FEED_A,
            "episode": EPISODE_1,
            "action": "play",
            "started": 0,
            "position": 50,
            "total": -1,
            "timestamp": _stamp(local),
        },
        {"podcast": FEED_B, "episode": EPISODE_2, "action": "play", "position": 20},
        {
            "podcast": FEED_B,
            "episode": EPISODE_2,
            "action": "play",
            "position": 30,
            "timestamp": _stamp(future),
        },
    ]
    status, _, body = _raw("POST", url, orjson.dumps(batch), auth=("alice", PASSWORD))
    assert status == 200, body
    uploaded = orjson.loads(body)["timestamp"]

    fetched = [a.to_dictionary() for a in client.download_episode_actions(since=0).actions]
    assert fetched[:2] == [
        {"podcast": FEED_A, "episode": EPISODE_1, "action": "download", "timestamp": _stamp(local)},
        {
            "podcast": FEED_A,
            "episode": EPISODE_1,
            "action": "play",
            "timestamp": _stamp(local),
            "started": 0,
            "position": 50,
            "total": -1,
        },
    ]
    assert [(a["position"], a["timestamp"]) for a in fetched[2:]] == [
        (20, _stamp(datetime.fromtimestamp(uploaded, UTC))),
        (30, _stamp(future)),
    ]
    raw = orjson.loads(_raw("GET", url, auth=("alice", PASSWORD))[2])["actions"]
    assert raw[0]["guid"] == "episode-1" and "guid" not in raw[1]

    events = _logged()
    assert [(e["type"], e["position_s"], e["duration_s"]) for e in events] == [
        ("download", None, None),
        ("play", 0, None),
        ("pause", 50, None),
        ("progress", 20, None),
        ("progress", 30, None),
    ]
    local_us = int(local.timestamp()) * 1_000_000
    assert [e["occurred_us"] for e in events[:3]] == [local_us, local_us - 50_000_000, local_us]
    # No timestamp: the upload's time; one from the future: clamped to it.
    assert events[3]["occurred_us"] == events[3]["received_us"]
    assert events[4]["occurred_us"] == events[4]["received_us"]


def test_a_device_id_past_100_characters_is_refused_with_nothing_stored(live_server, alice):
    """The path admits any length; the device id check (gpodder/services.py) answers 400
    in the API's error shape, before anything is stored."""
    uid = "d" * 101
    for method, path, body in [
        ("POST", f"/api/2/devices/alice/{uid}.json", b"{}"),
        ("POST", f"/api/2/subscriptions/alice/{uid}.json", b'{"add": [], "remove": []}'),
        ("GET", f"/subscriptions/alice/{uid}.json", None),
    ]:
        status, _, answer = _raw(method, live_server.url + path, body, auth=("alice", PASSWORD))
        assert status == 400, (path, answer)
        assert orjson.loads(answer)["error"]["code"] == "invalid_device"
    assert not Device.objects.exists()
