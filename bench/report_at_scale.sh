#!/usr/bin/env bash
# The back office's overview on a big synthetic table: fills PostgreSQL with CLICKS clicks
# (and one conversion per 100 clicks) spread over DAYS days, then times the overview's two
# aggregate queries for the last 30 days and prints their plans; then once more with the
# partial index the README suggests; then times the partner stats with the covering
# index they ship with and, as the baseline, with the plain index it replaced. Run by
# `make bench-reports`. ONLY=dashboard (or ONLY=overview) times the dashboard (or the
# overview) alone after the fill.
set -euo pipefail
cd "$(dirname "$0")/.."

CLICKS=${CLICKS:-6000000}
DAYS=${DAYS:-300}
DB=${DB:-retrack_bench_reports}
PSQL=(psql -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres)

export DEBUG=true DATABASE_URL="postgres://postgres@127.0.0.1:5432/${DB}"
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS ${DB}" -c "CREATE DATABASE ${DB}"
trap '"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS ${DB}"' EXIT
.venv/bin/python manage.py migrate --noinput -v 0
.venv/bin/python manage.py seed_demo > /dev/null

echo "== filling ${CLICKS} clicks over ${DAYS} days (3 % bots) and $((CLICKS / 100)) conversions"
"${PSQL[@]}" -d "${DB}" <<SQL
-- Time-ordered like UUIDv7: 48 bits of milliseconds, then the version, then a counter.
INSERT INTO clicks_click (uuid, partner_id, program_id, ref, ref2, ref3, deeplink, ip_address,
                          browser, referer, country, created_at, is_bot, is_anonymized, test)
SELECT (lpad(to_hex(floor(extract(epoch FROM at) * 1000)::bigint), 12, '0') || '7000' || '8'
        || lpad(to_hex(i), 15, '0'))::uuid,
       (SELECT id FROM partners_partner LIMIT 1),
       programs.ids[1 + i % array_length(programs.ids, 1)],
       'rf-' || i, '', '', 'https://www.awesome-store.example/shoes?id=' || (i % 5000),
       ('192.0.2.' || (i % 250))::inet, 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0',
       'https://www.refunder.se/', 'SE', at, i % 33 = 0, false, false
FROM generate_series(1, ${CLICKS}) AS i,
     LATERAL (SELECT now() - interval '${DAYS} days'
                     + (interval '${DAYS} days') * i / ${CLICKS} AS at) AS moment,
     (SELECT array_agg(id ORDER BY id) AS ids FROM stores_program) AS programs;

INSERT INTO conversions_conversion (uuid, kind, status, status_reason, program_id, partner_id,
    click_id, event_id, order_number, reference, order_sum, vat_sum, commission,
    commission_breakdown, currency, vouchers, source, payload_fingerprint, created_at,
    updated_at, confirmed, test)
SELECT gen_random_uuid(), 'transaction', (ARRAY['pending', 'approved', 'rejected'])[1 + n % 3],
       '', c.program_id, c.partner_id, c.uuid,
       (SELECT id FROM stores_event e WHERE e.program_id = c.program_id
          AND e.kind = 'transaction' ORDER BY id LIMIT 1),
       'order-' || n, NULL, 10000 + n % 900, 2000, 648, '[]', 'SEK', '[]', 'api', '',
       c.created_at + interval '1 hour', c.created_at + interval '1 hour', true, false
FROM (SELECT row_number() OVER () AS n, * FROM clicks_click WHERE ref ~ '00\$') AS c;

VACUUM ANALYZE clicks_click;
VACUUM ANALYZE conversions_conversion;
SQL

# Summed over the partitions: on PostgreSQL the click table and its indexes are partitioned.
"${PSQL[@]}" -d "${DB}" -Atc "SELECT 'table sizes: clicks ' || pg_size_pretty((SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('clicks_click'))) || ', click_program_created ' || pg_size_pretty((SELECT sum(pg_relation_size(relid)) FROM pg_partition_tree('click_program_created')))"
if [ "${ONLY:-}" = overview ]; then
    echo "== the overview, counted live, then read from the roll-up"
    PYTHONPATH=. .venv/bin/python bench/report_at_scale.py
    exit 0
fi
if [ "${ONLY:-}" = dashboard ]; then
    echo "== the dashboard (admin home), with the finished days rolled up"
    PYTHONPATH=. .venv/bin/python bench/report_at_scale.py dashboard
    exit 0
fi
PYTHONPATH=. .venv/bin/python bench/report_at_scale.py

echo "== partner stats (GET /api/v2/partner/stats), as shipped: click_partner_created_cover"
"${PSQL[@]}" -d "${DB}" -Atc "SELECT 'index size: ' || pg_size_pretty(pg_relation_size('click_partner_created_cover'))"
PYTHONPATH=. .venv/bin/python bench/report_at_scale.py partner-stats

echo "== partner stats, as shipped, once roll_up_clicks has run (finished days from ClickDay)"
PYTHONPATH=. .venv/bin/python bench/report_at_scale.py partner-stats rolled-up

echo "== the dashboard (admin home), with the finished days rolled up"
PYTHONPATH=. .venv/bin/python bench/report_at_scale.py dashboard

echo "== partner stats, baseline: the plain (partner_id, created_at) index it replaced"
"${PSQL[@]}" -d "${DB}" -c "DROP INDEX click_partner_created_cover" \
    -c "CREATE INDEX click_partner_created ON clicks_click (partner_id, created_at)" \
    -c "VACUUM ANALYZE clicks_click"
"${PSQL[@]}" -d "${DB}" -Atc "SELECT 'index size: ' || pg_size_pretty(pg_relation_size('click_partner_created'))"
PYTHONPATH=. .venv/bin/python bench/report_at_scale.py partner-stats

echo "== again with a partial index of the counted clicks (what the README suggests first)"
"${PSQL[@]}" -d "${DB}" -c "CREATE INDEX click_counted_program_created ON clicks_click
    (program_id, created_at) WHERE NOT is_bot" -c "VACUUM ANALYZE clicks_click"
PYTHONPATH=. .venv/bin/python bench/report_at_scale.py
