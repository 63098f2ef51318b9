"""Every org has a wallet from its creation on (accounts.services.org_create, the admin, seed_demo),
so reading one never writes. Orgs created before that, whose wallet was made lazily on first read,
may have none yet: give each an empty one (no credits move; balances stay as the ledger says)."""

from django.db import migrations


def wallets_for_orgs_without_one(apps, schema_editor):
    Organization = apps.get_model("accounts", "Organization")
    Wallet = apps.get_model("billing", "Wallet")
    missing = Organization.objects.filter(wallet__isnull=True).values_list("pk", flat=True)
    Wallet.objects.bulk_create([Wallet(org_id=pk) for pk in missing.iterator()], ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("billing", "0003_charge_words_ledger_memos_without_ids")]

    operations = [migrations.RunPython(wallets_for_orgs_without_one, migrations.RunPython.noop)]
