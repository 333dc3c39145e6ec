from django.db import migrations


def create_change_counter(apps, schema_editor):
    ChangeCounter = apps.get_model("conversions", "ChangeCounter")
    ChangeCounter.objects.get_or_create(pk=1, defaults={"last_sequence": 0})


class Migration(migrations.Migration):
    dependencies = [("conversions", "0001_initial")]

    operations = [migrations.RunPython(create_change_counter, migrations.RunPython.noop)]
