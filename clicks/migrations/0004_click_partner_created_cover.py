"""The (partner, created_at) index also carries program_id and is_bot (PostgreSQL INCLUDE).

The partner stats count a partner's clicks per program and day from this index alone. It
replaces `click_partner_created` rather than joining it, so a click still costs the same
number of index insertions. Both steps run CONCURRENTLY on PostgreSQL: clicks keep being
recorded while the new index builds.
"""

import importlib

from django.db import migrations, models

AddIndexConcurrentlyOnPostgres = importlib.import_module(
    "clicks.migrations.0003_click_to_anonymize_index"
).AddIndexConcurrentlyOnPostgres


class RemoveIndexConcurrentlyOnPostgres(migrations.RemoveIndex):
    """DROP INDEX CONCURRENTLY on PostgreSQL: no lock that would hold up clicks."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            index = from_state.models[app_label, self.model_name_lower].get_index_by_name(self.name)
            schema_editor.remove_index(model, index, concurrently=True)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            index = to_state.models[app_label, self.model_name_lower].get_index_by_name(self.name)
            schema_editor.add_index(model, index, concurrently=True)


class Migration(migrations.Migration):
    # CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [("clicks", "0003_click_to_anonymize_index")]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="click",
            index=models.Index(
                fields=["partner", "created_at"],
                include=("program", "is_bot"),
                name="click_partner_created_cover",
            ),
        ),
        RemoveIndexConcurrentlyOnPostgres(model_name="click", name="click_partner_created"),
    ]
