"""Test settings: the real settings with a fast password hasher and a fixed key."""

import hashlib
import os
import tempfile
from pathlib import Path

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

from retrack.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False


def _migrations_fingerprint() -> str:
    """A hash of our migration files, names and contents.

    It is part of the test database's name, so a database that --reuse-db keeps (pytest's
    addopts) always has exactly the schema today's migrations make: pytest-django would
    apply a new migration to a kept database, but not one edited or renamed in place.
    """
    digest = hashlib.sha256()
    for path in sorted(BASE_DIR.glob("*/migrations/*.py")):  # noqa: F405
        digest.update(path.relative_to(BASE_DIR).as_posix().encode() + b"\0")  # noqa: F405
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # The end-to-end tests' live server answers from its own threads, which cannot safely
    # share the connection to an in-memory database: on SQLite the test database is a
    # file (one per checkout and set of migrations; pytest-xdist adds a suffix per worker).
    _checkout = hashlib.sha256(str(BASE_DIR).encode()).hexdigest()[:10]  # noqa: F405
    _name = f"retrack-test-{_checkout}-{_migrations_fingerprint()}.sqlite3"
    DATABASES["default"]["TEST"] = {"NAME": str(Path(tempfile.gettempdir()) / _name)}  # noqa: F405
else:
    _name = f"test_{DATABASES['default']['NAME']}_{_migrations_fingerprint()}"  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": _name}  # noqa: F405

# Tests serve static files from the apps' folders, without a collectstatic run.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

# Tests publish to an in-process broker; the worker tests switch to RabbitMQ, and the
# workers they start get it from RETRACK_TEST_CELERY_BROKER_URL.
CELERY_BROKER_URL = os.environ.get("RETRACK_TEST_CELERY_BROKER_URL", "memory://")
