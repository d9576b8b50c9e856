"""The graph's shape: the order the issue asks for, and selection by --only / --from."""

import pytest

from podsight.pipeline import graph


def test_daily_order_is_the_one_declared():
    daily = [node.name for node in graph.nodes(["daily"])]
    assert daily.index("sources.sync") < daily.index("match") < daily.index("content.transcripts")
    assert daily.index("content.transcripts") < daily.index("content.analyze")
    assert graph.GRAPH["events.consume"].needs == ()  # beside the catalog branch
    assert set(graph.GRAPH["recs.train"].needs) == {"content.analyze", "events.engagement"}
    assert graph.ancestors("recs.refresh") >= {"sources.sync", "events.consume", "recs.train"}


def test_a_failed_node_stops_only_what_depends_on_it():
    assert graph.dependents("events.consume") == {
        "events.engagement", "recs.train", "recs.promote", "recs.refresh"
    }
    assert "events.consume" not in graph.dependents("sources.sync")


def test_select_only_and_from():
    only = graph.select(only=["match", "sources.sync"])
    assert [n.name for n in only] == ["sources.sync", "match"]
    started = [n.name for n in graph.select(start="content.analyze")]
    assert started == ["content.analyze", "recs.train", "recs.promote", "recs.refresh"]
    with pytest.raises(KeyError):
        graph.select(only=["nope"])


def test_weekly_import_runs_only_with_a_dump(monkeypatch):
    node = graph.GRAPH["directory.import"]
    monkeypatch.delenv("PODSIGHT_PODCASTINDEX_DUMP", raising=False)
    assert "PODSIGHT_PODCASTINDEX_DUMP" in node.skip_reason()
    monkeypatch.setenv("PODSIGHT_PODCASTINDEX_DUMP", "/data/podcastindex_feeds.db")
    assert node.skip_reason() is None


def test_a_cycle_or_unknown_need_cannot_be_declared():
    with pytest.raises(ValueError, match="not declared before"):
        graph.build(graph.Node("a", "match", needs=("b",)), graph.Node("b", "match"))
