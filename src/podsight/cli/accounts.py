"""``podsight tokens`` and ``podsight users``: API tokens and the users they act for
(``tokens.create``, ``tokens.list``, ``tokens.revoke``, ``users.create``)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from podsight.cli.output import console, err
from podsight.cli.render import when
from podsight.pipeline import run_step

__all__ = ["tokens_app", "users_app"]

tokens_app = typer.Typer(
    help="API tokens of client applications (keys are shown once, only digests are kept).",
    no_args_is_help=True,
)
users_app = typer.Typer(help="Users that API tokens can act for.", no_args_is_help=True)


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="Label of the client application, unique.")],
    scope: Annotated[
        list[str] | None,
        typer.Option(
            help="Scope granted (repeatable): events:write, links:review, staff. "
            "Default: events:write."
        ),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option(help="Username the token acts for (see `podsight users create`)."),
    ] = None,
) -> None:
    """Create a token and print its key, once: only a digest of it is kept.

    The key goes to stdout alone, the notes to stderr, so `KEY=$(podsight tokens create app)`
    captures just the key."""
    created = run_step("tokens.create", name=name, scopes=scope or ["events:write"], user=user)
    token = created.token
    acts_for = f", acting for user {escape(user)}" if user else ""
    err.print(
        f"created token {escape(token.name)!r} ({token.prefix}…) with scopes "
        f"{', '.join(token.scopes) or 'none'}{acts_for}. Its key follows; it cannot be shown "
        "again, so keep it now:"
    )
    typer.echo(created.key)
    err.print("Send it with every request as the header:  Authorization: Token <key>")


@tokens_app.command("list")
def tokens_list() -> None:
    """List tokens: name, key prefix, scopes, user, created, last used, revoked (never keys)."""
    tokens = run_step("tokens.list").tokens
    if not tokens:
        console.print("no tokens yet; create one with `podsight tokens create NAME`")
        return
    table = Table(title="API tokens")
    for column in ("name", "prefix", "scopes", "user", "created", "last used", "revoked"):
        table.add_column(column, overflow="fold")
    for t in tokens:
        table.add_row(
            escape(t.name), f"{t.prefix}…", ", ".join(t.scopes) or "-",
            escape(t.user) if t.user else "-", when(t.created_at),
            when(t.last_used_at), f"[red]{when(t.revoked_at)}[/]" if t.revoked_at else "-",
        )  # fmt: skip
    console.print(table)


@tokens_app.command("revoke")
def tokens_revoke(name: Annotated[str, typer.Argument(help="Name of the token.")]) -> None:
    """Revoke a token: requests with its key get 401 from then on. The row stays listed."""
    token = run_step("tokens.revoke", name=name)
    console.print(
        f"token {escape(token.name)!r} ({token.prefix}…) is revoked since "
        f"{when(token.revoked_at)}; requests with its key are refused"
    )


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="The new user's username.")],
    password: Annotated[
        str,
        typer.Option(
            envvar="PODSIGHT_USER_PASSWORD",
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="Password; prefer the environment variable or the prompt (given with no "
            "option), which keep it out of the shell history.",
        ),
    ],
    staff: Annotated[bool, typer.Option("--staff", help="Mark the user as staff.")] = False,
) -> None:
    """Create a user (password hashed by Django) that tokens can act for (`--user`)."""
    user = run_step("users.create", username=username, password=password, staff=staff).user
    console.print(
        f"created {'staff ' if staff else ''}user {escape(user.username)!r}; "
        f"give it a token with `podsight tokens create NAME --user {escape(user.username)}`"
    )
