# Brigade application image: the web app (several workers) and its outbox/print workers.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 BRIGADE_VAR_DIR=/var/lib/brigade
WORKDIR /srv/brigade
COPY pyproject.toml README.md ./
COPY app ./app
COPY kds ./kds
COPY printers ./printers
COPY templates ./templates
COPY static ./static
RUN pip install --no-cache-dir . && useradd --system --home /var/lib/brigade brigade \
    && mkdir -p /var/lib/brigade && chown brigade /var/lib/brigade
USER brigade
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["brigade", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "4"]
