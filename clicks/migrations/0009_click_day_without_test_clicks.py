"""Take test clicks out of the days already rolled up.

Before this, `roll_up_click_days` counted test clicks (all from the integration test
partner) like real ones. Only that partner's rows can hold any: each is counted again from
its real clicks (through the (partner_id, created_at) index, so only that partner's
clicks are read) and deleted when none are left.
"""

from datetime import UTC, datetime, time, timedelta

from django.db import migrations

INTEGRATION_TEST_PARTNER_NAME = "Retrack integration test"


def recount_the_test_partners_days(apps, schema_editor) -> None:
    Partner = apps.get_model("partners", "Partner")
    Click = apps.get_model("clicks", "Click")
    ClickDay = apps.get_model("clicks", "ClickDay")
    partner = Partner.objects.filter(name=INTEGRATION_TEST_PARTNER_NAME).first()
    if partner is None:
        return
    for row in ClickDay.objects.filter(partner=partner):
        since = datetime.combine(row.day, time.min, tzinfo=UTC)
        real = Click.objects.filter(
            partner=partner,
            program_id=row.program_id,
            test=False,
            created_at__gte=since,
            created_at__lt=since + timedelta(days=1),
        )
        row.clicks = real.filter(is_bot=False).count()
        row.bot_clicks = real.filter(is_bot=True).count()
        if row.clicks or row.bot_clicks:
            row.save(update_fields=["clicks", "bot_clicks"])
        else:
            row.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("clicks", "0008_click_day_bot_clicks"),
    ]

    operations = [
        migrations.RunPython(recount_the_test_partners_days, migrations.RunPython.noop),
    ]
