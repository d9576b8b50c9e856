"""Reports of the steps whose work has no report of its own in a domain module (account
and review actions, the schema, the server): small dataclasses of plain values, so any
front end can render them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the domain modules need Django; these are only types here
    from podsight.accounts.services import TokenInfo, UserInfo
    from podsight.matching.review import LinkRow

__all__ = [
    "DashboardServed",
    "LinkAction",
    "LinkList",
    "Migrated",
    "Served",
    "TokenCreated",
    "TokenList",
    "UserCreated",
]


@dataclass(frozen=True)
class TokenCreated:
    """A new token and its key: shown once, only a digest is kept."""

    token: TokenInfo
    key: str


@dataclass(frozen=True)
class TokenList:
    tokens: list[TokenInfo]


@dataclass(frozen=True)
class UserCreated:
    user: UserInfo


@dataclass(frozen=True)
class LinkList:
    """Links per entity (``channel``, ``episode``), newest first; ``status`` as asked
    (None: any)."""

    status: str | None
    links: dict[str, list[LinkRow]] = field(default_factory=dict)


@dataclass(frozen=True)
class LinkAction:
    """A review action done: ``record`` as given (an id or ``source:external_id``),
    ``record_id`` the record's id, ``canonical_id`` the channel/episode it is now in."""

    action: str  # confirm, reject, force
    entity: str
    record: str
    record_id: int | None
    canonical_id: int | None


@dataclass(frozen=True)
class Migrated:
    """Migrations applied by this step (none when the schema was current already)."""

    applied: list[str]


@dataclass(frozen=True)
class DashboardServed:
    """The dashboard's server, run until stopped."""

    host: str
    port: int
    api_url: str
    exit_status: int


@dataclass(frozen=True)
class Served:
    """A server that ran until stopped."""

    host: str
    port: int
    workers: int
    threads: int
