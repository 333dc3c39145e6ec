import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clicks", "0001_initial"),
        ("partners", "0001_initial"),
        ("stores", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="click",
            name="is_anonymized",
            field=models.BooleanField(
                default=False,
                editable=False,
                help_text="The IP address is cut and the user agent reduced to its family.",
            ),
        ),
        # The (program, created_at) and (partner, created_at) indexes cover these.
        migrations.AlterField(
            model_name="click",
            name="partner",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="partners.partner",
            ),
        ),
        migrations.AlterField(
            model_name="click",
            name="program",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="stores.program",
            ),
        ),
    ]
