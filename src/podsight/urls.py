from django.db import connection
from django.http import JsonResponse
from django.urls import include, path

import podsight

__all__ = ["urlpatterns"]

handler400 = "podsight.security.json_bad_request"
handler404 = "podsight.api.errors.json_not_found"
handler500 = "podsight.api.errors.json_server_error"


def healthz(request):
    """Liveness plus a database round trip; 503 when the database does not answer."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception as exc:  # noqa: BLE001 - any database failure means "not healthy"
        return JsonResponse(
            {"status": "error", "database": type(exc).__name__, "version": podsight.__version__},
            status=503,
        )
    return JsonResponse({"status": "ok", "database": database, "version": podsight.__version__})


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # gPodder sync API (api/2/…, subscriptions/…): before api/ so that its paths win.
    path("", include("podsight.gpodder.urls")),
    path("api/", include("podsight.api.urls")),
]
