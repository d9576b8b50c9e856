"""How well search finds what the demo's non-English shows say, with the English model.

Loads the demo world (seed 16 by default: it has shows with transcripts in all six
languages) into a fresh ``PODSIGHT_HOME`` through the real ``demo.load`` step (feeds,
transcripts fetched from the demo server, passages, embeddings, index), then asks
questions about what the episodes say and checks whether search returns the episode:

- *specific*: a paraphrase of one episode's statement with its place and number (the
  second sentence of a block: "a team in Lyon checked 37 answers by hand"); the answer
  is the episode(s) saying exactly that;
- *topical*: a paraphrase of a block's general statement, without names; the answer is
  any episode of that show that talks about it.

Each is asked in the show's language and as an English paraphrase of the same fact, by
vector, keyword and hybrid search (``podsight.content.search.search``, no filters), and
scored hit@1 and hit@5 over all demo episodes. The queries are written here by hand
(paraphrases, not copies of the templates in ``podsight/demo/talk.py``).

    .venv/bin/python bench/demo_search_languages.py [--seed 16] [--shows 24]
        [--per-language 40] [--home DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass

# Paraphrased questions per (language, category) and block title of podsight/demo/talk.py:
# (topical in the language, topical in English, specific in the language, specific in
# English); the specific ones take the episode's {place} and {n}.
QUERIES: dict[tuple[str, str], dict[str, tuple[str, str, str, str]]] = {
    ("en", "doc"): {
        "Main street": (
            "the high street lost its shops and the old cinema closed",
            "the high street lost its shops and the old cinema closed",
            "{n} vacant storefronts in {place}",
            "{n} vacant storefronts in {place}",
        ),
        "The inventor": (
            "forgotten woman who invented a collapsible umbrella",
            "forgotten woman who invented a collapsible umbrella",
            "her old workshop in {place} with {n} prototypes upstairs",
            "her old workshop in {place} with {n} prototypes upstairs",
        ),
        "Night shift": (
            "riding along with a bus driver on the overnight route",
            "riding along with a bus driver on the overnight route",
            "driver who has done the same route in {place} for {n} years",
            "driver who has done the same route in {place} for {n} years",
        ),
    },
    ("en", "langlearn"): {
        "The subjunctive": (
            "why learners are afraid of the subjunctive mood",
            "why learners are afraid of the subjunctive mood",
            "pupils in {place} learned the subjunctive in {n} weeks",
            "pupils in {place} learned the subjunctive in {n} weeks",
        ),
        "Idioms": (
            "expressions you cannot translate word for word",
            "expressions you cannot translate word for word",
            "{n} sayings gathered from teenagers in {place}",
            "{n} sayings gathered from teenagers in {place}",
        ),
        "Recording yourself": (
            "record your own voice to fix your accent",
            "record your own voice to fix your accent",
            "a class in {place} drilled {n} minimal pairs",
            "a class in {place} drilled {n} minimal pairs",
        ),
    },
    ("en", "politics"): {
        "Turnout": (
            "young people voted in record numbers",
            "young people voted in record numbers",
            "{n} percent of new voters turned out in {place}",
            "{n} percent of new voters turned out in {place}",
        ),
        "The council": (
            "council row over cycle lanes and parking spaces",
            "council row over cycle lanes and parking spaces",
            "plan approved by one vote after {n} hours of debate in {place}",
            "plan approved by one vote after {n} hours of debate in {place}",
        ),
        "The budget": (
            "what a government's spending plan says about its values",
            "what a government's spending plan says about its values",
            "{place} shifted {n} million from roads to housing",
            "{place} shifted {n} million from roads to housing",
        ),
    },
    ("es", "langlearn"): {
        "Phrasal verbs": (
            "cómo aprender los verbos compuestos del inglés sin memorizar listas",
            "how to learn English phrasal verbs without memorising lists",
            "estudiantes de {place} que aprendieron {n} expresiones en un mes",
            "students in {place} picked up {n} new expressions in a month",
        ),
        "La pronunciación": (
            "grabar tu voz y compararla con un hablante nativo para mejorar el acento",
            "record your voice and compare it with a native speaker to improve your accent",
            "una clase en {place} repitió {n} parejas de palabras hasta pronunciar bien",
            "a class in {place} drilled {n} word pairs until the vowels were right",
        ),
        "Las series": (
            "ver series en inglés con subtítulos para entender mejor",
            "watching shows in the original language with subtitles to understand more",
            "maratón de {n} capítulos en {place} antes de un examen",
            "binge-watched {n} episodes in {place} before an exam",
        ),
    },
    ("de", "soccer"): {
        "Pressing": (
            "warum Gegenpressing die Spieler so müde macht",
            "why high pressing tires the players out",
            "Team aus {place} ist {n} Kilometer in einem Match gelaufen",
            "the side from {place} ran {n} km in one game",
        ),
        "Nachwuchs": (
            "Vereine setzen lieber auf eigene Jugendspieler als auf teure Einkäufe",
            "clubs invest in their youth academy instead of expensive signings",
            "{n} Profifußballer aus der Jugendakademie in {place}",
            "{n} professionals came out of the academy in {place}",
        ),
        "Die Kurve": (
            "Stehplätze und Fankultur im Stadion",
            "standing terraces and fan culture in the stadium",
            "{n} tausend Anhänger auf der Südtribüne in {place}",
            "{n} thousand supporters on the south stand in {place}",
        ),
    },
    ("fr", "tech"): {
        "Les données": (
            "une IA dépend de la qualité de ses données d'entraînement",
            "an AI model is only as good as its training data",
            "une équipe de {place} a contrôlé {n} réponses du modèle à la main",
            "a team in {place} manually checked {n} of the model's answers",
        ),
        "Les bénévoles": (
            "les logiciels libres maintenus par très peu de bénévoles",
            "open source projects depend on a handful of volunteers",
            "un développeur de {place} a arrêté et la communauté s'en est aperçue",
            "a developer from {place} quit and the community noticed within a week",
        ),
        "La sécurité": (
            "les mots de passe par défaut oubliés sont la pire faille",
            "forgotten default passwords are the worst security hole",
            "{n} serveurs jamais mis à jour découverts à {place}",
            "{n} unpatched servers discovered in {place}",
        ),
    },
    ("fr", "comedy"): {
        "L'imprimante": (
            "l'imprimante du bureau que tout le monde déteste",
            "the office printer everybody hates",
            "l'imprimante surnommée Gérard à {place} s'est coincée {n} fois",
            "the printer nicknamed Gérard in {place} jammed {n} times",
        ),
        "Les réunions": (
            "une réunion inutile qui aurait pu être un mail",
            "a pointless meeting that could have been an email",
            "{n} minutes à {place} pour choisir la couleur des post-it",
            "{n} minutes in {place} to pick a sticky note colour",
        ),
        "Le pot de départ": (
            "la fête de départ d'un collègue que personne ne connaissait",
            "a leaving party for a colleague nobody really knew",
            "{n} parts de gâteau mangées à {place}",
            "{n} slices of cake eaten in {place}",
        ),
    },
    ("sv", "tech"): {
        "Frivilliga": (
            "öppen källkod som bara ett fåtal frivilliga håller i",
            "open source kept alive by only a few volunteers",
            "en utvecklare i {place} slutade och hela branschen märkte det",
            "a developer in {place} quit and the whole industry noticed",
        ),
        "Kodskolan": (
            "lär dig koda genom att bygga något du själv behöver",
            "learn to code by building something you need yourself",
            "kodskolan i {place} med {n} elever i år",
            "the coding school in {place} taught {n} students this year",
        ),
        "Lösenord": (
            "gamla standardlösenord är den största säkerhetsrisken",
            "old default passwords are the biggest security risk",
            "{n} servrar i {place} som aldrig uppdaterats",
            "{n} servers in {place} that were never updated",
        ),
    },
    ("pt", "technews"): {
        "O lançamento": (
            "novo smartphone com câmera melhor mas a mesma bateria",
            "new phone launch all about the camera, battery unchanged",
            "testes em {place} com {n} horas de tela",
            "battery test in {place} lasted {n} hours of screen time",
        ),
        "A regulação": (
            "governo quer obrigar as big techs a abrir as lojas de apps",
            "regulators want big tech to open app stores to rivals",
            "audiência de {n} horas em {place} sem decisão",
            "{n}-hour hearing in {place} ended without a ruling",
        ),
        "Os golpes": (
            "golpistas que imitam a voz de familiares pelo telefone",
            "phone scams that imitate relatives' voices",
            "{n} casos de golpe registrados pela polícia de {place}",
            "police in {place} logged {n} scam cases last month",
        ),
    },
    ("pt", "soccer"): {
        "A pressão": (
            "por que marcar sob pressão no campo de ataque cansa o time",
            "why pressing high up the pitch exhausts the team",
            "o time de {place} correu {n} km numa partida",
            "the {place} side ran {n} kilometres in one match",
        ),
        "As transferências": (
            "boatos de contratação que viram manchete",
            "transfer rumours that become headlines",
            "atacante de {place} vendido por {n} milhões",
            "striker from {place} sold for {n} million",
        ),
        "A arquibancada": (
            "torcida lotando os jogos de futebol das mulheres",
            "crowds filling stadiums for women's football",
            "{n} mil ingressos vendidos para o clássico em {place}",
            "{n} thousand tickets sold for the derby in {place}",
        ),
    },
}
METHODS = ("vector", "keyword", "hybrid")


@dataclass
class Query:
    language: str  # the show's
    asked_in: str  # "native" | "english"
    kind: str  # "specific" | "topical"
    text: str
    answers: frozenset[int]  # catalog episode ids


def _queries(seed: int, shows: int, per_language: int) -> list[Query]:
    from podsight.catalog.models import Episode
    from podsight.content.models import EpisodeTranscript
    from podsight.demo import build_world
    from podsight.demo.documents import category_of, episode_script

    world = build_world(seed=seed, shows=shows)
    ids = dict(Episode.objects.values_list("enclosure_url", "id"))
    # The episodes search can find by what they say.
    stored = set(
        EpisodeTranscript.objects.filter(version__gt=0).values_list("episode_id", flat=True)
    )
    rng = random.Random(seed)
    out: list[Query] = []
    # Every (episode, block) told, by language: the place and number make it specific.
    told: dict[str, list[tuple[int, tuple[str, str, str, str], dict[str, str]]]] = defaultdict(list)
    # (language, category, show, block) -> the episodes telling it
    topical: dict[tuple[str, str, str, str], set[int]] = defaultdict(set)
    for show in world.shows:
        category = category_of(show) or ""
        blocks = QUERIES.get((show.language, category))
        if blocks is None:
            continue
        for ep in show.episodes:
            episode_id = ids.get(ep.enclosure_url)
            if episode_id is None or episode_id not in stored:
                continue
            for fact in episode_script(world, show, ep).facts:
                told[show.language].append((episode_id, blocks[fact.title], fact.values))
                topical[(show.language, category, show.slug, fact.title)].add(episode_id)
    for language, instances in told.items():
        # Two episodes may say the very same thing (same place and number): both answer.
        answers: dict[str, set[int]] = defaultdict(set)
        for episode_id, templates, values in instances:
            answers[templates[2].format(**values)].add(episode_id)
        rng.shuffle(instances)
        for _episode_id, templates, values in instances[:per_language]:
            native = templates[2].format(**values)
            asked = [("native", native), ("english", templates[3].format(**values))]
            for asked_in, text in asked[: 1 if language == "en" else 2]:
                out.append(Query(language, asked_in, "specific", text, frozenset(answers[native])))
    for (language, category, _slug, title), episodes in sorted(topical.items()):
        native, english = QUERIES[(language, category)][title][:2]
        for asked_in, text in [("native", native), ("english", english)][
            : 1 if language == "en" else 2
        ]:
            out.append(Query(language, asked_in, "topical", text, frozenset(episodes)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--shows", type=int, default=24)
    parser.add_argument("--per-language", type=int, default=40, help="specific queries each")
    parser.add_argument("--home", help="an existing PODSIGHT_HOME with this world loaded")
    args = parser.parse_args()
    if args.home is None:
        os.environ["PODSIGHT_HOME"] = tempfile.mkdtemp(prefix="podsight-bench-demo-")
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["PODSIGHT_HOME"] = args.home
    from podsight.pipeline import run_step

    if args.home is None:
        started = time.perf_counter()
        report = run_step("demo.load", seed=args.seed, shows=args.shows, apis=False)
        total = time.perf_counter() - started
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in report.timings.items())
        print(f"demo.load seed {args.seed}, {args.shows} shows, no APIs: {total:.1f} s ({parts})")
        t, a = report.transcripts, report.analysis
        print(f"  transcripts: {t.stored} stored, {t.failed} failed, {t.no_link} without a link")
        print(f"  analysis: {a.analysed} episodes ({a.notes_only} from notes only), "
              f"{a.passages_report.passages} passages, {a.sponsor_segments} ad reads in "
              f"{a.sponsored_episodes} episodes")  # fmt: skip
    from podsight.bootstrap import setup_django
    from podsight.content.search import search

    setup_django()
    queries = _queries(args.seed, args.shows, args.per_language)
    hits: dict[tuple[str, str, str, str], list[tuple[int, int]]] = defaultdict(list)
    for q in queries:
        for method in METHODS:
            found = [r.episode_id for r in search(q.text, method=method, limit=5).results]
            hit1 = int(bool(found) and found[0] in q.answers)
            hit5 = int(any(e in q.answers for e in found[:5]))
            hits[(q.language, q.kind, q.asked_in, method)].append((hit1, hit5))
    print()
    print("| language | queries | asked in | " + " | ".join(
        f"{m} hit@1 | {m} hit@5" for m in METHODS) + " |")  # fmt: skip
    print("|---|---|---|" + "---|---|" * len(METHODS))
    for kind in ("specific", "topical"):
        print(f"| **{kind}** | | |" + " | |" * len(METHODS))
        for language in ("en", "es", "de", "fr", "pt", "sv"):
            for asked_in in ("native", "english"):
                if language == "en" and asked_in == "english":
                    continue
                rows = [hits.get((language, kind, asked_in, m), []) for m in METHODS]
                if not rows[0]:
                    continue
                cells = []
                for row in rows:
                    cells += [f"{sum(h for h, _ in row) / len(row):.2f}",
                              f"{sum(h for _, h in row) / len(row):.2f}"]  # fmt: skip
                label = "English" if asked_in == "english" else language
                print(f"| {language} | {len(rows[0])} | {label} | " + " | ".join(cells) + " |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
