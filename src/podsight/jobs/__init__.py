"""Jobs: registered pipeline steps run by the API server on request, with their progress
recorded (``POST /api/jobs``; docs/dashboard.md "Long actions")."""

__all__: list[str] = []
