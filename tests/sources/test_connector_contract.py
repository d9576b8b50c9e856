"""The connector contract, checked on every registered connector against its replay server.

Each connector in :data:`podsight.sources.connector.CONNECTORS` runs every test here
with its :class:`~connector_cases.ConnectorCase` (real recorded responses served on
127.0.0.1): construction from settings, fetching a show and its episodes, incremental
fetching with the HTTP cache, kept payloads that replay to the same records, search,
close, and sync and replay dispatching through the registry.
"""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import datetime
from pathlib import Path

import pytest
from connector_cases import CASES, ConnectorCase

from httpserver import ReplayApis
from podsight.sources import http
from podsight.sources.connector import (
    CONNECTORS,
    NOTHING_SEEN,
    Connector,
    SeenRecords,
    connector_class,
    make_connector,
)
from podsight.sources.http import ApiNotFound, SourceNotConfigured
from podsight.sources.models import SourceChannel, SourceEpisode
from podsight.sources.records import Normalized
from podsight.sources.replay import replay_payloads
from podsight.sources.sync import ShowSpec, sync_shows

pytestmark = pytest.mark.network


@pytest.fixture(params=list(CONNECTORS))
def case(request: pytest.FixtureRequest) -> ConnectorCase:
    source = request.param
    if source not in CASES:
        pytest.fail(
            f"connector {source!r} is registered but has no ConnectorCase in "
            "tests/sources/connector_cases.py: add one to run the contract suite on it"
        )
    return CASES[source]


@pytest.fixture
def served(case: ConnectorCase, replay_apis: ReplayApis, test_data: Path, monkeypatch):
    """The case's backend on a replay server, the connector's settings pointing at it."""
    for name, value in case.settings.items():
        monkeypatch.setenv(name, value)
    return case.serve(replay_apis, case.backend(test_data))


def ids(result: Normalized) -> tuple[set[tuple[str, str]], set[tuple[str, str, str]]]:
    return (
        {(s.source, s.external_id) for s in result.shows},
        {(e.source, e.show_external_id, e.external_id) for e in result.episodes},
    )


def connect(case: ConnectorCase, **options) -> Connector:
    # As a new process makes it: ApiClient.close() closes the shared cache store handle.
    http.reset()
    return make_connector(case.source, **options)


def test_registered_class_describes_its_source(case: ConnectorCase) -> None:
    cls = connector_class(case.source)
    assert cls.source == case.source
    assert cls.spec_field in {f.name for f in fields(ShowSpec)}
    assert cls.follows(case.show) and case.show.wants(case.source)
    assert not cls.follows(ShowSpec(name="no ids"))
    # A show found on the source is followed through spec_field (discover relies on it).
    found = ShowSpec(name="found")
    setattr(found, cls.spec_field, case.show_id)
    assert cls.follows(found)


def test_from_settings_needs_the_credentials(case: ConnectorCase, api_home: Path) -> None:
    if not case.credentials:
        with connector_class(case.source).from_settings(cache=False) as connector:
            assert isinstance(connector, Connector)
        return
    with pytest.raises(SourceNotConfigured) as refused:
        connector_class(case.source).from_settings(cache=False)
    for name in case.credentials:
        assert name in str(refused.value)


def test_fetch_show_gives_the_show_its_episodes_and_replayable_payloads(
    case: ConnectorCase, served
) -> None:
    with make_connector(case.source, cache=False) as connector:
        assert isinstance(connector, Connector)
        result = connector.fetch_show(case.show, NOTHING_SEEN)
        payloads = connector.api.take_payloads()
        assert connector.api.stats.calls == len(payloads) >= 1
        units = connector.quota_units
    assert units is None or units >= 1
    assert [(s.source, s.external_id) for s in result.shows] == [(case.source, case.show_id)]
    assert len(result.episodes) == case.episodes
    assert {(e.source, e.show_external_id) for e in result.episodes} == {
        (case.source, case.show_id)
    }
    assert result.complete_shows == {case.show_id}
    # Every fresh response is kept, and normalising the kept payloads again (replay)
    # gives the same records.
    normalize = connector_class(case.source).normalize
    replayed = Normalized()
    for payload in payloads:
        assert payload.source == case.source and payload.status == 200
        body = json.loads(payload.body)
        replayed.extend(normalize(payload.endpoint, payload.params, body))
    assert ids(replayed) == ids(result)


def test_unchanged_show_is_revalidated_not_downloaded(case: ConnectorCase, served) -> None:
    with connect(case) as connector:
        first = connector.fetch_show(case.show)
        first_calls = connector.api.stats.calls
    newest = max(e.data["published_at"] for e in first.episodes)
    seen = SeenRecords(
        episodes={case.show_id: [e.external_id for e in first.episodes]},
        newest={case.show_id: datetime.fromisoformat(newest)},
    )
    with connect(case) as connector:
        second = connector.fetch_show(case.show, seen)
        # Incremental: knowing every episode never costs more calls than knowing none.
        assert connector.api.stats.calls <= first_calls
    served.clear_log()
    with connect(case) as connector:
        third = connector.fetch_show(case.show, seen)
        assert connector.api.stats.network == connector.api.stats.revalidated
    assert served.full_responses() == [], [(r.path, r.status) for r in served.requests]
    assert ids(third) == ids(second)
    assert {s.external_id for s in third.shows} == {case.show_id}


def test_unknown_show_is_not_found_or_absent(case: ConnectorCase, served) -> None:
    with make_connector(case.source, cache=False) as connector:
        try:
            result = connector.fetch_show(case.unknown)
        except ApiNotFound:
            return
    assert result.shows == [] and result.episodes == []


def test_search_finds_shows_only(case: ConnectorCase, served) -> None:
    with make_connector(case.source, cache=False) as connector:
        result = connector.search(case.search_term, limit=3)
    assert result.episodes == []
    assert 1 <= len(result.shows) <= 3
    assert {s.source for s in result.shows} == {case.source}
    assert case.show_id in {s.external_id for s in result.shows}


def test_close_ends_the_connection(case: ConnectorCase, served) -> None:
    with make_connector(case.source, cache=False) as connector:
        pass
    with pytest.raises(RuntimeError, match="closed"):
        connector.fetch_show(case.show)


@pytest.mark.django_db
def test_sync_and_replay_dispatch_through_the_registry(case: ConnectorCase, served) -> None:
    first = sync_shows([case.show], sources=[case.source])
    run = first.runs[case.source]
    assert (run.status, run.shows_ok, run.shows_failed) == ("ok", 1, 0), run.errors
    assert run.calls >= 1 and run.store.episodes_new == case.episodes
    assert first.payloads_written >= 1
    channel = SourceChannel.objects.get(source=case.source)
    assert channel.external_id == case.show_id
    assert channel.episodes.count() == case.episodes

    http.reset()
    second = sync_shows([case.show], sources=[case.source])
    assert second.runs[case.source].store.episodes_new == 0
    assert SourceEpisode.objects.filter(source=case.source).count() == case.episodes

    SourceEpisode.objects.all().delete()
    SourceChannel.objects.all().delete()
    replayed = replay_payloads(case.source)
    assert not replayed.errors and replayed.payloads >= 1
    assert SourceEpisode.objects.filter(source=case.source).count() == case.episodes
