"""``/api/jobs``: start an allowed step as a job on the server, follow it, list jobs;
``/api/pipeline/runs``: the runs of the pipeline graph the local runner recorded
(:mod:`podsight.pipeline.runner`), each with its nodes.

Every operation needs an API token with the ``staff`` scope (a staff user's sign-in token
has it). ``POST /api/jobs`` answers 202 with the queued job at once; the step runs on a
worker thread of the server (:mod:`podsight.jobs.services`) and ``GET /api/jobs/{id}``
shows its progress, then its summary or error. The dashboard's ``job_button``
(``podsight/dashboard/jobs.py``) is its client.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from podsight.accounts.auth import ApiTokenAuthentication, HasScope
from podsight.accounts.models import SCOPE_STAFF
from podsight.api.pagination import KeysetPagination
from podsight.api.params import choice_param
from podsight.api.schema import error_response
from podsight.errors import NotFoundError
from podsight.jobs import services
from podsight.jobs.allowed import ALLOWED, request_schema
from podsight.jobs.models import Job, JobStatus, NodeStatus, PipelineRun, RunStatus

__all__ = [
    "JobDetailView",
    "JobListView",
    "JobSerializer",
    "NoSuchPipelineRun",
    "PipelineRunDetailSerializer",
    "PipelineRunDetailView",
    "PipelineRunListView",
    "PipelineRunSerializer",
    "PipelineStepRunSerializer",
]


class ProgressSerializer(serializers.Serializer):
    label = serializers.CharField(allow_blank=True, help_text="The phase the step is in.")
    item = serializers.CharField(allow_blank=True, help_text="What it works on now.")
    done = serializers.IntegerField(help_text="Items of the phase done.")
    total = serializers.IntegerField(
        allow_null=True, help_text="Items of the phase in all; null while unknown."
    )


class NoteSerializer(serializers.Serializer):
    level = serializers.CharField(help_text="`INFO`, `WARNING` or `ERROR`.")
    message = serializers.CharField()


class JobSerializer(serializers.Serializer):
    """A job; ``id`` is null only in a ``dry_run`` answer (nothing was recorded)."""

    id = serializers.IntegerField(allow_null=True)
    step = serializers.CharField()
    params = serializers.DictField(help_text="The step's parameters, as given.")
    status = serializers.ChoiceField(choices=JobStatus.values)
    progress = serializers.SerializerMethodField()
    notes = NoteSerializer(many=True, help_text="What the step asked its starter to read.")
    summary = serializers.CharField(
        allow_blank=True, help_text="One line of what the finished step did."
    )
    report = serializers.JSONField(
        allow_null=True, help_text="The step's report as JSON (long lists cut at 200 items)."
    )
    error = serializers.CharField(allow_blank=True, help_text="Why it failed or stopped.")
    created_by = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, job: Job) -> dict[str, Any]:
        return {
            "label": job.progress_label,
            "item": job.progress_item,
            "done": job.progress_done,
            "total": job.progress_total,
        }


class JobPageSerializer(serializers.Serializer):
    results = JobSerializer(many=True)
    next = serializers.URLField(allow_null=True)
    page_size = serializers.IntegerField()


_STAFF = [HasScope.for_scope(SCOPE_STAFF)]
_STEPS = ", ".join(f"`{name}`" for name in ALLOWED)


class JobListView(generics.ListAPIView):
    """Start a job; list jobs, newest first."""

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = _STAFF
    serializer_class = JobSerializer
    pagination_class = KeysetPagination
    ordering_fields = {"created_at": "created_at"}
    default_ordering = "-created_at"

    def get_queryset(self):
        params = self.request.query_params
        return services.jobs(
            status=choice_param(params, "status", JobStatus.values),
            step=choice_param(params, "step", ALLOWED),
        )

    @extend_schema(
        summary="Jobs, newest first (token with staff)",
        parameters=[
            OpenApiParameter(
                "status", {"type": "string", "enum": JobStatus.values}, description="Only these"
            ),
            OpenApiParameter(
                "step", {"type": "string", "enum": list(ALLOWED)}, description="Only this step's"
            ),
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Run a step as a job on the server (token with staff)",
        description=(
            f"Steps a job may run: {_STEPS}; each takes the parameters its variant of the "
            "body lists (docs/dashboard.md, Long actions). The job is queued and runs on a "
            "worker thread of the server; follow it with `GET /api/jobs/{id}`. One job of a "
            "step at a time: while one is queued or running, another is a 409 `job_running` "
            "whose `details.job` is the running job's id. With `dry_run`, the request is "
            "only checked (200, nothing recorded)."
        ),
        request={"application/json": request_schema()},
        responses={
            202: JobSerializer,
            200: OpenApiResponse(JobSerializer, description="`dry_run`: what would run"),
            409: error_response(
                "`job_running`: a job of this step is queued or running (`details.job`)"
            ),
        },
    )
    def post(self, request):
        job = services.start(request.data, user=request.user, token=request.auth)
        answer = JobSerializer(job).data
        return Response(answer, status=status.HTTP_200_OK if job.pk is None else 202)


class JobDetailView(APIView):
    """One job: its progress while it runs, its summary or error after."""

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = _STAFF

    @extend_schema(summary="A job and its progress (token with staff)",
                   responses={200: JobSerializer})  # fmt: skip
    def get(self, request, pk: int):
        return Response(JobSerializer(services.get(pk)).data)


# --- pipeline runs ------------------------------------------------------------------------------


class NoSuchPipelineRun(NotFoundError):
    """No pipeline run with that id: 404."""


class PipelineStepRunSerializer(serializers.Serializer):
    node = serializers.CharField(help_text="The graph's node (docs/pipeline.md).")
    step = serializers.CharField(help_text="The registered step it ran.")
    status = serializers.ChoiceField(choices=NodeStatus.values)
    attempts = serializers.IntegerField(help_text="Times the step was called (retries + 1).")
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    seconds = serializers.FloatField(allow_null=True, help_text="Its time, retries included.")
    summary = serializers.CharField(allow_blank=True, help_text="One line of its report.")
    report = serializers.JSONField(
        allow_null=True, help_text="The step's report as JSON (long lists cut at 200 items)."
    )
    error = serializers.CharField(
        allow_blank=True, help_text="Why it failed, or why it was skipped or blocked."
    )


class PipelineRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=RunStatus.values)
    trigger = serializers.CharField(help_text="Who started it: `cli`, `schedule`, `airflow`…")
    cadences = serializers.ListField(child=serializers.CharField())
    only = serializers.ListField(child=serializers.CharField(), help_text="`--only` nodes.")
    start_from = serializers.CharField(allow_blank=True, help_text="The `--from` node.")
    engine = serializers.CharField(allow_blank=True, help_text="`local`, `spark` or blank.")
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    seconds = serializers.FloatField(allow_null=True)
    error = serializers.CharField(allow_blank=True, help_text="What failed or stopped it.")
    counts = serializers.SerializerMethodField()

    @extend_schema_field(
        serializers.DictField(
            child=serializers.IntegerField(), help_text="Nodes per status (`succeeded`: 5…)."
        )
    )
    def get_counts(self, run: PipelineRun) -> dict[str, int]:
        found: dict[str, int] = {}
        for row in run.steps.all():
            found[row.status] = found.get(row.status, 0) + 1
        return found


class PipelineRunDetailSerializer(PipelineRunSerializer):
    steps = PipelineStepRunSerializer(many=True, help_text="Its nodes, in the order they ran.")


class PipelineRunPageSerializer(serializers.Serializer):
    results = PipelineRunSerializer(many=True)
    next = serializers.URLField(allow_null=True)
    page_size = serializers.IntegerField()


def _pipeline_runs():
    # A run whose process is gone (on this host) reads as interrupted, not running.
    from podsight.pipeline.runner import recover_interrupted_runs

    recover_interrupted_runs()
    return PipelineRun.objects.prefetch_related("steps")


class PipelineRunListView(generics.ListAPIView):
    """The pipeline runs, newest first."""

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = _STAFF
    serializer_class = PipelineRunSerializer
    pagination_class = KeysetPagination
    ordering_fields = {"started_at": "started_at"}
    default_ordering = "-started_at"

    def get_queryset(self):
        status_ = choice_param(self.request.query_params, "status", RunStatus.values)
        found = _pipeline_runs()
        return found.filter(status=status_) if status_ else found

    @extend_schema(
        summary="Pipeline runs, newest first (token with staff)",
        description=(
            "Each run of the pipeline graph (`podsight pipeline run`, the scheduler, "
            "Airflow tasks): status, trigger, timing, error, and its nodes counted by "
            "status. `GET /api/pipeline/runs/{id}` has each node (docs/pipeline.md, "
            "Running the graph)."
        ),
        parameters=[
            OpenApiParameter(
                "status", {"type": "string", "enum": RunStatus.values}, description="Only these"
            ),
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class PipelineRunDetailView(APIView):
    """One pipeline run with each node: status, attempts, timing, summary, report, error."""

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = _STAFF

    @extend_schema(summary="A pipeline run and its nodes (token with staff)",
                   responses={200: PipelineRunDetailSerializer})  # fmt: skip
    def get(self, request, pk: int):
        run = _pipeline_runs().filter(pk=pk).first()
        if run is None:
            raise NoSuchPipelineRun(f"No pipeline run with id {pk}.")
        return Response(PipelineRunDetailSerializer(run).data)
