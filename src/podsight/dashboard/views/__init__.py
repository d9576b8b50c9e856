"""The dashboard's pages, in the order of its navigation. (Not named `pages`: Streamlit
would take a `pages/` folder beside the app for scripts of its own older page scheme.)

Each page is a module with ``render(client)``; it reads and acts only through the
:class:`~podsight.dashboard.client.ApiClient` it is given (tests hand it a stub).
``staff`` pages are offered to staff only (the API refuses others anyway)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

__all__ = ["PAGES", "Page", "page"]


@dataclass(frozen=True)
class Page:
    slug: str  # URL path and module name
    title: str
    icon: str
    staff: bool = False

    @property
    def module(self) -> ModuleType:
        return importlib.import_module(f"podsight.dashboard.views.{self.slug}")


PAGES: tuple[Page, ...] = (
    Page("overview", "Overview", ":material/dashboard:"),
    Page("catalog", "Catalog", ":material/library_books:"),
    Page("match", "Match review", ":material/join:", staff=True),
    Page("listening", "Listening", ":material/headphones:"),
    Page("recommendations", "Recommendations", ":material/recommend:"),
    Page("content", "Content", ":material/search:"),
    Page("directory", "Directory", ":material/travel_explore:"),
    Page("pipeline", "Pipeline", ":material/account_tree:", staff=True),
)


def page(slug: str) -> Page:
    for found in PAGES:
        if found.slug == slug:
            return found
    raise KeyError(slug)
