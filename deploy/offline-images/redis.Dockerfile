# Stand-in for the public redis image when no image registry is reachable (`make container-check`):
# Debian's redis-server package on a base made with debootstrap. compose.yaml gives the command line.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/*
USER redis
WORKDIR /var/lib/redis
CMD ["redis-server", "--bind", "127.0.0.1"]
