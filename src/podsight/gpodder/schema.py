"""The gPodder API (:mod:`podsight.gpodder.api`) in the OpenAPI document.

Its views are plain Django views (apps expect gpodder.net's exact paths and bodies), which
drf-spectacular cannot see, so their part of the document is written here, next to them,
and merged by :func:`podsight.api.schema.postprocess`. ``tests/api/test_schemathesis.py``
holds it to the live server like the rest. Where the server is lenient for the sake of
apps (``since`` empty, ``aggregated`` any text, action names in any case), the document
says so rather than promise a stricter check than the server makes.
"""

from __future__ import annotations

from typing import Any

from podsight.accounts.services import USERNAME_MAX_LENGTH, USERNAME_PATTERN
from podsight.api.schema import error_response_object
from podsight.gpodder.api import ACTIONS, DEVICE_TYPES, FORMATS, MAX_TEXT, SINCE

__all__ = ["add_gpodder"]

TAG = "gpodder"
SECURITY = [{"gpodderBasic": []}, {"gpodderSession": []}]
SCHEMES = {
    "gpodderBasic": {
        "type": "http",
        "scheme": "basic",
        "description": "A podsight user (`podsight users create`). A successful request sets "
        "the `sessionid` cookie, which later requests may send instead.",
    },
    "gpodderSession": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
}

_USERNAME = {
    "name": "username",
    "in": "path",
    "required": True,
    "description": "The signed-in user's name; another user's is refused.",
    "schema": {
        "type": "string",
        "pattern": f"^{USERNAME_PATTERN}$",
        "maxLength": USERNAME_MAX_LENGTH,
    },
}
_DEVICE = {
    "name": "deviceid",
    "in": "path",
    "required": True,
    "description": "The device id the app chose: letters, digits, `.`, `-`, `_`.",
    "schema": {"type": "string", "pattern": r"^[\w.-]+$", "maxLength": 100},
}
_FORMAT = {
    "name": "format",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "enum": list(FORMATS)},
}
_SINCE = {
    "name": "since",
    "in": "query",
    "required": False,
    "description": "Unix seconds: changes at or after it. Empty or absent: all.",
    "schema": {"type": "string", "pattern": f"^{SINCE.pattern}$"},
}

_URLS = {"type": "array", "items": {"type": "string"}}
_URLS_OR_NULL = {**_URLS, "nullable": True, "description": "null: none"}
_EMPTY_OK = {
    "description": "Done (an empty body, as gpodder.net answers).",
    "content": {"text/plain": {"schema": {"type": "string", "maxLength": 0}}},
}
_UPDATE_URLS = {
    "type": "array",
    "description": 'Pairs [sent, stored] of URLs the server rewrote ("" when it ignored one).',
    "items": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2},
}
_NUMBER_OR_TEXT = {"nullable": True, "anyOf": [{"type": "number"}, {"type": "string"}]}
_TIMESTAMP = {"type": "integer", "description": "The server's time, for the next `since`."}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


COMPONENTS = {
    "GpodderDevice": {
        "type": "object",
        "required": ["id", "caption", "type", "subscriptions"],
        "properties": {
            "id": {"type": "string"},
            "caption": {"type": "string"},
            "type": {"type": "string", "enum": sorted(DEVICE_TYPES)},
            "subscriptions": {"type": "integer", "minimum": 0},
        },
    },
    "GpodderDeviceUpdate": {
        "type": "object",
        "properties": {
            "caption": {"type": "string", "maxLength": MAX_TEXT, "nullable": True},
            # OpenAPI 3.0: an enum admits null only when it lists it.
            "type": {"type": "string", "enum": [*sorted(DEVICE_TYPES), None], "nullable": True},
        },
        "description": "null leaves a setting as it is.",
    },
    "GpodderSubscriptionChanges": {
        "type": "object",
        "properties": {"add": _URLS_OR_NULL, "remove": _URLS_OR_NULL},
    },
    "GpodderEpisodeAction": {
        "type": "object",
        "required": ["podcast", "episode", "action", "timestamp"],
        "properties": {
            "podcast": {"type": "string"},
            "episode": {"type": "string"},
            "action": {"type": "string", "enum": list(ACTIONS)},
            "timestamp": {"type": "string", "description": "UTC, e.g. 2009-12-12T09:00:00"},
            "device": {"type": "string"},
            "guid": {"type": "string"},
            "started": {"type": "integer"},
            "position": {"type": "integer"},
            "total": {"type": "integer"},
        },
    },
    "GpodderEpisodeActionUpload": {
        "type": "object",
        "description": "`action` is matched without regard to case or surrounding spaces. "
        "An action whose URLs are not http(s) is ignored (listed in `update_urls`). "
        "`timestamp`: ISO 8601 (UTC when without a zone) or Unix seconds; now when absent.",
        "required": ["podcast", "episode", "action"],
        "properties": {
            "podcast": {"type": "string", "pattern": r"\S"},
            "episode": {"type": "string", "pattern": r"\S"},
            "action": {"type": "string"},
            "timestamp": _NUMBER_OR_TEXT,
            "device": {"type": "string", "nullable": True, "pattern": r"^[\w.-]{1,100}$"},
            "guid": {"type": "string", "nullable": True},
            "started": _NUMBER_OR_TEXT,
            "position": _NUMBER_OR_TEXT,
            "total": _NUMBER_OR_TEXT,
        },
    },
}


def _op(
    op_id: str,
    summary: str,
    responses: dict[str, Any],
    *,
    errors: tuple[int, ...],
    parameters: list[dict] | None = None,
    body: dict[str, Any] | None = None,
    body_required: bool = False,
    description: str = "",
) -> dict[str, Any]:
    # Every operation authenticates (401, 429 after failed logins), may be refused for
    # another user's path (403), answers 404 when a path part has characters its route
    # does not take, and may find the database busy (503).
    statuses = sorted({401, 403, 404, 429, 503, *errors})
    operation: dict[str, Any] = {
        "operationId": op_id,
        "summary": summary,
        "tags": [TAG],
        "security": SECURITY,
        "parameters": parameters or [],
        "responses": {**responses, **{str(s): error_response_object(s) for s in statuses}},
    }
    if description:
        operation["description"] = description
    if body is not None:
        operation["requestBody"] = {"required": body_required, "content": body}
    return operation


def _paths() -> dict[str, dict[str, Any]]:
    upload = (400, 413)
    return {
        "/api/2/auth/{username}/login.json": {
            "post": _op(
                "gpodder_login",
                "Sign in: sets the `sessionid` cookie",
                {"200": _EMPTY_OK},
                errors=(400,),
                parameters=[_USERNAME],
                description="400 `other_user`: the session cookie is another user's.",
            )
        },
        "/api/2/auth/{username}/logout.json": {
            "post": {
                "operationId": "gpodder_logout",
                "summary": "Sign out (200 without a session too)",
                "tags": [TAG],
                "security": [{"gpodderSession": []}, {}],
                "parameters": [_USERNAME],
                "responses": {
                    "200": _EMPTY_OK,
                    "400": error_response_object(400, "The session is another user's."),
                    "404": error_response_object(404),
                    "503": error_response_object(503),
                },
            }
        },
        "/api/2/devices/{username}.json": {
            "get": _op(
                "gpodder_devices",
                "The user's devices",
                {"200": _json({"type": "array", "items": _ref("GpodderDevice")})},
                errors=(),
                parameters=[_USERNAME],
            )
        },
        "/api/2/devices/{username}/{deviceid}.json": {
            method: _op(
                f"gpodder_device_update{suffix}",
                "Create or update a device" + (" (PUT: mygpoclient 1.0)" if suffix else ""),
                {"200": _EMPTY_OK},
                errors=upload,
                parameters=[_USERNAME, _DEVICE],
                body={"application/json": {"schema": _ref("GpodderDeviceUpdate")}},
            )
            for method, suffix in (("post", ""), ("put", "_put"))
        },
        "/api/2/subscriptions/{username}/{deviceid}.json": {
            "get": _op(
                "gpodder_subscription_changes",
                "Subscription changes of a device since a time",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["add", "remove", "timestamp"],
                            "properties": {"add": _URLS, "remove": _URLS, "timestamp": _TIMESTAMP},
                        }
                    )
                },
                errors=(400,),
                parameters=[_USERNAME, _DEVICE, _SINCE],
            ),
            "post": _op(
                "gpodder_subscription_upload",
                "Upload subscription changes of a device",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["timestamp", "update_urls"],
                            "properties": {"timestamp": _TIMESTAMP, "update_urls": _UPDATE_URLS},
                        }
                    )
                },
                errors=upload,
                parameters=[_USERNAME, _DEVICE],
                body={"application/json": {"schema": _ref("GpodderSubscriptionChanges")}},
                body_required=True,
                description="400 `add_and_remove`: one URL both added and removed.",
            ),
        },
        "/api/2/episodes/{username}.json": {
            "get": _op(
                "gpodder_episode_actions",
                "Episode actions uploaded since a time",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["actions", "timestamp"],
                            "properties": {
                                "actions": {"type": "array", "items": _ref("GpodderEpisodeAction")},
                                "timestamp": _TIMESTAMP,
                            },
                        }
                    )
                },
                errors=(400,),
                parameters=[
                    _USERNAME,
                    _SINCE,
                    {"name": "podcast", "in": "query", "schema": {"type": "string"}},
                    {"name": "device", "in": "query", "schema": {"type": "string"}},
                    {
                        "name": "aggregated",
                        "in": "query",
                        "description": "`true`, `1`, `yes` or `on`: only the latest action "
                        "per episode; any other value: all.",
                        "schema": {"type": "string"},
                    },
                ],
            ),
            "post": _op(
                "gpodder_episode_actions_upload",
                "Upload episode actions",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["timestamp", "update_urls"],
                            "properties": {"timestamp": _TIMESTAMP, "update_urls": _UPDATE_URLS},
                        }
                    )
                },
                errors=upload,
                parameters=[_USERNAME],
                body={
                    "application/json": {
                        "schema": {
                            "oneOf": [
                                {"type": "array", "items": _ref("GpodderEpisodeActionUpload")},
                                {
                                    "type": "object",
                                    "required": ["actions"],
                                    "properties": {
                                        "actions": {
                                            "type": "array",
                                            "items": _ref("GpodderEpisodeActionUpload"),
                                        }
                                    },
                                },
                            ]
                        }
                    }
                },
                body_required=True,
                description="400 `invalid_actions` lists each invalid action by index; "
                "nothing is stored then.",
            ),
        },
        "/subscriptions/{username}/{deviceid}.{format}": {
            "get": _op(
                "gpodder_device_subscriptions",
                "A device's subscriptions (json, opml or txt)",
                {"200": _LIST_200},
                errors=(400, 404),
                parameters=[_USERNAME, _DEVICE, _FORMAT],
            ),
            "put": _op(
                "gpodder_device_subscriptions_replace",
                "Replace a device's subscriptions with the list sent (json, opml or txt)",
                {"200": _EMPTY_OK},
                errors=upload,
                parameters=[_USERNAME, _DEVICE, _FORMAT],
                body={
                    "application/json": {"schema": {"type": "array", "items": {}}},
                    "text/x-opml": {"schema": {"type": "string"}},
                    "text/plain": {"schema": {"type": "string"}},
                },
                description="The body is read in the format of the path, whatever its "
                "Content-Type.",
            ),
        },
        "/subscriptions/{username}.{format}": {
            "get": _op(
                "gpodder_user_subscriptions",
                "Subscriptions of all the user's devices (json, opml or txt)",
                {"200": _LIST_200},
                errors=(400,),
                parameters=[_USERNAME, _FORMAT],
            )
        },
    }


_LIST_200 = {
    "description": "The subscribed feed URLs in the format of the path.",
    "content": {
        "application/json": {"schema": _URLS},
        "text/x-opml": {"schema": {"type": "string"}},
        "text/plain": {"schema": {"type": "string"}},
    },
}


def add_gpodder(result: dict[str, Any]) -> None:
    result.setdefault("paths", {}).update(_paths())
    components = result.setdefault("components", {})
    components.setdefault("schemas", {}).update(COMPONENTS)
    components.setdefault("securitySchemes", {}).update(SCHEMES)
    tags = result.setdefault("tags", [])
    tags.append({"name": TAG, "description": "gPodder.net API v2, for podcast apps."})
