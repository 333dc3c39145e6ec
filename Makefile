# Retrack: `make run` serves it with demo data, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# seed_demo prints links with them (RETRACK_PUBLIC_URL follows HOST and PORT when unset).
export HOST PORT

.PHONY: run test install lint format check-migrations browser optional-browser pgbouncer optional-pgbouncer bench-clicks bench-conversions bench-feed bench-webhooks bench-pgbouncer clean

$(VENV)/.installed: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit("Retrack needs Python 3.11 or newer" if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

# A local .env with a fresh secret, made once; never committed.
.env:
	@$(PY) -c 'import secrets; print(f"SECRET_KEY={secrets.token_urlsafe(50)}")' > .env
	@printf 'ALLOWED_HOSTS=127.0.0.1,localhost\nSESSION_COOKIE_SECURE=false\nCSRF_COOKIE_SECURE=false\n' >> .env
	@echo "Wrote .env (SQLite, local secret). Edit it to use PostgreSQL: DATABASE_URL=postgres://..."

run: install .env
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py seed_demo
	@echo "Serving Retrack at http://$(HOST):$(PORT)/ with its worker and beat (Ctrl-C stops all)"
	@# The worker runs the periodic jobs (--beat) and the webhooks; without CELERY_BROKER_URL
	@# its queue is a folder (.celery/), so nothing else needs installing. Stopped with gunicorn.
	@$(VENV)/bin/celery -A retrack worker --beat --concurrency 4 --loglevel INFO & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(VENV)/bin/gunicorn retrack.wsgi --bind $(HOST):$(PORT) --workers 2 --access-logfile -

test: install optional-browser optional-pgbouncer
	$(PY) -m pytest -n 2

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check-migrations: install
	DEBUG=true $(PY) manage.py makemigrations --check --dry-run

# Debian's Chromium, for the end-to-end tests in tests/e2e (they skip without it).
browser:
	command -v chromium || (apt-get update && apt-get install -y chromium)

# `make test` installs Chromium where it can (as root, e.g. CI); elsewhere the browser
# tests skip and say why.
optional-browser:
	@command -v chromium >/dev/null || [ "$$(id -u)" != 0 ] || $(MAKE) --no-print-directory browser \
		|| echo "Chromium could not be installed: the browser tests will skip."

# Debian's PgBouncer, for the tests of Retrack behind it in transaction mode
# (tests/operations/test_pgbouncer.py; they skip without it). Each test session starts a
# private one on a free port; the package's own service is not needed.
pgbouncer:
	command -v pgbouncer || test -x /usr/sbin/pgbouncer || (apt-get update && apt-get install -y pgbouncer)

optional-pgbouncer:
	@command -v pgbouncer >/dev/null || test -x /usr/sbin/pgbouncer || [ "$$(id -u)" != 0 ] \
		|| $(MAKE) --no-print-directory pgbouncer \
		|| echo "PgBouncer could not be installed: the PgBouncer tests will skip."

clean:
	rm -rf $(VENV) staticfiles .pytest_cache

# The click hot path under load (gunicorn + PostgreSQL + wrk) against a bare WSGI
# baseline in the same run; writes the "## Clicks" section of bench/RESULTS.md.
bench-clicks: install
	$(PY) bench/clicks.py

# Store API create path on gunicorn + PostgreSQL (own database); see bench/RESULTS.md.
bench-conversions: install
	$(PY) bench/bench_conversions.py

# Webhooks: commit-to-delivery delay at 50 conversions/s, the store API with webhooks on
# against off, one worker's deliveries/s (PostgreSQL and RabbitMQ at 127.0.0.1).
bench-webhooks: install
	flock /tmp/retrack-bench.lock $(PY) bench/webhooks.py

# The click path straight to PostgreSQL and through PgBouncer in transaction mode, side by side.
bench-pgbouncer: install pgbouncer
	flock /tmp/retrack-bench.lock $(PY) bench/pgbouncer.py

# Load a million conversions into PostgreSQL (retrack_bench_feed), read the partner feed through
# gunicorn; then 16 writers holding their transactions 20 ms, old design against new.
bench-feed: install
	flock /tmp/retrack-bench.lock $(PY) bench/feed.py
	flock /tmp/retrack-bench.lock $(PY) bench/feed_writers.py

# The back office's overview on a big synthetic click table (PostgreSQL at 127.0.0.1:5432).
.PHONY: bench-reports
bench-reports: install
	bench/report_at_scale.sh
