"""`podsight tokens …` and `podsight users …` through the real command line app."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.auth import get_user_model
from typer.testing import CliRunner

from podsight.accounts.models import ApiToken
from podsight.accounts.services import create_token
from podsight.cli.main import app

pytestmark = pytest.mark.django_db


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args: str, **kwargs):
        return runner.invoke(app, list(args), **kwargs)

    return invoke


def _said(result) -> str:
    """Everything printed, with the console's line wrapping undone."""
    return " ".join(result.output.split())


def test_tokens_create_prints_the_key_once_on_stdout(run):
    result = run("tokens", "create", "player-app")
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert "\n" not in key and len(key) >= 40  # stdout is the key alone
    token = ApiToken.objects.get(name="player-app")
    assert token.digest == hashlib.sha256(key.encode()).hexdigest()
    assert token.scopes == ["events:write"]  # the default scope
    assert token.user is None
    assert "cannot be shown" in _said(result) and "Authorization: Token" in _said(result)


def test_tokens_create_with_scopes_and_a_user(run):
    assert run("users", "create", "ada", "--password", "pw").exit_code == 0
    result = run(
        "tokens", "create", "review-tool", "--scope", "links:review", "--scope", "staff",
        "--user", "ada",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    token = ApiToken.objects.get(name="review-tool")
    assert token.scopes == ["links:review", "staff"]
    assert token.user.get_username() == "ada"


def test_tokens_create_errors_say_what_to_do(run):
    result = run("tokens", "create", "app", "--scope", "events:read")
    assert result.exit_code != 0
    assert "unknown scope 'events:read'" in _said(result)
    assert "events:write, links:review, staff" in _said(result)
    result = run("tokens", "create", "app", "--user", "nobody")
    assert result.exit_code != 0 and "podsight users create" in _said(result)
    assert not ApiToken.objects.exists()
    assert run("tokens", "create", "app").exit_code == 0
    result = run("tokens", "create", "app")
    assert result.exit_code != 0 and "already exists" in _said(result)
    assert ApiToken.objects.count() == 1


def test_tokens_list_shows_prefixes_never_keys(run):
    assert "no tokens yet" in run("tokens", "list").output
    _, key = create_token("player-app", ["events:write", "links:review"])
    create_token("old-app", ["staff"])
    run("tokens", "revoke", "old-app")
    result = run("tokens", "list")
    assert result.exit_code == 0, result.output
    assert "player-app" in result.output and "old-app" in result.output
    assert key[:8] in result.output
    assert key not in result.output and key[:12] not in result.output
    assert "events:write, links:review" in result.output
    old_row = next(line for line in result.output.splitlines() if "old-app" in line)
    player_row = next(line for line in result.output.splitlines() if "player-app" in line)
    # created, last used, revoked: the revoked token shows a date in its last column.
    assert old_row.rstrip(" │").endswith("UTC") and player_row.rstrip(" │").endswith("-")


def test_tokens_revoke(run):
    create_token("app", ["events:write"])
    result = run("tokens", "revoke", "app")
    assert result.exit_code == 0, result.output
    assert "revoked" in _said(result)
    assert ApiToken.objects.get(name="app").revoked_at is not None
    result = run("tokens", "revoke", "nope")
    assert result.exit_code != 0
    assert "no token named 'nope'" in _said(result) and "podsight tokens list" in _said(result)


def test_users_create_with_option_env_var_or_prompt(run):
    User = get_user_model()  # noqa: N806
    result = run("users", "create", "ada", "--password", "from-option", "--staff")
    assert result.exit_code == 0, result.output
    ada = User.objects.get(username="ada")
    assert ada.is_staff and ada.check_password("from-option")
    assert "from-option" not in ada.password

    result = run("users", "create", "bob", env={"PODSIGHT_USER_PASSWORD": "from-env"})
    assert result.exit_code == 0, result.output
    bob = User.objects.get(username="bob")
    assert bob.check_password("from-env") and not bob.is_staff

    result = run(
        "users", "create", "cy", input="typed\ntyped\n", env={"PODSIGHT_USER_PASSWORD": None}
    )
    assert result.exit_code == 0, result.output
    assert User.objects.get(username="cy").check_password("typed")
    assert "typed" not in result.output  # the prompt does not echo it


def test_users_create_refuses_an_existing_username(run):
    assert run("users", "create", "ada", "--password", "pw1").exit_code == 0
    result = run("users", "create", "ada", "--password", "pw2")
    assert result.exit_code != 0
    assert "'ada' already exists" in _said(result) and "choose another" in _said(result)
    assert get_user_model().objects.get(username="ada").check_password("pw1")
