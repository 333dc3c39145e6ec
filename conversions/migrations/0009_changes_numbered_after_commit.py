"""Changes are numbered after they commit, by the sequencer, instead of by their writer.

`sequence` becomes nullable (NULL: committed, not numbered yet) with a partial index on
what waits for a number. Rows written before keep their numbers and their snapshots'
`change`: they were numbered by their writers, in commit order. The counter must stand at
least at the highest number in use, since the sequencer continues from it: a counter row
lost (or behind, after a restore) is set to that maximum here.
"""

from django.db import migrations, models
from django.db.models import Max


def counter_at_least_the_highest_number(apps, schema_editor):
    ChangeCounter = apps.get_model("conversions", "ChangeCounter")
    ConversionChange = apps.get_model("conversions", "ConversionChange")
    Claim = apps.get_model("conversions", "Claim")
    highest = max(
        ConversionChange.objects.aggregate(highest=Max("sequence"))["highest"] or 0,
        Claim.objects.aggregate(highest=Max("sequence"))["highest"] or 0,
    )
    counter, _ = ChangeCounter.objects.get_or_create(pk=1, defaults={"last_sequence": highest})
    if counter.last_sequence < highest:
        ChangeCounter.objects.filter(pk=1).update(last_sequence=highest)


class Migration(migrations.Migration):
    dependencies = [
        ("conversions", "0008_trust_flags_confirmation_throttles"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="conversionchange",
            options={"ordering": ["id"]},
        ),
        migrations.AlterField(
            model_name="claim",
            name="sequence",
            field=models.BigIntegerField(blank=True, editable=False, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name="conversionchange",
            name="sequence",
            field=models.BigIntegerField(blank=True, editable=False, null=True, unique=True),
        ),
        migrations.AddIndex(
            model_name="claim",
            index=models.Index(
                condition=models.Q(("sequence__isnull", True)),
                fields=["id"],
                name="claim_unsequenced",
            ),
        ),
        migrations.AddIndex(
            model_name="conversionchange",
            index=models.Index(
                condition=models.Q(("sequence__isnull", True)),
                fields=["id"],
                name="change_unsequenced",
            ),
        ),
        migrations.RunPython(counter_at_least_the_highest_number, migrations.RunPython.noop),
    ]
