"""Retrack settings, read from the environment (and an optional `.env` file).

Every Retrack-specific setting carries the `RETRACK_` prefix and is listed with its
default in README.md and `.env.example`.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from retrack.lib.pooler import configure_pooler

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.FileAwareEnv()
# RETRACK_ENV_FILE names another file to read (or /dev/null); set to empty, no file is read:
# the environment alone, as the settings tests and the tests that start Retrack in a
# process of its own use it, so that a local .env cannot change what they check.
_env_file = os.environ.get("RETRACK_ENV_FILE", str(BASE_DIR / ".env"))
if _env_file:
    environ.FileAwareEnv.read_env(_env_file, overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment or in .env "
            "(only DEBUG=true may run without one)."
        )
    SECRET_KEY = "insecure-development-key-never-use-in-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS is not set. List the host names Retrack answers on, "
            "comma-separated (only DEBUG=true may run without it)."
        )
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "stores",
    "partners",
    "clicks",
    "conversions",
    "axes",
    "csp",
    "retrack.jobs",
    "retrack.audit",
]

MIDDLEWARE = [
    "retrack.middleware.RequestIdMiddleware",
    "retrack.middleware.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise: static files need no policy of their own.
    "retrack.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "retrack.api.caching.NoStoreApiMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Names the operator in the history of what they change (django-simple-history).
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it answers a locked-out login attempt.
    "axes.middleware.AxesMiddleware",
]

# django-axes first: it refuses a locked-out login before the password is even checked.
# AxesBackend rather than AxesStandaloneBackend because it is also a ModelBackend, so the
# session of a user logged in through it (client.force_login in tests) loads the user.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "retrack.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "retrack.wsgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}


def _postgresql_options(database: dict) -> None:
    database["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=600)
    # Off by default: the check is a `SELECT 1` round trip before every request's first
    # query, as much as the click's own INSERT. Without it, a connection that died (a
    # database restart) fails one request per worker thread and is then replaced; the
    # click path retries its INSERT on a fresh connection, and the store API is
    # idempotent, so a store's retry is safe.
    database["CONN_HEALTH_CHECKS"] = env.bool("DATABASE_HEALTH_CHECKS", default=False)
    # Off by default, as in Django: binding every query's parameters on the server
    # measured no faster on the store API (bench/RESULTS.md). The click's INSERT and the
    # store API's statements are bound on the server either way (retrack/lib/plain_sql.py),
    # and prepared unless a pooler in transaction mode forbids it (retrack/lib/pooler.py).
    database.setdefault("OPTIONS", {})["server_side_binding"] = env.bool(
        "DATABASE_SERVER_SIDE_BINDING", default=False
    )


if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _postgresql_options(DATABASES["default"])
else:
    # SQLite: wait for the single writer instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )

# A streaming read replica of the primary (README, "The read replica"): the partner feed,
# the partner stats, the overview and the dashboard read from it, through
# `retrack.lib.replica.read_alias()`; every write, and every read that must see one, stays
# on "default". Unset, there is no "replica" alias and those reads use the primary; so do
# they while the replica cannot be reached.
_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
if _REPLICA_URL:
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            "DATABASE_REPLICA_URL needs DATABASE_URL to be PostgreSQL: a replica is a "
            "PostgreSQL standby of the primary."
        )
    DATABASES["replica"] = env.db_url_config(_REPLICA_URL)
    if DATABASES["replica"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must be a postgres:// URL.")
    _postgresql_options(DATABASES["replica"])
    # Tests create no database on a standby (it is read-only): under test the alias is a
    # second connection to the test database.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
# A replica that cannot be reached is held down for this many seconds: meanwhile those
# reads go to the primary, then the replica is tried again (retrack/lib/replica.py).
RETRACK_REPLICA_RETRY_SECONDS = env.int("RETRACK_REPLICA_RETRY_SECONDS", default=30)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Behind PgBouncer (or another pooler) in transaction mode: no server-side cursors and no
# prepared statements, and settings that would keep session state are refused
# (retrack/lib/pooler.py, README "PgBouncer").
DATABASE_POOLER = env.str("DATABASE_POOLER", default="none").strip().lower()
# Every alias: the replica sits behind a pooler as the primary does.
for _database in DATABASES.values():
    configure_pooler(_database, DATABASE_POOLER)

CACHES = {
    "default": env.cache("CACHE_URL", default="locmemcache://retrack"),
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Bodies over 1 MB are refused before they are parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024


def _proxy_ssl_header(value: str) -> tuple[str, str] | None:
    """Django's SECURE_PROXY_SSL_HEADER from e.g. "X-Forwarded-Proto: https"; empty: None."""
    if not value.strip():
        return None
    name, separator, secure_value = value.partition(":")
    if not separator or not name.strip() or not secure_value.strip():
        raise ImproperlyConfigured(
            f"SECURE_PROXY_SSL_HEADER must read 'Header-Name: value', not {value!r}."
        )
    return "HTTP_" + name.strip().upper().replace("-", "_"), secure_value.strip()


# HTTPS. The proxy header is believed only when set: by default when trusted proxies are
# declared, since they are the ones who terminate TLS. HSTS is sent only on requests that
# arrived over HTTPS, so a year by default costs nothing on a plain-HTTP test setup.
SECURE_PROXY_SSL_HEADER = _proxy_ssl_header(
    env.str(
        "SECURE_PROXY_SSL_HEADER",
        default="X-Forwarded-Proto: https" if env.int("RETRACK_TRUSTED_PROXIES", default=0) else "",
    )
)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)

# Covering indexes (INCLUDE) are a PostgreSQL speed-up; SQLite builds the same indexes
# without the included columns, which is all a development database needs.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# The admin login's lockout (django-axes): after RETRACK_LOGIN_FAILURE_LIMIT wrong passwords
# for one username from one address, that username is refused from that address (even
# with the right password) for RETRACK_LOGIN_LOCKOUT_MINUTES (0: until an operator
# unlocks it with `manage.py axes_reset_username` and friends). Keyed on the pair, so that
# an attacker cannot lock every operator out from their own address; the address is the
# one RETRACK_TRUSTED_PROXIES designates, as everywhere else. Counted in the database, so
# every worker sees the same count.
AXES_FAILURE_LIMIT = env.int("RETRACK_LOGIN_FAILURE_LIMIT", default=5)
_LOCKOUT_MINUTES = env.int("RETRACK_LOGIN_LOCKOUT_MINUTES", default=15)
AXES_COOLOFF_TIME = timedelta(minutes=_LOCKOUT_MINUTES) if _LOCKOUT_MINUTES > 0 else None
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "retrack.lib.visitors.request_client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/login_locked_out.html"

# The back office and every other page Django renders may load scripts, styles, images and
# fonts only from Retrack itself, run no inline script or style, and never be framed. Retrack's
# own templates keep their styles and scripts in static files for it (static/backoffice/).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
    }
}

# The history of stores, programs, events, partners, admissions and tokens is a record, not
# an undo: reverting from it would skip the forms' validation.
SIMPLE_HISTORY_REVERT_DISABLED = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["retrack.api.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "EXCEPTION_HANDLER": "retrack.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "retrack.api.schema.RetrackAutoSchema",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Retrack API",
    "DESCRIPTION": "Store API (server-to-server conversions) and partner API (conversion feed).",
    "VERSION": "2",
    "ENUM_NAME_OVERRIDES": {
        "ConversionStatusEnum": "conversions.models.ConversionStatus.values",
        "ClaimStatusEnum": "conversions.claims.models.ClaimStatus.values",
        "RejectedStatusEnum": ["rejected"],
        "AcceptedStatusEnum": ["accepted"],
        "DeclinedStatusEnum": ["declined"],
        "TransactionKindEnum": ["transaction"],
        "LeadKindEnum": ["lead"],
        "EventKindEnum": "stores.models.EventKind",
        "ConversionSourceEnum": "conversions.models.ConversionSource",
        "ReportSourceEnum": "conversions.models.ReportSource",
        "FlagCodeEnum": "conversions.models.FlagCode",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "retrack.api.schema.complete_answers",
    ],
    # A PATCH body is its own declaration (`TransactionPatch`), not a partial POST body.
    "COMPONENT_SPLIT_PATCH": False,
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs page's assets are served by Retrack itself, not fetched from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# `plain` lines or `json` (one object per line, for a log shipper); both carry the
# request id and never a token secret (retrack/lib/logs.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}.")
# Logs cut IP addresses as anonymize_clicks does, unless this allows them whole.
RETRACK_LOG_FULL_IP_ADDRESSES = env.bool("RETRACK_LOG_FULL_IP_ADDRESSES", default=False)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "()": "retrack.lib.logs.PlainFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
            "full_ip_addresses": RETRACK_LOG_FULL_IP_ADDRESSES,
        },
        "json": {
            "()": "retrack.lib.logs.JsonFormatter",
            "full_ip_addresses": RETRACK_LOG_FULL_IP_ADDRESSES,
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- Retrack's own settings -------------------------------------------------------------

# Where Retrack is reached from the outside; used to print tracking links and snippets.
# Unset, the public URL is where `make run` serves: HOST (a bind-all address becomes
# 127.0.0.1, which a browser can open) and PORT.
_host = env.str("HOST", default="127.0.0.1")
_host = "127.0.0.1" if _host in {"", "0.0.0.0", "::", "[::]"} else _host
RETRACK_PUBLIC_URL = env.str(
    "RETRACK_PUBLIC_URL", default=f"http://{_host}:{env.int('PORT', default=8000)}"
).rstrip("/")
SPECTACULAR_SETTINGS["SERVERS"] = [{"url": RETRACK_PUBLIC_URL, "description": "This Retrack"}]
# How many reverse proxies in front of Retrack append to X-Forwarded-For (0: never trust it).
RETRACK_TRUSTED_PROXIES = env.int("RETRACK_TRUSTED_PROXIES", default=0)
# A request header set by a trusted proxy/CDN with the visitor's ISO country (e.g. CF-IPCountry).
RETRACK_COUNTRY_HEADER = env.str("RETRACK_COUNTRY_HEADER", default="")
# A MaxMind GeoIP2/GeoLite2 Country database file, used when no country header is set.
RETRACK_GEOIP_PATH = env.str("RETRACK_GEOIP_PATH", default="")
# How long the program/admission lookup of the click hot path is cached, in seconds.
RETRACK_PROGRAM_CACHE_SECONDS = env.int("RETRACK_PROGRAM_CACHE_SECONDS", default=30)
# Browser tag reports (beacon and pixel) accepted per minute from one IP address and for
# one click; more are answered 429 and not stored. 0 turns a limit off.
RETRACK_TAG_RATE_PER_IP = env.int("RETRACK_TAG_RATE_PER_IP", default=120)
RETRACK_TAG_RATE_PER_CLICK = env.int("RETRACK_TAG_RATE_PER_CLICK", default=10)
# Where those throttles count, so that every worker process sees the same counts:
# "auto" (Redis or memcached when CACHE_URL names one, else the database), "database"
# or "cache" (a per-process cache there draws the check warning conversions.W001).
RETRACK_THROTTLE_COUNTS = env.str("RETRACK_THROTTLE_COUNTS", default="auto")
# How many days the report log (GET /api/v2/reports) keeps an entry.
RETRACK_REPORT_LOG_DAYS = env.int("RETRACK_REPORT_LOG_DAYS", default=30)
# The bearer token Prometheus sends to read /metrics; empty: /metrics answers 404.
RETRACK_METRICS_TOKEN = env.str("RETRACK_METRICS_TOKEN", default="")

# Error reports to Sentry or a compatible server; unset, nothing is initialised or sent.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from retrack.lib.error_reports import start_error_reports

    start_error_reports(
        SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default=""),
        release=env.str("SENTRY_RELEASE", default=""),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        full_ip_addresses=RETRACK_LOG_FULL_IP_ADDRESSES,
    )

# --- Jobs and webhooks (Celery) -----------------------------------------------------------

# The queue between the web process and the worker. Production: RabbitMQ, e.g.
# amqp://retrack:password@127.0.0.1:5672// (Redis works too). The default is a folder of
# files beside manage.py, which web, worker and beat share on one machine: it needs no
# other service (`make run`), but not for two machines.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
RETRACK_BROKER_FOLDER = Path(env.str("RETRACK_BROKER_FOLDER", default=str(BASE_DIR / ".celery")))
if CELERY_BROKER_URL.startswith("filesystem:"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(RETRACK_BROKER_FOLDER / "queue"),
        "data_folder_out": str(RETRACK_BROKER_FOLDER / "queue"),
        "control_folder": str(RETRACK_BROKER_FOLDER / "control"),
        "store_processed": False,
        "polling_interval": 0.2,
    }
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="retrack")
CELERY_BEAT_SCHEDULE_FILENAME = env.str(
    "CELERY_BEAT_SCHEDULE_FILENAME", default=str(RETRACK_BROKER_FOLDER / "beat-schedule")
)
# Nothing reads task results: every job writes what it did to the database (JobRun).
CELERY_TASK_IGNORE_RESULT = True
# A task's message is acknowledged after it ran, and given back when its worker dies, so a
# worker killed mid-task does not lose it; tasks are idempotent for that reason.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Publishing never waits long for a broker that is down: the sweep catches up instead.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_SEND_TASK_EVENTS = False

# How old clicks get before the periodic jobs anonymize and delete them; 0 turns a job off.
RETRACK_ANONYMIZE_CLICKS_AFTER_DAYS = env.int("RETRACK_ANONYMIZE_CLICKS_AFTER_DAYS", default=90)
RETRACK_PRUNE_CLICKS_AFTER_DAYS = env.int("RETRACK_PRUNE_CLICKS_AFTER_DAYS", default=400)

# Webhooks (contract section 9). The delays between attempts of one delivery, in seconds.
_retry_seconds = env.list(
    "RETRACK_WEBHOOK_RETRY_SECONDS",
    default=["60", "300", "1800", "7200", "21600", "43200", "86400", "86400", "86400"],
)
if not _retry_seconds or not all(
    delay.strip().isdigit() and int(delay) > 0 for delay in _retry_seconds
):
    raise ImproperlyConfigured(
        "RETRACK_WEBHOOK_RETRY_SECONDS must be whole numbers of seconds, 1 or more, "
        f"separated by commas, not {','.join(_retry_seconds)!r}."
    )
RETRACK_WEBHOOK_RETRY_SECONDS = [int(delay) for delay in _retry_seconds]
# Development and tests only: also allow http and private, loopback and link-local addresses.
RETRACK_WEBHOOK_ALLOW_PRIVATE = env.bool("RETRACK_WEBHOOK_ALLOW_PRIVATE", default=False)
# How often beat looks for deliveries that are due (a retry, or a message the broker lost).
RETRACK_WEBHOOK_SWEEP_SECONDS = env.float("RETRACK_WEBHOOK_SWEEP_SECONDS", default=10.0)
# How long an attempt holds its delivery: past this a worker that died mid-attempt is
# presumed dead and the sweep sends again. Longer than an attempt's hard time limit.
RETRACK_WEBHOOK_LEASE_SECONDS = env.int("RETRACK_WEBHOOK_LEASE_SECONDS", default=60)

# How often beat numbers committed changes for the partner feed and webhooks
# (conversions.services.sequencing): how far behind a feed read from a replica can lag.
RETRACK_SEQUENCER_SECONDS = env.float("RETRACK_SEQUENCER_SECONDS", default=1.0)

CELERY_BEAT_SCHEDULE = {
    # Other apps add their periodic jobs here: the entry names the task and when.
    "approve-due-conversions": {
        "task": "conversions.tasks.approve_due_conversions_job",
        "schedule": crontab(minute=5),
    },
    "anonymize-clicks": {
        "task": "clicks.tasks.anonymize_clicks_job",
        "schedule": crontab(hour=3, minute=15),
    },
    "prune-clicks": {
        "task": "clicks.tasks.prune_clicks_job",
        "schedule": crontab(hour=3, minute=45, day_of_week=0),
    },
    "prune-report-log": {
        "task": "conversions.tasks.prune_report_log_job",
        "schedule": crontab(hour=4, minute=10),
    },
    "roll-up-clicks": {
        "task": "clicks.tasks.roll_up_clicks_job",
        "schedule": crontab(hour=0, minute=20),
    },
    "create-click-partitions": {
        "task": "clicks.tasks.create_click_partitions_job",
        "schedule": crontab(hour=0, minute=5),
    },
    "sweep-webhook-deliveries": {
        "task": "partners.tasks.sweep_webhook_deliveries_job",
        "schedule": RETRACK_WEBHOOK_SWEEP_SECONDS,
    },
    "sequence-changes": {
        "task": "conversions.tasks.sequence_changes_job",
        "schedule": RETRACK_SEQUENCER_SECONDS,
    },
}
