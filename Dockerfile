# Retrack's image: the web process by default; the worker and beat run the same image
# with another command (compose.yaml). Settings come from the environment (README,
# "Configuration"); nothing secret is baked in.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin retrack

# Dependencies first, pinned as CI pins them, so that a code change reuses this layer.
# (The project itself installs no package: pyproject.toml only declares what it needs.)
COPY pyproject.toml constraints.txt ./
RUN pip install -c constraints.txt .

COPY . .
# Static files are collected at build time and served by WhiteNoise from the image.
RUN SECRET_KEY=collectstatic-only ALLOWED_HOSTS=localhost RETRACK_ENV_FILE=/dev/null \
    python manage.py collectstatic --noinput --verbosity 0

USER retrack
# gunicorn.conf.py reads these; the metrics folder is emptied when gunicorn starts.
ENV LOG_FORMAT=json \
    GUNICORN_ACCESS_LOG=- \
    PROMETHEUS_MULTIPROC_DIR=/tmp/retrack-metrics \
    RETRACK_ENV_FILE=/dev/null
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["gunicorn", "retrack.wsgi"]
