"""Benchmark of the partner feed: read a million conversions through the API.

`make bench-feed` runs it (then bench/feed_writers.py, the write path). It (re)creates the
PostgreSQL database `retrack_bench_feed` (BENCH_DATABASE; gunicorn on BENCH_PORT, 18300),
loads clicks, conversions and their `ConversionChange` rows in bulk SQL (realistic
~1.5 KB snapshots built from a real `conversion_document`), starts gunicorn, and reads
the polled partner's whole feed page by page (1000 a page) over one keep-alive
connection, as a poller would: parsing each page and following `next_cursor`. It
reports conversions per second and the median latency of the first and of the last page.

    .venv/bin/python bench/feed.py [--conversions 1000000] [--reuse]

Targets: at least 20,000 conversions/s, and the last page no slower than 1.5x the first.
"""

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
SERVER = "postgres://postgres@127.0.0.1:5432"
DATABASE = os.environ.get("BENCH_DATABASE", "retrack_bench_feed")
HOST, PORT = "127.0.0.1", int(os.environ.get("BENCH_PORT", "18300"))
PAGE_SIZE = 1000
OTHER_PARTNER_EVERY = 11  # every 11th conversion belongs to another partner, interleaved
SAMPLES = 9
FEED_PATH = "/api/v2/partner/conversions"

os.environ.update(
    DATABASE_URL=f"{SERVER}/{DATABASE}",
    DJANGO_SETTINGS_MODULE="retrack.settings",
    DEBUG="false",
    SECRET_KEY="bench-feed-secret-key-not-for-production-0123456789",
    ALLOWED_HOSTS=HOST,
    LOG_LEVEL="WARNING",
)
sys.path.insert(0, str(ROOT))

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, models, transaction  # noqa: E402

from clicks.models import Click  # noqa: E402
from conversions.models import ChangeCounter, Conversion, ConversionChange  # noqa: E402
from conversions.selectors import conversion_document, conversions_with_relations  # noqa: E402
from partners.models import Partner  # noqa: E402
from partners.services import admit_partner, issue_partner_token  # noqa: E402
from retrack.lib.money import percent_of  # noqa: E402
from stores.models import Event, Program, Store  # noqa: E402

BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)


def recreate_database() -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DATABASE}")
    connection.close()
    call_command("migrate", verbosity=0)


LINES = [
    ("SKU-1001", "Running shoe Aero 2, blue, size 43", 1, 99900, 19980),
    ("SKU-2044", "Sports socks, 3-pack", 2, 14900, 2980),
]


def _breakdown_entry(line, event: Event, base: int) -> dict:
    return {
        "line": line,
        "event": {"uuid": str(event.uuid), "name": event.name},
        "method": "percent_of_net",
        "base": base,
        "rate": f"{event.percent.normalize():f}",
        "result": percent_of(base, event.percent),
    }


def template_snapshot(
    program: Program, partner: Partner, events: list[Event], line_count: int
) -> dict:
    """A real conversion document with `line_count` product lines, built and rolled back."""
    with transaction.atomic():
        click = Click.objects.create(
            partner=partner,
            program=program,
            ref="38315327",
            deeplink="https://www.awesome-store.example/shoes/running?utm_source=refunder",
            ip_address="192.0.2.10",
            browser=BROWSER,
            referer="https://www.refunder.se/butiker/awesome-store",
            country="SE",
        )
        lines = LINES[:line_count]
        order_sum = sum(quantity * price for _, _, quantity, price, _ in lines) or 49900
        vat_sum = sum(quantity * vat for _, _, quantity, _, vat in lines) or 9980
        conversion = Conversion.objects.create(
            kind="transaction",
            program=program,
            partner=partner,
            click=click,
            event=events[0],
            order_number="692549563",
            order_sum=order_sum,
            vat_sum=vat_sum,
            currency="SEK",
            vouchers=["SUMMER10"],
            source="api",
            confirmed=True,
        )
        breakdown = []
        for position, (reference, name, quantity, price, vat) in enumerate(lines):
            event = events[position % len(events)]
            entry = _breakdown_entry(position, event, quantity * (price - vat))
            breakdown.append(entry)
            conversion.lines.create(
                position=position,
                event=event,
                reference=reference,
                name=name,
                quantity=quantity,
                price=price,
                vat=vat,
                commission=entry["result"],
            )
        breakdown = breakdown or [_breakdown_entry(None, events[0], order_sum - vat_sum)]
        Conversion.objects.filter(pk=conversion.pk).update(
            commission=sum(entry["result"] for entry in breakdown),
            commission_breakdown=breakdown,
        )
        document = conversion_document(conversions_with_relations().get(pk=conversion.pk))
        transaction.set_rollback(True)
    return document


def insert_select(model: type[models.Model], expressions: dict[str, str], source: str) -> None:
    """INSERT … SELECT every column of `model`: given SQL expressions, else the default.

    Columns added later by other migrations get their model default, so the load keeps
    working as the schema grows.
    """
    columns, values, params = [], [], []
    for field in model._meta.concrete_fields:
        columns.append(connection.ops.quote_name(field.column))
        if field.name in expressions:
            values.append(expressions[field.name].replace("%", "%%"))
        else:
            default = field.get_default()  # "" for text fields without a default
            if default is None and not field.null:
                raise RuntimeError(f"bench/feed.py: no value for {model.__name__}.{field.name}")
            values.append("%s")
            params.append(field.get_db_prep_save(default, connection))
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM {source.replace('%', '%%')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def load(count: int) -> tuple[Partner, str]:
    """Load `count` conversions of the polled partner, plus the other partner's share."""
    store = Store.objects.create(name="Awesome Store")
    program = Program.objects.create(
        store=store,
        name="Awesome Store SE",
        currency="SEK",
        landing_url="https://www.awesome-store.example/",
        allowed_domains=["awesome-store.example"],
    )
    shoes, socks = (
        Event.objects.create(program=program, name=name, kind="transaction", percent=Decimal(rate))
        for name, rate in (("Shoes", "8"), ("Socks", "12.5"))
    )
    polled = Partner.objects.create(name="Refunder SE")
    other = Partner.objects.create(name="Refunder NO")
    admit_partner(polled, program)
    admit_partner(other, program)
    _, token = issue_partner_token(polled, name="bench")
    # A third of the orders each with no product lines, one, and two: ~1.5 KB on average.
    templates = [template_snapshot(program, polled, [shoes, socks], count) for count in (0, 1, 2)]
    publishers = {
        partner.pk: json.dumps(
            {**templates[0]["publisher"], "uuid": str(partner.uuid), "name": partner.name}
        )
        for partner in (polled, other)
    }
    total = count + count // (OTHER_PARTNER_EVERY - 1)
    start_ms = int(time.time() * 1000) - 30 * 86_400_000

    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute(
            """
            CREATE TEMP TABLE bench_rows AS
            SELECT i,
                   (lpad(to_hex(%(start)s + i * 2), 12, '0') || '7'
                    || lpad(to_hex(i %% 4096), 3, '0') || '8'
                    || substr(md5('click' || i), 1, 15))::uuid AS click_uuid,
                   (lpad(to_hex(%(start)s + i * 2 + 600000), 12, '0') || '7'
                    || lpad(to_hex(i %% 4096), 3, '0') || '9'
                    || substr(md5('conversion' || i), 1, 15))::uuid AS conversion_uuid,
                   CASE WHEN i %% %(every)s = 0 THEN %(other)s ELSE %(polled)s END AS partner_id,
                   to_timestamp((%(start)s + i * 2) / 1000.0) AS clicked_at,
                   to_timestamp((%(start)s + i * 2 + 600000) / 1000.0) AS converted_at
            FROM generate_series(1, %(total)s) AS i
            """,
            {
                "start": start_ms,
                "every": OTHER_PARTNER_EVERY,
                "other": other.pk,
                "polled": polled.pk,
                "total": total,
            },
        )
    iso = "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
    quoted = lambda value: "'" + value.replace("'", "''") + "'"  # noqa: E731
    template_sql = f"({quoted(json.dumps(templates))}::jsonb -> mod(i, 3)::int)"

    insert_select(
        Click,
        {
            "uuid": "click_uuid",
            "partner": "partner_id",
            "program": str(program.pk),
            "ref": "(38315327 + i)::text",
            "deeplink": "'https://www.awesome-store.example/shoes/running?utm_source=refunder&item='"
            " || i",
            "ip_address": "('192.0.2.' || (i % 250 + 1))::inet",
            "browser": quoted(BROWSER),
            "referer": "'https://www.refunder.se/butiker/awesome-store'",
            "country": "'SE'",
            "created_at": "clicked_at",
        },
        "bench_rows",
    )
    insert_select(
        Conversion,
        {
            "id": "i",
            "uuid": "conversion_uuid",
            "kind": "'transaction'",
            "status": "'pending'",
            "program": str(program.pk),
            "partner": "partner_id",
            "click": "click_uuid",
            "event": str(shoes.pk),
            "order_number": "'ORD-' || i",
            "order_sum": f"({template_sql} ->> 'order_sum')::bigint",
            "vat_sum": f"({template_sql} ->> 'vat_sum')::bigint",
            "commission": f"({template_sql} ->> 'commission')::bigint",
            "commission_breakdown": f"{template_sql} -> 'commission_breakdown'",
            "currency": "'SEK'",
            "vouchers": "'[\"SUMMER10\"]'::jsonb",
            "source": "'api'",
            # Reported by the store's server (the store API), hence confirmed.
            "confirmed": "true",
            "created_at": "converted_at",
            "updated_at": "converted_at",
        },
        "bench_rows",
    )
    publisher_sql = (
        f"CASE WHEN partner_id = {polled.pk} THEN {quoted(publishers[polled.pk])}::jsonb "
        f"ELSE {quoted(publishers[other.pk])}::jsonb END"
    )
    snapshot_sql = (
        f"{template_sql} || jsonb_build_object("
        "'uuid', conversion_uuid::text, 'order_number', 'ORD-' || i, 'change', i, "
        f"'created_at', {iso.format('converted_at')}, "
        f"'updated_at', {iso.format('converted_at')}, "
        f"'publisher', {publisher_sql}, "
        f"'click', {template_sql} -> 'click' || jsonb_build_object("
        "'uuid', click_uuid::text, 'ref', (38315327 + i)::text, "
        "'deeplink', 'https://www.awesome-store.example/shoes/running?utm_source=refunder&item='"
        f" || i, 'ip_address', '192.0.2.' || (i % 250 + 1), "
        f"'created_at', {iso.format('clicked_at')}))"
    )
    insert_select(
        ConversionChange,
        {
            "id": "i",
            "conversion": "i",
            "partner": "partner_id",
            "sequence": "i",
            "action": "'created'",
            "actor": "'store:Awesome Store'",
            "snapshot": snapshot_sql,
            "created_at": "converted_at",
        },
        "bench_rows",
    )
    with connection.cursor() as cursor:
        for model in (Conversion, ConversionChange):
            table = model._meta.db_table
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [total])
        ChangeCounter.objects.filter(pk=1).update(last_sequence=total)
        cursor.execute("DROP TABLE bench_rows")
        for model in (Click, Conversion, ConversionChange):
            cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")
    return polled, token


def start_server() -> subprocess.Popen:
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "retrack.wsgi",
            f"--bind={HOST}:{PORT}",
            "--workers=2",
            # gthread keeps connections alive between requests; the sync worker does not.
            "--worker-class=gthread",
            "--threads=2",
            "--keep-alive=30",
            "--no-control-socket",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONWARNINGS": "ignore::UserWarning"},
    )
    for _ in range(100):
        try:
            http.client.HTTPConnection(HOST, PORT, timeout=1).connect()
            return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError("gunicorn did not start")


def get_page(http_connection, token: str, cursor: str) -> tuple[float, dict, int]:
    query = urlencode({"limit": PAGE_SIZE, "cursor": cursor})
    started = time.perf_counter()
    http_connection.request(
        "GET", f"{FEED_PATH}?{query}", headers={"Authorization": f"Bearer {token}"}
    )
    response = http_connection.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise RuntimeError(f"{response.status}: {body[:300]!r}")
    return elapsed, json.loads(body), len(body)


def read_feed(token: str, expected: int) -> dict:
    """Read the whole feed as a poller does; then sample the first and the last page."""
    http_connection = http.client.HTTPConnection(HOST, PORT)
    get_page(http_connection, token, "")  # open the connection, warm the worker
    latencies, cursors, items, last_change, body_bytes = [], [""], 0, 0, 0
    started = time.perf_counter()
    cursor, has_more = "", True
    while has_more:
        elapsed, page, size = get_page(http_connection, token, cursor)
        latencies.append(elapsed)
        body_bytes += size
        data = page["data"]
        if data:
            assert data[0]["change"] > last_change, "the feed went backwards"
            last_change = data[-1]["change"]
        items += len(data)
        cursor, has_more = page["next_cursor"], page["has_more"]
        cursors.append(cursor)
    wall = time.perf_counter() - started
    assert items == expected, f"read {items} items, expected {expected}"
    # The last full page starts after the cursor that preceded it. Samples alternate
    # first and last, so that noise from other work on the machine hits both alike.
    last_cursor = cursors[-2]
    first_samples, last_samples = [], []
    for _ in range(SAMPLES):
        first_samples.append(get_page(http_connection, token, "")[0])
        last_samples.append(get_page(http_connection, token, last_cursor)[0])
    return {
        "items": items,
        "pages": len(latencies),
        "wall": wall,
        "requests": sum(latencies),
        "median_page": statistics.median(latencies),
        "p95_page": sorted(latencies)[int(len(latencies) * 0.95) - 1],
        "first": statistics.median(first_samples),
        "last": statistics.median(last_samples),
        "item_bytes": body_bytes / items,
    }


def report(result: dict, count: int, load_seconds: float | None, pg_version: int) -> str:
    api_rate = result["items"] / result["requests"]
    poller_rate = result["items"] / result["wall"]
    ratio = result["last"] / result["first"]
    loaded = f"loaded in {load_seconds:.0f} s" if load_seconds is not None else "reused"
    load_average = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return f"""
- {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; nproc {os.cpu_count()}; load average after the run {load_average}
- command: `make bench-feed` (`.venv/bin/python bench/feed.py --conversions {count}`); data {loaded}
- gunicorn, 2 gthread workers x 2 threads, PostgreSQL {pg_version // 10000} on the same machine; one poller on one keep-alive connection (`http.client`), {PAGE_SIZE} a page
- read: {result["items"]:,} conversions in {result["pages"]:,} pages, {result["item_bytes"]:,.0f} bytes per item as JSON
- through the API: **{api_rate:,.0f} conversions/s** (sum of the {result["pages"]:,} round trips, {result["requests"]:.1f} s; target >= 20,000)
- the poller, also parsing every page with the standard `json` module: {poller_rate:,.0f} conversions/s ({result["wall"]:.1f} s)
- page latency during the read: median {result["median_page"] * 1000:.1f} ms, p95 {result["p95_page"] * 1000:.1f} ms
- first page {result["first"] * 1000:.1f} ms, last page {result["last"] * 1000:.1f} ms (medians of {SAMPLES} alternating samples): **last/first = {ratio:.2f}** (target <= 1.5)
"""  # noqa: E501


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversions", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep an already loaded database")
    options = parser.parse_args()

    started = time.perf_counter()
    load_seconds = None
    if options.reuse and Partner.objects.filter(name="Refunder SE").exists():
        polled = Partner.objects.get(name="Refunder SE")
        _, token = issue_partner_token(polled, name="bench")
        count = ConversionChange.objects.filter(partner=polled).count()
    else:
        recreate_database()
        polled, token = load(options.conversions)
        count = options.conversions
        load_seconds = time.perf_counter() - started
        print(f"loaded {count:,} conversions in {load_seconds:.0f} s", flush=True)
    pg_version = connection.pg_version
    connection.close()

    server = start_server()
    try:
        result = read_feed(token, count)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(report(result, count, load_seconds, pg_version))


if __name__ == "__main__":
    main()
