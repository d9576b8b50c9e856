"""``podsight recs offline``: train on any interaction file, write the top n per user.

For external harnesses (RecBole, a competition's scorer, a notebook): the input is a CSV
with a header naming ``user_id,item_id,weight`` and optionally ``timestamp`` (ids are
strings, kept as written); the output is ``user_id,rank,item_id,score`` for each user of
the users file, best first, never an item the user has in the training file.

- A weight > 0 is a positive interaction (its confidence); a weight ≤ 0 marks the item
  as rejected by that user: never recommended to them, and a negative signal for models
  that use one. Repeated (user, item) rows add their weights up.
- A file carries no catalog content, so only the models that need none run (the CF
  models and the baselines); the default is :data:`DEFAULT_MODEL`, the best CF model of
  our MovieLens measurement (``docs/recs.md``, "Measured").
- A user the file does not know gets the most popular items (by the number of users who
  had them), scored by that count.
"""

from __future__ import annotations

import csv
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from podsight.errors import InputError, UsageError
from podsight.progress import SILENT, Progress
from podsight.recs.core import ALGORITHMS, Dataset, algorithm

__all__ = ["DEFAULT_MODEL", "OfflineReport", "read_interactions", "read_users", "run_offline"]

# The best model without catalog content in our MovieLens-100k measurement (NDCG@10 0.483,
# docs/recs.md "Measured").
DEFAULT_MODEL = "ease"
_REQUIRED = ("user_id", "item_id", "weight")


@dataclass
class OfflineReport:
    model: str
    train: Path
    out: Path
    n: int
    interactions: int  # distinct (user, item) pairs read
    train_users: int
    train_items: int
    users: int  # listed
    unknown_users: int  # served the popular items
    rows_written: int
    fit_seconds: float = 0.0
    seconds: float = 0.0
    params: dict = field(default_factory=dict)


def read_interactions(path: Path, *, name: str = "") -> Dataset:
    """The interaction file as a :class:`Dataset` (users and items in order of first
    appearance). Bad rows are an :class:`InputError` naming the line."""
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise InputError(f"{path} does not exist; give the training file's path") from None
    except OSError as exc:
        raise InputError(f"{path} cannot be read ({exc.strerror or exc})") from None
    users: dict[str, int] = {}
    items: dict[str, int] = {}
    positive: dict[tuple[int, int], float] = {}
    negative: set[tuple[int, int]] = set()
    stamps: dict[tuple[int, int], float] = {}
    with handle:
        reader = csv.reader(handle)
        try:
            header = [h.strip().lower() for h in next(reader)]
        except StopIteration:
            raise InputError(
                f"{path} is empty; its first line must be the header user_id,item_id,weight"
            ) from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InputError(f"{path}, line 1: not a UTF-8 CSV header ({exc})") from None
        missing = [c for c in _REQUIRED if c not in header]
        if missing:
            raise InputError(
                f"{path}, line 1: the header {','.join(header)[:80]!r} lacks "
                f"{', '.join(missing)}; the first line must name the columns: "
                "user_id,item_id,weight[,timestamp]"
            )
        col = {c: header.index(c) for c in (*_REQUIRED, "timestamp") if c in header}
        line = 1
        try:
            for line, row in enumerate(reader, start=2):
                if not row or all(not cell.strip() for cell in row):
                    continue
                _add_row(path, line, row, col, users, items, positive, negative, stamps)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InputError(f"{path}, line {line + 1}: unreadable ({exc})") from None
    if not positive:
        raise InputError(f"{path} holds no interaction with a weight > 0 to learn from")
    shape = (len(users), len(items))
    keys = list(positive)
    rows = np.fromiter((k[0] for k in keys), dtype=np.int64, count=len(keys))
    cols = np.fromiter((k[1] for k in keys), dtype=np.int64, count=len(keys))
    matrix = sp.csr_matrix(
        (np.fromiter(positive.values(), dtype=np.float32, count=len(keys)), (rows, cols)),
        shape=shape,
    )
    negatives = None
    if negative:
        neg = list(negative)
        negatives = sp.csr_matrix(
            (np.ones(len(neg), dtype=np.float32), ([k[0] for k in neg], [k[1] for k in neg])),
            shape=shape,
        )
    timestamps = None
    now = 0.0
    if stamps:
        timed = list(stamps)
        values = [stamps[k] for k in timed]
        timestamps = sp.csr_matrix(
            (values, ([k[0] for k in timed], [k[1] for k in timed])), shape=shape, dtype=np.float64
        )
        now = max(values)
    return Dataset(
        users=list(users),
        items=list(items),
        matrix=matrix,
        negatives=negatives,
        timestamps=timestamps,
        now=now,
        name=name or path.name,
    )


def _add_row(
    path: Path,
    line: int,
    row: list[str],
    col: dict[str, int],
    users: dict[str, int],
    items: dict[str, int],
    positive: dict[tuple[int, int], float],
    negative: set[tuple[int, int]],
    stamps: dict[tuple[int, int], float],
) -> None:
    def bad(why: str) -> InputError:
        shown = ",".join(row)[:80]
        return InputError(f"{path}, line {line}: {why} (in {shown!r})")

    if len(row) <= max(col.values()):
        raise bad(f"{len(row)} columns where the header names {max(col.values()) + 1}")
    user, item = row[col["user_id"]].strip(), row[col["item_id"]].strip()
    if not user or not item:
        raise bad("an empty user_id or item_id")
    try:
        weight = float(row[col["weight"]])
    except ValueError:
        raise bad(f"weight {row[col['weight']].strip()!r} is not a number") from None
    if not math.isfinite(weight):
        raise bad(f"weight {weight} is not a finite number")
    stamp = None
    if "timestamp" in col and row[col["timestamp"]].strip():
        raw = row[col["timestamp"]].strip()
        try:
            stamp = float(raw)
        except ValueError:
            raise bad(f"timestamp {raw!r} is not epoch seconds") from None
    key = (users.setdefault(user, len(users)), items.setdefault(item, len(items)))
    if weight > 0:
        positive[key] = positive.get(key, 0.0) + weight
    else:
        negative.add(key)
    if stamp is not None:
        stamps[key] = max(stamps.get(key, stamp), stamp)


def read_users(path: Path) -> list[str]:
    """The users file: one user id per line (blank lines skipped, repeats once)."""
    path = Path(path)
    try:
        text = path.read_text("utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path} does not exist; give a file with one user id per line") from None
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text (one user id per line)") from None
    except OSError as exc:
        raise InputError(f"{path} cannot be read ({exc.strerror or exc})") from None
    seen: dict[str, None] = {}
    for line in text.splitlines():
        user = line.strip()
        if user:
            seen.setdefault(user)
    if not seen:
        raise InputError(f"{path} names no user; write one user id per line")
    return list(seen)


def run_offline(
    train: Path,
    users: Path,
    out: Path,
    *,
    n: int = 10,
    model: str | None = None,
    progress: Progress = SILENT,
) -> OfflineReport:
    """Fit ``model`` on ``train``, write the top ``n`` of each user of ``users`` to ``out``."""
    if n < 1:
        raise UsageError(f"n must be at least 1, not {n}")
    name = model or DEFAULT_MODEL
    if name not in ALGORITHMS:
        raise UsageError(
            f"no recommender named {name!r}; without catalog content choose from "
            f"{', '.join(sorted(ALGORITHMS))} (those that need no catalog)"
        )
    started = time.perf_counter()
    data = read_interactions(train)
    listed = read_users(users)
    try:
        cls = algorithm(name)
    except (ModuleNotFoundError, AttributeError) as exc:
        raise UsageError(f"the model {name!r} is not available in this build ({exc})") from None
    if not cls.supports(data):
        raise UsageError(
            f"{name} needs catalog content ({', '.join(cls.requires)}) that an interaction "
            "file does not carry; use a collaborative-filtering model: "
            + ", ".join(sorted(m for m in ALGORITHMS if not algorithm_requires(m)))
        )
    recommender = cls()
    fit_started = time.perf_counter()
    recommender.fit(data, progress=progress)
    fit_seconds = time.perf_counter() - fit_started
    index = {u: i for i, u in enumerate(data.users)}
    popularity = np.asarray((data.matrix != 0).sum(axis=0)).ravel()
    popular = np.argsort(-popularity, kind="stable")
    data.seen = data.seen_matrix()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    written = unknown = 0
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "rank", "item_id", "score"])
        with progress.task("recommending", total=len(listed)) as task:
            for at in range(0, len(listed), 256):
                chunk = listed[at : at + 256]
                known = [u for u in chunk if u in index]
                answers = dict(
                    zip(
                        known,
                        recommender.recommend_many([data.history(index[u]) for u in known], n),
                        strict=True,
                    )
                )
                for user in chunk:
                    scored = answers.get(user)
                    if scored is None:
                        unknown += 1
                        ranked = [(int(i), float(popularity[i])) for i in popular[:n]]
                    else:
                        ranked = list(zip(scored.items.tolist(), scored.scores.tolist(),
                                          strict=True))  # fmt: skip
                    for rank, (item, score) in enumerate(ranked[:n], start=1):
                        writer.writerow([user, rank, data.items[item], f"{score:.6g}"])
                        written += 1
                task.advance(len(chunk))
    tmp.replace(out)
    return OfflineReport(
        model=name,
        train=Path(train),
        out=out,
        n=n,
        interactions=int(data.matrix.nnz),
        train_users=data.n_users,
        train_items=data.n_items,
        users=len(listed),
        unknown_users=unknown,
        rows_written=written,
        fit_seconds=fit_seconds,
        seconds=time.perf_counter() - started,
        params=dict(recommender.params),
    )


def algorithm_requires(name: str) -> tuple[str, ...]:
    """The facts model ``name`` needs; () for the models an interaction file can feed
    (a model whose module cannot be imported counts as needing something)."""
    try:
        return tuple(algorithm(name).requires)
    except (ModuleNotFoundError, AttributeError):
        return ("its module",)
