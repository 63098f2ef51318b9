from django.core.management.base import BaseCommand, CommandError

from geopera_web.accounts.models import User
from geopera_web.accounts.selectors import org_find
from geopera_web.accounts.services import user_token_create
from geopera_web.errors import ApplicationError


class Command(BaseCommand):
    help = "Mint a bearer token acting as a user (in --org, else their first org); prints it once."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--org", help="Organization id or name, when the user is in several.")

    def handle(self, *args, **opts):
        user = User.objects.filter(email__iexact=opts["email"]).first()
        if user is None:
            raise CommandError(f"No user {opts['email']!r}.")
        org = None
        if opts["org"]:
            org = org_find(ref=opts["org"])
            if org is None:
                raise CommandError(f"No organization {opts['org']!r}.")
        try:
            _, raw = user_token_create(user=user, org=org)
        except ApplicationError as exc:
            raise CommandError(exc.detail) from exc
        self.stdout.write(raw)
