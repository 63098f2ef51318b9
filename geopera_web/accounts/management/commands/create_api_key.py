from django.core.management.base import BaseCommand, CommandError

from geopera_web.accounts.selectors import org_find
from geopera_web.accounts.services import api_key_create
from geopera_web.errors import ApplicationError


class Command(BaseCommand):
    help = "Mint an API key for an org; prints the key once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Organization id or name.")
        parser.add_argument(
            "--scopes", required=True, help='Space-separated, e.g. "catalog:read orders:read".'
        )
        parser.add_argument("--name", default="Provisioned key")

    def handle(self, *args, **opts):
        org = org_find(ref=opts["org"])
        if org is None:
            raise CommandError(f"No organization {opts['org']!r}.")
        try:
            _, raw = api_key_create(
                org=org, name=opts["name"], scopes=opts["scopes"].replace(",", " ").split()
            )
        except ApplicationError as exc:
            raise CommandError(exc.detail) from exc
        self.stdout.write(raw)
