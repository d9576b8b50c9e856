"""Channel links for records without strong keys (Spotify shows, YouTube channels).

A keyless cluster (Spotify or YouTube records in a channel of their own) is compared with
the channels that share a name word with it (an inverted index: no all-pairs). The evidence
for a pair:

- **episodes**: the share of the smaller side's episodes that pair up one-to-one
  (:mod:`.episodes`) — the deciding evidence: a decoy show with a near-identical name
  publishes other episodes;
- **names**: the best rapidfuzz ``token_set_ratio`` between the two sides' titles and
  authors — a YouTube channel named after the host ("Andrew Huberman") shares a word with
  the show ("Huberman Lab");
- **mention**: one side's description names the other's title ("Welcome to the official
  Huberman Lab YouTube channel").

A pair links when at least :data:`MIN_EPISODE_OVERLAP` of the smaller side's episodes (and
at least :data:`MIN_MATCHED` of them, or all of a smaller side) pair up, and the names are
similar or a description mentions the other side. Confidence is that overlap times the
mean probability of the episode pairs. When no candidate passes because titles cannot pair
(a non-English show titled in English on YouTube), a candidate of nearly the same name, or
one a description mentions, may still be linked by its schedule (:mod:`.schedule`), for
review.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz

from podsight.matching.episodes import EpisodeView, PairScore
from podsight.matching.schedule import Alignment
from podsight.matching.text import normalise_text

__all__ = [
    "KEYLESS_SOURCES",
    "MIN_EPISODE_OVERLAP",
    "MIN_MATCHED",
    "MIN_NAME_SIMILARITY",
    "SCHEDULE_MIN_NAME_SIMILARITY",
    "ChannelEvidence",
    "Cluster",
    "NameIndex",
    "decide",
]

KEYLESS_SOURCES = frozenset({"spotify", "youtube"})
MIN_EPISODE_OVERLAP = 0.5
MIN_MATCHED = 3
MIN_NAME_SIMILARITY = 0.6
# Without titles to compare, the names must say which show it is: a schedule alone would
# pair any two channels that publish alike.
SCHEDULE_MIN_NAME_SIMILARITY = 0.9
MIN_MENTION_CHARS = 5  # shorter names ("Ask") are found in too many descriptions
# A name more channels than this carry is a network's or publisher's ("Northwind Audio"):
# it neither points at one of them nor tells them apart. A show title is carried by its
# feed, Spotify and YouTube channels and by a few same-named shows: well under this.
COMMON_NAME_HOLDERS = 20
MENTION_SCAN_WORDS = 400  # a channel names its show near the top of its description
# Words too common in show names to suggest a pair on their own.
_COMMON_WORDS = frozenset(
    "the and with show podcast podcasts official channel radio daily weekly of a an in on "
    "for to my your our de la le el los las der die das und".split()
)


@dataclass
class Cluster:
    """A canonical channel as matching sees it."""

    channel_id: int
    sources: frozenset[str]
    names: list[str]  # titles and authors of its records, and its canonical title
    descriptions: list[str]  # normalised description texts
    record_labels: list[str] = field(default_factory=list)  # "source:external_id"
    record_ids: frozenset[int] = frozenset()  # SourceChannel ids
    dirty: bool = True  # holds a record new or changed since the last run

    @property
    def keyless(self) -> bool:
        """Holds only records without strong keys (a Spotify show, a YouTube channel, or
        the two linked to each other): it still looks for the channel it belongs to."""
        return bool(self.sources) and self.sources <= KEYLESS_SOURCES

    def all_name_words(self) -> set[str]:
        return {w for name in self.names for w in normalise_text(name).split()}

    def name_words(self) -> set[str]:
        words = self.all_name_words()
        telling = {w for w in words if len(w) > 2 and w not in _COMMON_WORDS}
        # "AI Weekly" has no telling word: then its plain words must do.
        return telling or words


class NameIndex:
    """Channels by the words of their names, and by the names their descriptions mention
    (a YouTube channel named after its host shares no word with the show, but its
    description says "the official All About City Life channel")."""

    def __init__(self, clusters: Iterable[Cluster]) -> None:
        self.by_word: dict[str, set[int]] = defaultdict(set)
        self.clusters: dict[int, Cluster] = {}
        self.by_name: dict[str, set[int]] = defaultdict(set)
        self._longest_from: dict[str, int] = {}  # first word → longest name's word count
        for cluster in clusters:
            self.add(cluster)
        self.common = frozenset(
            name for name, holders in self.by_name.items() if len(holders) > COMMON_NAME_HOLDERS
        )
        self.mentions: dict[int, set[int]] = defaultdict(set)
        for cluster in self.clusters.values():
            for other in self._mentioned_by(cluster):
                if other != cluster.channel_id:
                    self.mentions[cluster.channel_id].add(other)
                    self.mentions[other].add(cluster.channel_id)

    def add(self, cluster: Cluster) -> None:
        self.clusters[cluster.channel_id] = cluster
        # Every word is indexed; queries use only telling words when a name has any.
        for word in cluster.all_name_words():
            self.by_word[word].add(cluster.channel_id)
        for name in cluster.names:
            text = normalise_text(name)
            if len(text) >= MIN_MENTION_CHARS:
                self.by_name[text].add(cluster.channel_id)
                words = text.split()
                self._longest_from[words[0]] = max(self._longest_from.get(words[0], 0), len(words))

    def _mentioned_by(self, cluster: Cluster) -> set[int]:
        """Channels whose whole name appears in this channel's descriptions."""
        found: set[int] = set()
        for description in cluster.descriptions:
            words = description.split()[:MENTION_SCAN_WORDS]
            for start, word in enumerate(words):
                longest = self._longest_from.get(word)
                for length in range(1, (longest or 0) + 1):
                    holders = self.by_name.get(" ".join(words[start : start + length]), ())
                    if len(holders) <= COMMON_NAME_HOLDERS:
                        found.update(holders)
        return found

    def candidates(self, cluster: Cluster, limit: int = 40) -> list[tuple[float, Cluster]]:
        """Channels mentioned by or mentioning this one, then the other channels sharing a
        name word, most similar names first."""
        ids: set[int] = set()
        for word in cluster.name_words():
            ids |= self.by_word.get(word, set())
        mentioned = self.mentions.get(cluster.channel_id, set())
        ids |= mentioned
        ids.discard(cluster.channel_id)
        ranked = []
        for other_id in ids:
            other = self.clusters[other_id]
            if other.sources & cluster.sources:
                continue  # one record per source in a channel: never two Spotify shows
            similarity = name_similarity(cluster, other, self.common)
            ranked.append((other_id in mentioned, similarity, other))
        ranked.sort(key=lambda item: (-item[0], -item[1], item[2].channel_id))
        named = [(similarity, other) for by_mention, similarity, other in ranked if by_mention]
        rest = [(similarity, other) for by_mention, similarity, other in ranked if not by_mention]
        return named[:limit] + rest[:limit]


@lru_cache(maxsize=1 << 16)
def _normal_name(name: str) -> str:
    return normalise_text(name)  # a channel's names are compared with dozens of others


def name_similarity(left: Cluster, right: Cluster, common: frozenset[str] = frozenset()) -> float:
    """The best ``token_set_ratio`` between the two sides' names, ``common`` names aside."""
    best = 0.0
    for a in left.names:
        for b in right.names:
            a_text, b_text = _normal_name(a), _normal_name(b)
            if a_text and b_text and a_text not in common and b_text not in common:
                best = max(best, fuzz.token_set_ratio(a_text, b_text) / 100)
    return best


def mention(left: Cluster, right: Cluster) -> str | None:
    """A name of one side found in the other side's description (whole words)."""
    for names, descriptions in ((right.names, left.descriptions), (left.names, right.descriptions)):
        for name in names:
            text = normalise_text(name)
            if len(text) < MIN_MENTION_CHARS:
                continue
            for description in descriptions:
                if f" {text} " in f" {description} ":
                    return name
    return None


@dataclass
class ChannelEvidence:
    left: Cluster
    right: Cluster
    names: float
    mentioned: str | None
    pairs: list[PairScore]
    smaller_side: int  # episodes on the side with fewer
    views: dict[int, EpisodeView] = field(default_factory=dict)  # the paired episodes', by key
    schedule: Alignment | None = None  # the episodes were paired by schedule, not titles

    @property
    def matched(self) -> int:
        return len(self.pairs)

    @property
    def overlap(self) -> float:
        return self.matched / self.smaller_side if self.smaller_side else 0.0

    @property
    def confidence(self) -> float:
        if not self.pairs:
            return 0.0
        mean = sum(p.probability for p in self.pairs) / len(self.pairs)
        return round(min(1.0, self.overlap) * mean, 4)

    @property
    def explanation(self) -> str:
        left = self.left.record_labels[0] if self.left.record_labels else self.left.channel_id
        right = ", ".join(self.right.record_labels) or str(self.right.channel_id)
        paired = (
            self.schedule.summary
            if self.schedule
            else f"{self.matched} of {self.smaller_side} episodes pair up"
        )
        parts = [f"{left} ~ {right}: {paired} (overlap {self.overlap:.2f})"]
        parts.append(f"names {self.names:.2f}")
        if self.mentioned:
            parts.append(f"description mentions '{self.mentioned}'")
        return "; ".join(parts) + f"; confidence {self.confidence:.3f}"


def decide(evidence: ChannelEvidence) -> bool:
    if evidence.schedule is not None:
        return evidence.schedule.aligned and (
            evidence.names >= SCHEDULE_MIN_NAME_SIMILARITY or evidence.mentioned is not None
        )
    needed = min(MIN_MATCHED, evidence.smaller_side)
    return (
        evidence.smaller_side > 0
        and evidence.matched >= max(needed, 1)
        and evidence.overlap >= MIN_EPISODE_OVERLAP
        and (evidence.names >= MIN_NAME_SIMILARITY or evidence.mentioned is not None)
    )
