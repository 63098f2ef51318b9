from django.core.management.base import BaseCommand, CommandError

from geopera_web.accounts.models import Role
from geopera_web.accounts.selectors import org_find
from geopera_web.accounts.services import user_create
from geopera_web.errors import ApplicationError


class Command(BaseCommand):
    help = "Create a user as a member of an org (by id or name); --staff makes them support staff."

    def add_arguments(self, parser):
        parser.add_argument("--org", help="Organization id or name (optional for --staff users).")
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--role", default=Role.OPERATOR, choices=Role.values)
        parser.add_argument("--staff", action="store_true", help="Support staff: feasibility desk and admin.")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")

    def handle(self, *args, **opts):
        org = None
        if opts["org"]:
            org = org_find(ref=opts["org"])
            if org is None:
                raise CommandError(f"No organization {opts['org']!r}.")
        elif not opts["staff"]:
            raise CommandError("--org is required (only --staff users may have no organization).")
        if len(opts["password"]) < 8:
            raise CommandError("The password must be at least 8 characters.")
        try:
            user = user_create(
                email=opts["email"],
                password=opts["password"],
                org=org,
                role=opts["role"],
                staff=opts["staff"],
                first_name=opts["first_name"],
                last_name=opts["last_name"],
            )
        except ApplicationError as exc:
            raise CommandError(exc.detail) from exc
        self.stdout.write(str(user.pk))
