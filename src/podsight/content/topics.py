"""Topics of an episode: zero-shot labels from the Podcast Index category taxonomy.

Each category has a description written here: a few facets of what shows in it talk about
("golf, golfers, the PGA tour, …"; ";" separates longer facets). Every facet is embedded
once per process with the passages' embedder. An episode is its *centroid*: the mean of
its passages' vectors (ad reads left out), which keeps what the whole episode is about and
washes out a passing remark. A category's score is the centroid's best cosine to one of
its facets, less the category's *bias*: the same score for content-free talk ("yeah, I
think that's right, you know"), so descriptions that sound like talk itself (after-shows,
interviews) do not win every conversation ("calibrate before use", Zhao et al. 2021).

Kept: the best :data:`MAX_TOPICS` categories scoring at least :data:`MIN_SCORE` and within
:data:`MARGIN` of the best. docs/content.md gives the results on the real transcripts.

The category ids and names are facts of Podcast Index's taxonomy
(``/api/1.0/categories/list``); ``tests/content/test_topics.py`` keeps them equal to the
reference copy in the shared corpus, which is never read at run time.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from podsight.content.embed import Embedder, get_embedder
from podsight.content.segments import Passage

__all__ = [
    "CATEGORIES",
    "MARGIN",
    "MAX_TOPICS",
    "MIN_SCORE",
    "Category",
    "LabelSpace",
    "episode_topics",
    "label_space",
    "score_topics",
]

MIN_SCORE = 0.12
MARGIN = 0.1
MAX_TOPICS = 3


@dataclass(frozen=True, slots=True)
class Category:
    id: int  # Podcast Index's category id
    name: str  # Podcast Index's name
    parent: str  # the Apple Podcasts category it sits under, "" for a top-level one
    description: str  # ours: facets of what shows in it talk about, for zero-shot scoring

    @property
    def facets(self) -> list[str]:
        parts = (
            self.description.split(";")
            if ";" in self.description
            else re.split(r",| and ", self.description)
        )
        return [p.strip() for p in parts if p.strip()]


CATEGORIES: tuple[Category, ...] = (
    Category(1, "Arts", "", "arts, painting, literature, theatre, creative culture and artists"),
    Category(2, "Books", "Arts", "books, novels, authors, reading, book reviews and writing"),
    Category(
        3,
        "Design",
        "Arts",
        "design, graphic design, architecture, typography and product design",
    ),
    Category(4, "Fashion", "Arts", "fashion, clothing, style, designers and the fashion industry"),
    Category(5, "Beauty", "Arts", "beauty, makeup, skincare, cosmetics and hair"),
    Category(6, "Food", "Arts", "food, cooking, recipes, restaurants, chefs and eating"),
    Category(7, "Performing", "Arts", "performing arts, theatre, dance, opera, acting on stage"),
    Category(
        8,
        "Visual",
        "Arts",
        "visual arts, painting, photography, sculpture, galleries and museums",
    ),
    Category(9, "Business", "", "business, companies, the economy, markets, money and industry"),
    Category(
        10,
        "Careers",
        "Business",
        "careers, jobs, hiring, job interviews, the workplace and professional growth",
    ),
    Category(
        11,
        "Entrepreneurship",
        "Business",
        "entrepreneurship, startups, founders, small business and building a company",
    ),
    Category(
        12,
        "Investing",
        "Business",
        "investing, stocks, the stock market, trading, funds, portfolios and personal finance",
    ),
    Category(
        13,
        "Management",
        "Business",
        "management, leadership, teams, managers and organisations",
    ),
    Category(14, "Marketing", "Business", "marketing, advertising, brands, sales and growth"),
    Category(
        15,
        "Non-Profit",
        "Business",
        "non-profit organisations, charities, fundraising and philanthropy",
    ),
    Category(16, "Comedy", "", "comedy, jokes, funny stories, humour and comedians"),
    Category(
        17,
        "Interviews",
        "Comedy",
        "comedians interviewed about their lives and comedy careers",
    ),
    Category(18, "Improv", "Comedy", "improv comedy, improvised scenes and sketches"),
    Category(
        19,
        "Stand-Up",
        "Comedy",
        "stand-up comedy, comedians on stage, comedy clubs and sets",
    ),
    Category(20, "Education", "", "education, teaching, schools, students and learning"),
    Category(21, "Courses", "Education", "courses, lectures, lessons and exam preparation"),
    Category(22, "How-To", "Education", "how-to guides, tutorials, tips and step-by-step advice"),
    Category(
        23,
        "Language",
        "Education",
        "learning a foreign language, vocabulary, grammar and pronunciation",
    ),
    Category(24, "Learning", "Education", "learning new skills, studying and self-education"),
    Category(
        25,
        "Self-Improvement",
        "Education",
        "self-improvement, motivation, habits, mindset, productivity and personal growth",
    ),
    Category(26, "Fiction", "", "fiction, audio drama, storytelling and invented stories"),
    Category(
        27,
        "Drama",
        "Fiction",
        "audio drama, radio plays, fictional characters and scripted stories",
    ),
    Category(28, "History", "", "history, historical events, wars, empires and the past"),
    Category(29, "Health", "", "health, medicine, wellbeing, the body and disease"),
    Category(
        30,
        "Fitness",
        "Health",
        "fitness, exercise, workouts, training, the gym and strength",
    ),
    Category(
        31,
        "Alternative",
        "Health",
        "alternative health, natural remedies, holistic healing and supplements",
    ),
    Category(
        32,
        "Medicine",
        "Health",
        "medicine, doctors, nurses, patients, diseases, diagnosis and treatment",
    ),
    Category(
        33,
        "Mental",
        "Health",
        "mental health, anxiety, depression, therapy, stress and emotions",
    ),
    Category(
        34,
        "Nutrition",
        "Health",
        "nutrition, diet, healthy eating, vitamins and weight loss",
    ),
    Category(35, "Sexuality", "Health", "sexuality, sex, sexual health and intimacy"),
    Category(36, "Kids", "", "children's stories and shows for kids"),
    Category(37, "Family", "Kids", "family life, children, parents and raising kids"),
    Category(
        38,
        "Parenting",
        "Kids",
        "parenting, raising children, babies, toddlers and teenagers",
    ),
    Category(39, "Pets", "Kids", "pets, dogs, cats and caring for animals at home"),
    Category(40, "Animals", "Kids", "animals, wildlife and creatures"),
    Category(41, "Stories", "Kids", "bedtime stories and tales for children"),
    Category(42, "Leisure", "", "leisure, hobbies and free time"),
    Category(43, "Animation", "Leisure", "animation, cartoons and animated films"),
    Category(44, "Manga", "Leisure", "manga, anime and Japanese comics"),
    Category(45, "Automotive", "Leisure", "cars, automobiles, driving, car reviews and motorsport"),
    Category(46, "Aviation", "Leisure", "aviation, airplanes, pilots, flying and airlines"),
    Category(
        47,
        "Crafts",
        "Leisure",
        "crafts, knitting, sewing, woodworking and making things by hand",
    ),
    Category(48, "Games", "Leisure", "games, board games, card games and puzzles"),
    Category(49, "Hobbies", "Leisure", "hobbies, collecting and pastimes"),
    Category(
        50,
        "Home",
        "Leisure",
        "home improvement, renovation, interior decoration and housekeeping",
    ),
    Category(
        51,
        "Garden",
        "Leisure",
        "gardening, plants, vegetables, flowers, soil and growing food",
    ),
    Category(
        52,
        "Video-Games",
        "Leisure",
        "video games, gaming, consoles, Nintendo, PlayStation, Xbox and game reviews",
    ),
    Category(53, "Music", "", "music, songs, albums, musicians and bands"),
    Category(54, "Commentary", "Music", "commentary and opinion on current events and culture"),
    Category(55, "News", "", "news, current events and headlines"),
    Category(56, "Daily", "News", "a daily news briefing of today's headlines"),
    Category(
        57,
        "Entertainment",
        "News",
        "entertainment news, celebrities, Hollywood, gossip and pop culture",
    ),
    Category(
        58,
        "Government",
        "",
        "government, public policy, public administration, agencies and law",
    ),
    Category(
        59,
        "Politics",
        "News",
        "politics, elections, politicians, parties, Congress and the president",
    ),
    Category(60, "Buddhism", "Religion", "Buddhism, the Buddha, meditation and dharma"),
    Category(
        61,
        "Christianity",
        "Religion",
        "Christianity, Jesus, God, the Bible, church, faith and prayer",
    ),
    Category(62, "Hinduism", "Religion", "Hinduism, Hindu gods, yoga philosophy and the Vedas"),
    Category(63, "Islam", "Religion", "Islam, Muslims, the Quran, Allah and the mosque"),
    Category(
        64,
        "Judaism",
        "Religion",
        "Judaism, Jewish life, the Torah, rabbis and the synagogue",
    ),
    Category(65, "Religion", "", "religion, faith, belief, churches and spirituality"),
    Category(
        66,
        "Spirituality",
        "Religion",
        "spirituality, the soul, meditation, energy and the spiritual path",
    ),
    Category(67, "Science", "", "science, research, scientists, experiments and discovery"),
    Category(
        68,
        "Astronomy",
        "Science",
        "astronomy, space, planets, stars, telescopes and the universe",
    ),
    Category(69, "Chemistry", "Science", "chemistry, molecules, chemical reactions and elements"),
    Category(70, "Earth", "Science", "earth sciences, geology, oceans, volcanoes and earthquakes"),
    Category(71, "Life", "Science", "life sciences, biology, cells, genetics and evolution"),
    Category(
        72,
        "Mathematics",
        "Science",
        "mathematics, numbers, equations, proofs and statistics",
    ),
    Category(73, "Natural", "Science", "natural sciences and the natural world"),
    Category(74, "Nature", "Science", "nature, forests, wilderness, plants and wildlife"),
    Category(
        75,
        "Physics",
        "Science",
        "physics, particles, energy, quantum mechanics and relativity",
    ),
    Category(
        76,
        "Social",
        "Science",
        "social sciences, psychology, sociology, economics and anthropology",
    ),
    Category(77, "Society", "", "society, social issues and how people live together"),
    Category(78, "Culture", "Society", "culture, traditions, identity and cultural trends"),
    Category(
        79,
        "Documentary",
        "Society",
        "documentary reporting, investigations and true stories",
    ),
    Category(80, "Personal", "Society", "personal stories, life experiences and reflections"),
    Category(81, "Journals", "Society", "personal journals, diaries and everyday life"),
    Category(82, "Philosophy", "Society", "philosophy, ethics, philosophers, meaning and ideas"),
    Category(83, "Places", "Society", "places, cities, countries and local communities"),
    Category(84, "Travel", "Society", "travel, trips, destinations, tourism and adventures abroad"),
    Category(
        85,
        "Relationships",
        "Society",
        "relationships, dating, love, marriage and friendship",
    ),
    Category(86, "Sports", "", "sports, athletes, teams, games, coaches and leagues"),
    Category(87, "Baseball", "Sports", "baseball, MLB, pitchers, innings, home runs and batting"),
    Category(88, "Basketball", "Sports", "basketball, the NBA, players, points and the playoffs"),
    Category(89, "Cricket", "Sports", "cricket, batsmen, bowlers, wickets and test matches"),
    Category(
        90,
        "Fantasy",
        "Sports",
        "fantasy sports leagues; managers of fantasy teams scoring fantasy points",
    ),
    Category(
        91,
        "Football",
        "Sports",
        "American football, the NFL, quarterbacks, touchdowns and the draft",
    ),
    Category(92, "Golf", "Sports", "golf, golfers, the PGA tour, courses and swings"),
    Category(93, "Hockey", "Sports", "ice hockey, the NHL, goals and the Stanley Cup"),
    Category(94, "Rugby", "Sports", "rugby, scrums, tries and rugby union"),
    Category(95, "Running", "Sports", "running, marathons, runners and races"),
    Category(
        96,
        "Soccer",
        "Sports",
        "soccer, association football, the Premier League, goals and the World Cup",
    ),
    Category(97, "Swimming", "Sports", "swimming, swimmers, pools and races in the water"),
    Category(98, "Tennis", "Sports", "tennis, tennis players, Wimbledon and grand slams"),
    Category(99, "Volleyball", "Sports", "volleyball, beach volleyball and spikes"),
    Category(100, "Wilderness", "Sports", "wilderness, hiking, camping, survival and the outdoors"),
    Category(
        101,
        "Wrestling",
        "Sports",
        "wrestling, professional wrestling, the WWE and wrestlers",
    ),
    Category(
        102,
        "Technology",
        "",
        "technology; programming, code and software engineering; open source software and "
        "developers; web development, JavaScript and browsers; cloud infrastructure, servers "
        "and DevOps; machine learning models, neural networks and training data; artificial "
        "intelligence research; computers, gadgets and the internet; the tech industry and "
        "tech companies",
    ),
    Category(
        103,
        "True Crime",
        "",
        "true crime, murders, killers, police investigations, trials and unsolved cases",
    ),
    Category(104, "TV", "", "television, TV shows, series and streaming"),
    Category(105, "Film", "TV", "films, movies, cinema, directors and actors"),
    Category(106, "After-Shows", "TV", "after-show discussions of the latest TV episodes"),
    Category(107, "Reviews", "TV", "reviews of films and TV series"),
    Category(108, "Climate", "", "climate change, global warming, emissions and the environment"),
    Category(109, "Weather", "Climate", "weather, forecasts, storms, heat and rain"),
    Category(110, "Tabletop", "Games", "tabletop games, board games and miniatures"),
    Category(111, "Role-Playing", "Games", "role-playing games, Dungeons & Dragons and campaigns"),
    Category(
        112,
        "Cryptocurrency",
        "Business",
        "cryptocurrency, Bitcoin, Ethereum, blockchain, crypto tokens and NFTs",
    ),
)

# Talk without a subject: each category's score for it is the category's bias.
_CONTENT_FREE = (
    "Yeah, yeah, I think that's right. You know what I mean? It's kind of like that.",
    "Welcome back to the show, everybody. Thanks for being here, it's great to have you.",
    "So, um, what do you think about that? I mean, it's interesting, right?",
    "That's a good question. Let me think about it for a second. Okay, so here's the thing.",
    "Thanks so much for listening. See you next week, and take care of yourselves.",
    "I totally agree with you. That's exactly what I was going to say, honestly.",
    "We'll be right back after this short break. Stay with us.",
    "And then he said something, and I was like, wait, what? And we both laughed.",
)


@dataclass(frozen=True)
class LabelSpace:
    """The facets' unit vectors, which category each belongs to, and each category's bias."""

    facets: np.ndarray  # (facets, dim)
    owner: np.ndarray  # (facets,) index into CATEGORIES
    bias: np.ndarray  # (len(CATEGORIES),)

    def best(self, vectors: np.ndarray) -> np.ndarray:
        """(len(vectors), len(CATEGORIES)): each vector's best cosine per category."""
        sims = np.asarray(vectors, dtype=np.float32) @ self.facets.T
        out = np.full((len(sims), len(CATEGORIES)), -1.0, dtype=np.float32)
        np.maximum.at(out.T, self.owner, sims.T)
        return out


_spaces: dict[str, LabelSpace] = {}
_lock = threading.Lock()


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


def label_space(embedder: Embedder | None = None) -> LabelSpace:
    """The categories' facets embedded (once per process and embedder)."""
    embedder = embedder or get_embedder()
    with _lock:
        if embedder.name not in _spaces:
            facets, owner = [], []
            for i, category in enumerate(CATEGORIES):
                for facet in category.facets:
                    facets.append(facet)
                    owner.append(i)
            vectors = embedder.encode(facets)
            empty = _unit(embedder.encode(list(_CONTENT_FREE)).mean(axis=0))
            space = LabelSpace(vectors, np.array(owner), np.zeros(len(CATEGORIES), np.float32))
            bias = space.best(empty[None, :])[0]
            _spaces[embedder.name] = LabelSpace(vectors, space.owner, bias)
        return _spaces[embedder.name]


def score_topics(vectors: np.ndarray, space: LabelSpace) -> np.ndarray:
    """Per category: the passages' centroid's best facet cosine, less the category's bias."""
    if len(vectors) == 0:
        return np.zeros(len(CATEGORIES), dtype=np.float32)
    centroid = _unit(np.asarray(vectors, dtype=np.float32).mean(axis=0))
    return space.best(centroid[None, :])[0] - space.bias


def episode_topics(
    passages: Sequence[Passage],
    *,
    skip: Iterable[int] = (),
    embedder: Embedder | None = None,
) -> list[dict]:
    """``[{"topic", "id", "parent", "score"}]``, best first, from the passages' vectors
    (ad reads in ``skip`` left out; passages without a vector are embedded here)."""
    skipped = set(skip)
    kept = [p for p in passages if p.passage_no not in skipped and p.text.strip()]
    if not kept:
        return []
    embedder = embedder or get_embedder()
    missing = [p for p in kept if p.vector is None]
    if missing:
        for p, v in zip(missing, embedder.encode([p.text for p in missing]), strict=True):
            p.vector = v
    scores = score_topics(np.stack([p.vector for p in kept]), label_space(embedder))
    order = sorted(range(len(CATEGORIES)), key=lambda i: (-scores[i], CATEGORIES[i].id))
    top = float(scores[order[0]])
    out = []
    for i in order[:MAX_TOPICS]:
        score = float(scores[i])
        if score < MIN_SCORE or score < top - MARGIN:
            break
        c = CATEGORIES[i]
        out.append({"topic": c.name, "id": c.id, "parent": c.parent, "score": round(score, 4)})
    return out
