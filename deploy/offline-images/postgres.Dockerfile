# Stand-in for the public postgres image when no image registry is reachable (`make container-check`):
# Debian's PostgreSQL 15 on a base made with debootstrap, with an entrypoint that honours the same
# POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB variables and data folder as the public image.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
# No "main" cluster from the package: the entrypoint creates the one cluster in PGDATA on first start.
RUN mkdir -p /etc/postgresql-common \
 && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* \
 && install -d -o postgres -g postgres -m 700 /var/lib/postgresql/data \
 && install -d -o postgres -g postgres -m 2775 /var/run/postgresql
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
USER postgres
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
