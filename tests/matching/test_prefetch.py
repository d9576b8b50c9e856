"""Work computed ahead in forked workers: the same links as in one process, only sooner."""

from __future__ import annotations

import importlib.util
import time
from dataclasses import asdict

import pytest
from django.db import transaction
from tests.conftest import ROOT

import podsight.matching.services as services
from podsight.matching.prefetch import MIN_KEYS, Prefetch, match_workers
from podsight.sources.models import SourceChannel, SourceEpisode


def _squares(state: dict[str, int], key: int) -> int:
    return key * key + state["offset"]


def test_results_computed_ahead_come_back_in_order():
    keys = list(range(3 * MIN_KEYS))
    with Prefetch(_squares, {"offset": 7}, keys, workers=2) as prefetch:
        time.sleep(1.0)  # trivial work: every result is ready by now
        taken = [prefetch.take(key) for key in keys]
    assert taken == [key * key + 7 for key in keys]


def test_nothing_is_computed_ahead_without_workers_or_for_a_few_keys():
    few = list(range(MIN_KEYS - 1))
    for workers, keys in ((0, list(range(100))), (2, few)):
        with Prefetch(_squares, {"offset": 0}, keys, workers=workers) as prefetch:
            time.sleep(0.2)
            assert [prefetch.take(key) for key in keys] == [None] * len(keys)


def test_a_key_asked_for_out_of_turn_is_computed_by_the_caller():
    keys = list(range(MIN_KEYS))
    with Prefetch(_squares, {"offset": 0}, keys, workers=1) as prefetch:
        time.sleep(0.5)
        assert prefetch.take(5) is None  # the next one ahead is key 0
        assert prefetch.take(0) == 0


def test_match_workers_reads_the_environment(monkeypatch):
    monkeypatch.setenv("PODSIGHT_MATCH_WORKERS", "3")
    assert match_workers() == 3
    monkeypatch.setenv("PODSIGHT_MATCH_WORKERS", "-1")
    with pytest.raises(ValueError, match="0 or more"):
        match_workers()
    monkeypatch.setenv("PODSIGHT_MATCH_WORKERS", "two")
    with pytest.raises(ValueError, match="whole number"):
        match_workers()


def _scale_generator():
    spec = importlib.util.spec_from_file_location(
        "matching_scale", ROOT / "bench/matching_scale.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _linked_together() -> dict[str, frozenset[str]]:
    """Each record → the records sharing its canonical episode or channel."""
    groups: dict[tuple[str, int], set[str]] = {}
    for kind, rows in (
        ("episode", SourceEpisode.objects.values_list("external_id", "episode_id")),
        ("channel", SourceChannel.objects.values_list("external_id", "channel_id")),
    ):
        for external_id, canonical in rows:
            groups.setdefault((kind, canonical), set()).add(external_id)
    return {member: frozenset(group) for group in groups.values() for member in group}


@pytest.mark.django_db
def test_a_run_with_workers_links_exactly_what_a_run_without_links(monkeypatch):
    scale = _scale_generator()
    catalog, truth = scale.generate(shows=2 * MIN_KEYS, per_show=12, seed=11)
    scale.load(catalog)
    outcomes = {}
    ahead_used = 0
    take = Prefetch.take

    def counting_take(self, key):
        nonlocal ahead_used
        result = take(self, key)
        ahead_used += result is not None
        return result

    link_one = services._link_one

    def slow_link_one(*args, **kwargs):
        time.sleep(0.02)  # lets the workers get ahead of the decisions
        return link_one(*args, **kwargs)

    monkeypatch.setattr(Prefetch, "take", counting_take)
    monkeypatch.setattr(services, "_link_one", slow_link_one)
    for workers in ("0", "2"):
        monkeypatch.setenv("PODSIGHT_MATCH_WORKERS", workers)
        with transaction.atomic():
            report = services.run_match(full=True)
            outcomes[workers] = (asdict(report), _linked_together())
            transaction.set_rollback(True)  # the next run starts from the same catalog

    assert ahead_used > MIN_KEYS // 2, "the workers' results were not used"
    assert outcomes["2"] == outcomes["0"]
    report, together = outcomes["2"]
    assert report["channels_linked"] >= 2 * MIN_KEYS * 0.9
    found = sum(1 for rss, youtube in truth.items() if youtube in together.get(rss, ()))
    assert found >= 0.98 * len(truth)
