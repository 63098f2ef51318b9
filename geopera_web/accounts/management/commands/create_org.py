from django.core.management.base import BaseCommand, CommandError

from geopera_web.accounts.models import BillingMode
from geopera_web.accounts.services import org_create
from geopera_web.errors import ApplicationError


class Command(BaseCommand):
    help = "Create an organization with its default workspace and wallet; prints the org id."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--billing-mode", default=BillingMode.CREDIT, choices=BillingMode.values)
        parser.add_argument("--credits", type=int, default=0, help="Opening wallet balance in credits.")

    def handle(self, *args, **opts):
        if opts["credits"] < 0:
            raise CommandError("--credits cannot be negative.")
        try:
            org = org_create(name=opts["name"], billing_mode=opts["billing_mode"], credits=opts["credits"])
        except ApplicationError as exc:
            raise CommandError(exc.detail) from exc
        self.stdout.write(str(org.id))
