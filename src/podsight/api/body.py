"""Reading a request body under a limit of our own.

Django's ``request.body`` refuses anything over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), which
a full batch of events or a first gPodder sync can exceed legitimately."""

from __future__ import annotations

from django.http import HttpRequest

from podsight.errors import InputError

__all__ = ["BodyTooLarge", "read_body"]


class BodyTooLarge(InputError, ValueError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"The body is larger than {limit >> 20} MB.")
        self.limit = limit


def read_body(request: HttpRequest, limit: int) -> bytes:
    """The raw body, or :class:`BodyTooLarge` (checked before reading when the client
    states its length, and again while reading when it does not)."""
    length = request.META.get("CONTENT_LENGTH")
    if length and length.isdigit() and int(length) > limit:
        raise BodyTooLarge(limit)
    body = request.read(limit + 1)
    if len(body) > limit:
        raise BodyTooLarge(limit)
    return body
