"""Create an API token from the shell: ``create_api_token --user U --scope S [--scope …] [--name N] [--days D]``.

The token is printed alone on the last line, so scripts can take it with ``tail -n 1``. The
command acts as the token's user (the security log records it so), for deployments and CI.
"""

from django.core.management.base import BaseCommand, CommandError

from cases.models.exceptions import ActionRefused, NotAllowed
from cases.models import User
from cases.services import api_tokens


class Command(BaseCommand):
    help = "Create an API token for a user and print it (only once) on the last line."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="Username of the token's owner (a person or service account).")
        parser.add_argument("--scope", action="append", required=True, choices=api_tokens.SCOPES, dest="scopes",
                            help="A scope; repeat for several.")
        parser.add_argument("--name", default="", help="What the token is for (default: 'command line').")
        parser.add_argument("--days", type=int, default=api_tokens.DEFAULT_DAYS,
                            help=f"Lifetime in days, 1 to {api_tokens.MAX_DAYS} (default {api_tokens.DEFAULT_DAYS}).")

    def handle(self, *args, user, scopes, name, days, **options):
        owner = User.objects.filter(username=user).first()
        if owner is None:
            raise CommandError(f"No user called {user!r}.")
        try:
            token, raw = api_tokens.create_token(user=owner, by=owner, name=name or "command line", scopes=scopes, days=days)
        except (ActionRefused, NotAllowed) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Created token {token.name!r} ({token.prefix}…) for {owner.username}: scopes {', '.join(token.scopes)}, "
            f"expires {token.expires_at:%Y-%m-%d}. It is shown only now:"
        )
        self.stdout.write(raw)
