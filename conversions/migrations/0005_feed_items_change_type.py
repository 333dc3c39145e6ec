"""Stored feed items gain `change_type` (contract section 6), derived from their action.

Feed items are snapshots sent as stored, so the ones written before `change_type` existed
get it here, in batches along the sequence. The mapping is frozen as it was when this
migration was written (`conversions.services.history.change_type`).
"""

from django.db import migrations

BATCH_SIZE = 2000
CHANGE_TYPES = {
    "created": "created",
    "amended": "amended",
    "approved": "approved",
    "rejected": "rejected",
}


def add_change_type(apps, schema_editor):
    ConversionChange = apps.get_model("conversions", "ConversionChange")
    after = -1
    while True:
        batch = list(
            ConversionChange.objects.filter(sequence__gt=after)
            .order_by("sequence")
            .only("pk", "sequence", "action", "snapshot")[:BATCH_SIZE]
        )
        if not batch:
            return
        for change in batch:
            change.snapshot["change_type"] = CHANGE_TYPES.get(change.action, "amended")
        ConversionChange.objects.bulk_update(batch, ["snapshot"])
        after = batch[-1].sequence


class Migration(migrations.Migration):
    dependencies = [("conversions", "0004_claims")]

    operations = [migrations.RunPython(add_change_type, migrations.RunPython.noop)]
