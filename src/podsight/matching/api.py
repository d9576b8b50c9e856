"""``/api/links``: matched links to review, and the actions that correct them.

Reading is open like the rest of the catalog; the actions (confirm, reject, force) need an
API token with the ``links:review`` scope (``podsight tokens create NAME --scope
links:review``). The token's name is recorded as the actor of every override.
"""

from __future__ import annotations

from typing import Any

from django.db.models.fields.json import KT
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from podsight.accounts.auth import ApiTokenAuthentication, HasScope
from podsight.accounts.models import SCOPE_LINKS_REVIEW
from podsight.api.pagination import InvalidCursor, sign_cursor, unsign_cursor, valid_id
from podsight.api.params import RecordRefField, TextField, choice_param, int_param
from podsight.api.schema import error_response
from podsight.matching.details import HISTORY_LIMIT, PARTNER_LIMIT, link_detail, link_history
from podsight.matching.models import Entity
from podsight.matching.review import (
    LinkError,
    confirm_link,
    force_link,
    link_rows,
    public_explanation,
    reject_link,
)
from podsight.sources.models import LinkStatus, Source, SourceChannel, SourceEpisode

__all__ = [
    "LinkActionView",
    "LinkDetailView",
    "LinkForceView",
    "LinkHistoryView",
    "LinkListView",
]

MAX_PAGE = 500
MAX_PARTNERS = 20
DEFAULT_PAGE = 50
_ERROR_STATUS = {"not_found": 404, "bad_entity": 400, "bad_record": 400, "ambiguous": 400}


CONFLICT = "The link cannot change this way now (e.g. the records are already one)."


class RecordBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source = serializers.CharField()
    external_id = serializers.CharField()
    title = serializers.CharField(allow_blank=True)
    url = serializers.CharField(allow_blank=True)


class LinkItemSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="`channel:123` or `episode:456`.")
    entity = serializers.ChoiceField(choices=[e.value for e in Entity])
    record = RecordBriefSerializer()
    canonical_id = serializers.IntegerField(allow_null=True)
    status = serializers.CharField(allow_blank=True)
    method = serializers.CharField(allow_blank=True)
    confidence = serializers.FloatField(allow_null=True)
    explanation = serializers.CharField(allow_blank=True)
    linked_at = serializers.DateTimeField(allow_null=True)
    partners = RecordBriefSerializer(many=True)


class LinkPageSerializer(serializers.Serializer):
    results = LinkItemSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)


class _Conflict(exceptions.APIException):
    status_code = 409
    default_code = "conflict"


def _raise(error: LinkError):
    status = _ERROR_STATUS.get(error.code, 409)
    if status == 404:
        raise exceptions.NotFound(error.message, code=error.code)
    if status == 400:
        raise exceptions.ParseError(error.message, code=error.code)
    raise _Conflict(error.message, code=error.code)


def _record_brief(record: SourceChannel | SourceEpisode) -> dict[str, Any]:
    return {
        "id": record.pk,
        "source": record.source,
        "external_id": record.external_id,
        "title": record.data.get("title") or "",
        "url": record.url,
    }


def link_item(
    entity: str,
    record: SourceChannel | SourceEpisode,
    partners: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One link as the list shows it; ``partners`` (briefs) when the caller read them in
    bulk (:func:`_partner_briefs`), else read here."""
    field = "channel_id" if entity == Entity.CHANNEL else "episode_id"
    canonical = getattr(record, field)
    if partners is None and canonical is None:
        partners = []  # in no canonical row: "partners" would be every other such record
    if partners is None:
        model = SourceChannel if entity == Entity.CHANNEL else SourceEpisode
        rows = model.objects.filter(**{field: canonical}).exclude(pk=record.pk)
        partners = [_record_brief(p) for p in rows[:MAX_PARTNERS]]
    return {
        "id": f"{entity}:{record.pk}",
        "entity": entity,
        "record": _record_brief(record),
        "canonical_id": canonical,
        "status": record.link_status,
        "method": record.link_method,
        "confidence": record.link_confidence,
        "explanation": public_explanation(record.link_explanation),
        "linked_at": record.linked_at,
        "partners": partners,
    }


def _partner_briefs(entity: str, canonical_ids: set[int]) -> dict[int, list[dict[str, Any]]]:
    """The briefs of every record in these canonical rows, by row, in one query that reads
    titles only (an episode record's data holds its whole show notes)."""
    field = "channel_id" if entity == Entity.CHANNEL else "episode_id"
    model = SourceChannel if entity == Entity.CHANNEL else SourceEpisode
    rows = (
        model.objects.filter(**{f"{field}__in": canonical_ids})
        .annotate(brief_title=KT("data__title"))
        .order_by("id")
        .values_list("pk", "source", "external_id", "brief_title", "url", field)
    )
    by_row: dict[int, list[dict[str, Any]]] = {}
    for pk, source, external_id, title, url, canonical in rows:
        by_row.setdefault(canonical, []).append(
            {"id": pk, "source": source, "external_id": external_id, "title": title or "",
             "url": url}
        )  # fmt: skip
    return by_row


def _link_items(entity: str, records: list[Any]) -> list[dict[str, Any]]:
    field = "channel_id" if entity == Entity.CHANNEL else "episode_id"
    briefs = _partner_briefs(entity, {getattr(r, field) for r in records} - {None})
    items = []
    for record in records:
        mine = briefs.get(getattr(record, field), [])
        partners = [b for b in mine if b["id"] != record.pk][:MAX_PARTNERS]
        items.append(link_item(entity, record, partners))
    return items


def _cursor(token: str | None) -> tuple[int, int]:
    """(entity index, last record id) after which the page starts."""
    if token is None:
        return (0, 0)
    payload = unsign_cursor(token)
    if (
        not isinstance(payload, list)
        or len(payload) != 2
        or payload[0] not in (0, 1)
        or isinstance(payload[0], bool)
        or not valid_id(payload[1])
    ):
        raise InvalidCursor("not a cursor of the links list")
    return payload[0], payload[1]


def _encode(entity_index: int, last: int) -> str:
    return sign_cursor([entity_index, last])


class LinkListView(APIView):
    @extend_schema(
        summary="Matched links (method fuzzy or manual), channels first, then episodes",
        parameters=[
            OpenApiParameter("status", str, enum=[s.value for s in LinkStatus if s.value]),
            OpenApiParameter("entity", str, enum=[e.value for e in Entity]),
            OpenApiParameter("source", str, enum=[s.value for s in Source]),
            OpenApiParameter(
                "page_size",
                {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
                description=f"1–{MAX_PAGE} (default {DEFAULT_PAGE}).",
            ),
            OpenApiParameter(
                "cursor", str, description="`next_cursor` of the previous page (signed)."
            ),
        ],
        responses={200: LinkPageSerializer},
    )
    def get(self, request):
        params = request.query_params
        status = choice_param(params, "status", {s.value for s in LinkStatus if s.value})
        entity = choice_param(params, "entity", {e.value for e in Entity})
        source = choice_param(params, "source", {s.value for s in Source})
        size = int_param(params, "page_size", DEFAULT_PAGE, 1, MAX_PAGE)
        start_entity, after = _cursor(params.get("cursor"))
        querysets = link_rows(entity=entity, status=status, source=source)
        order = [Entity.CHANNEL, Entity.EPISODE]
        found: list[tuple[int, str, Any]] = []
        for index, name in enumerate(order):
            if index < start_entity or name not in querysets:
                continue
            queryset = querysets[name].order_by("id")
            if index == start_entity and after:
                queryset = queryset.filter(pk__gt=after)
            found += [(index, name, r) for r in queryset[: size + 1 - len(found)]]
            if len(found) > size:
                break
        next_cursor = None
        if len(found) > size:
            found = found[:size]
            next_cursor = _encode(found[-1][0], found[-1][2].pk)
        items = []
        for name in order:
            items += _link_items(name, [record for _, n, record in found if n == name])
        return Response({"results": items, "next_cursor": next_cursor})


class _ActionBody(serializers.Serializer):
    other = RecordRefField(required=False, help_text="Record id or source:external_id.")
    reason = TextField(required=False, default="")


class _ForceBody(serializers.Serializer):
    entity = serializers.ChoiceField(choices=[e.value for e in Entity])
    record = RecordRefField()
    other = RecordRefField()
    reason = TextField(required=False, default="")


class LinkActionView(APIView):
    """``POST /api/links/{entity}/{record_id}/{confirm|reject}``."""

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [HasScope.for_scope(SCOPE_LINKS_REVIEW)]

    @extend_schema(
        summary="Confirm or reject a matched link (token with the links:review scope)",
        parameters=[
            OpenApiParameter("entity", str, OpenApiParameter.PATH, enum=[e.value for e in Entity]),
            OpenApiParameter("action", str, OpenApiParameter.PATH, enum=["confirm", "reject"]),
        ],
        request=_ActionBody,
        responses={200: LinkItemSerializer, 409: error_response(CONFLICT)},
    )
    def post(self, request, entity: str, record_id: int, action: str):
        if action not in ("confirm", "reject"):
            raise exceptions.NotFound(f"No link action {action!r}: use confirm or reject.")
        body = _ActionBody(data=request.data)
        body.is_valid(raise_exception=True)
        actor = f"token:{request.auth.name}"
        try:
            if action == "confirm":
                record = confirm_link(
                    entity, record_id, actor=actor, reason=body.validated_data["reason"]
                )
            else:
                reject_link(
                    entity,
                    record_id,
                    actor=actor,
                    other=body.validated_data.get("other"),
                    reason=body.validated_data["reason"],
                )
                model = SourceChannel if entity == Entity.CHANNEL else SourceEpisode
                record = model.objects.get(pk=record_id)
        except LinkError as error:
            _raise(error)
        return Response(link_item(entity, record))


class LinkForceView(APIView):
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [HasScope.for_scope(SCOPE_LINKS_REVIEW)]

    @extend_schema(
        summary="Force two records into one channel/episode (token with links:review)",
        request=_ForceBody,
        responses={
            200: inline_serializer(
                "ForcedLink",
                {"entity": serializers.CharField(), "canonical_id": serializers.IntegerField()},
            ),
            404: error_response("No record with that id or source:external_id."),
            409: error_response(CONFLICT),
        },
    )
    def post(self, request):
        body = _ForceBody(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        entity = data["entity"]
        try:
            survivor = force_link(
                entity,
                data["record"],
                data["other"],
                actor=f"token:{request.auth.name}",
                reason=data["reason"],
            )
        except LinkError as error:
            _raise(error)
        return Response({"entity": entity, "canonical_id": survivor})


# --- one link in detail, and its history ------------------------------------------------


class LinkRecordSerializer(serializers.Serializer):
    record_id = serializers.IntegerField()
    source = serializers.CharField()
    external_id = serializers.CharField()
    url = serializers.CharField(allow_blank=True)
    canonical_id = serializers.IntegerField(allow_null=True)
    method = serializers.CharField(allow_blank=True, help_text="key, fuzzy, manual or empty")
    status = serializers.CharField(
        allow_blank=True, help_text="auto, needs_review or confirmed; empty for key links"
    )
    confidence = serializers.FloatField(allow_null=True)
    explanation = serializers.CharField(allow_blank=True)
    linked_at = serializers.DateTimeField(allow_null=True)
    fetched_at = serializers.DateTimeField()
    first_seen_at = serializers.DateTimeField()
    vanished_at = serializers.DateTimeField(allow_null=True)
    fields = serializers.DictField(
        help_text="The fields compared side by side, those the record has, in a fixed order "
        "(title, author, feed_url, language, episodes, first/last_published_at… for "
        "channels; title, channel, published_at, duration_s, episode_number… for "
        "episodes): text cut to 300 characters, lists joined."
    )


class LinkReasonSerializer(serializers.Serializer):
    text = serializers.CharField()
    bits = serializers.FloatField(
        allow_null=True, help_text="What this feature added to the score (log2 odds)"
    )
    total = serializers.BooleanField(help_text="True for the score's sum and probability")


class LinkDetailSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="`channel:123` or `episode:456`.")
    entity = serializers.ChoiceField(choices=[e.value for e in Entity])
    canonical_id = serializers.IntegerField(allow_null=True)
    method = serializers.CharField(allow_blank=True)
    status = serializers.CharField(allow_blank=True)
    confidence = serializers.FloatField(allow_null=True)
    explanation = serializers.CharField(allow_blank=True)
    reasons = LinkReasonSerializer(many=True, help_text="The explanation, part by part")
    linked_at = serializers.DateTimeField(allow_null=True)
    record = LinkRecordSerializer()
    partners = LinkRecordSerializer(
        many=True, help_text=f"The other records of its canonical row (up to {PARTNER_LIMIT})"
    )
    fields = serializers.ListField(
        child=serializers.CharField(),
        help_text="The names of the compared fields any of these records has, in order",
    )


class LinkEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    actor = serializers.CharField(help_text="`matcher`, `cli` or `token:<token name>`")
    from_canonical = serializers.IntegerField(allow_null=True)
    to_canonical = serializers.IntegerField(allow_null=True)
    method = serializers.CharField(allow_blank=True)
    status = serializers.CharField(allow_blank=True)
    confidence = serializers.FloatField(allow_null=True)
    explanation = serializers.CharField(allow_blank=True)


class LinkOverrideSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    actor = serializers.CharField()
    action = serializers.ChoiceField(choices=["confirm", "reject", "force"])
    record_id = serializers.IntegerField()
    other_record_id = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)


class LinkHistorySerializer(serializers.Serializer):
    id = serializers.CharField()
    entity = serializers.ChoiceField(choices=[e.value for e in Entity])
    record_id = serializers.IntegerField()
    events = LinkEventSerializer(
        many=True, help_text=f"Moves and status changes, newest first (up to {HISTORY_LIMIT})"
    )
    overrides = LinkOverrideSerializer(
        many=True,
        help_text=f"People's decisions naming the record, newest first (up to {HISTORY_LIMIT})",
    )


_ENTITY_PATH = OpenApiParameter(
    "entity", str, OpenApiParameter.PATH, enum=[e.value for e in Entity]
)
_NO_RECORD = "No record of that entity with that id."


def _existing(entity: str, record_id: int) -> None:
    """404 for an id no record can have (the database would refuse to compare it)."""
    if not valid_id(record_id):
        raise exceptions.NotFound(f"no {entity} record with id {record_id}")


class LinkDetailView(APIView):
    """``GET /api/links/{entity}/{record_id}``: open like the list."""

    @extend_schema(
        summary="One record's link: the records side by side and the score's reasons",
        parameters=[_ENTITY_PATH],
        responses={200: LinkDetailSerializer, 404: error_response(_NO_RECORD)},
    )
    def get(self, request, entity: str, record_id: int):
        _existing(entity, record_id)
        try:
            return Response(link_detail(entity, record_id))
        except LinkError as error:
            _raise(error)


class LinkHistoryView(APIView):
    """``GET /api/links/{entity}/{record_id}/history``: it names the people who decided
    and their reasons, so it needs the ``links:review`` scope like the actions."""

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [HasScope.for_scope(SCOPE_LINKS_REVIEW)]

    @extend_schema(
        summary="A record's link history and people's decisions (token with links:review)",
        parameters=[_ENTITY_PATH],
        responses={200: LinkHistorySerializer, 404: error_response(_NO_RECORD)},
    )
    def get(self, request, entity: str, record_id: int):
        _existing(entity, record_id)
        try:
            return Response(link_history(entity, record_id))
        except LinkError as error:
            _raise(error)
