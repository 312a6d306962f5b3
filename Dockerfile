# syntax=docker/dockerfile:1
# wirearchive in a container: docs/guides/deploy.md#container says how to run it.
# Not built by CI (no registry for base images there); docker-entrypoint.sh is tested without
# a container by tests/test_entrypoint.py.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/wirearchive
COPY pyproject.toml README.md LICENSE scrapy.cfg ./
COPY crawler ./crawler
COPY pipelines ./pipelines
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /cache --no-create-home wirearchive \
    && mkdir -p /config /cache \
    && chown wirearchive /cache
COPY --chmod=0755 docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh

USER wirearchive
ENV WIREARCHIVE_CONFIG=/config/sources.yaml \
    XDG_CACHE_HOME=/cache
# The spool (writes the archive refused) and the S3 index cache: keep it between runs.
VOLUME ["/cache"]
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["crawl"]
