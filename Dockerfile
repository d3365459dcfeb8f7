# The connector image: the Processor by default (`giftcard-connector serve`), the built-in ledger by
# command (`ledger serve`), and one-shot commands (`reconcile`, `ledger migrate`, `ledger keys create`).
#
#   docker build -t giftcard-connector .                        # public python:3.11-slim, wheels from PyPI
#   docker build --build-arg BASE_IMAGE=<debian-with-python3.11> --build-arg PIP_NO_INDEX=1 .
#                                                              # offline: only deploy/wheelhouse/ is used
#
# No `# syntax=` line on purpose: it would make BuildKit pull a frontend image from a registry.
ARG BASE_IMAGE=python:3.11-slim

# ---- build: a virtualenv with the project and its pinned dependencies --------------------------------
FROM ${BASE_IMAGE} AS build
# Set PIP_NO_INDEX=1 to install from deploy/wheelhouse/ only (`pip wheel` on a host with PyPI access);
# by default pip uses PyPI and takes any wheel found in that folder first.
ARG PIP_NO_INDEX=0
ENV PIP_NO_INDEX=${PIP_NO_INDEX} \
    PIP_FIND_LINKS=/wheelhouse \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
COPY deploy/wheelhouse/ /wheelhouse/
COPY pyproject.toml README.md /src/
# Dependencies first, from pyproject.toml alone (the runtime ones and the `[ledger]` extra): this layer is
# rebuilt only when the pins change, not on every change to the sources.
RUN python3 -m venv /opt/venv \
 && python3 -c "import tomllib; p = tomllib.load(open('/src/pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + p.get('optional-dependencies', {}).get('ledger', [])))" > /tmp/requirements.txt \
 && /opt/venv/bin/pip install --requirement /tmp/requirements.txt
COPY src/ /src/src/
# Then the package itself; pip and setuptools leave the venv afterwards: the runtime installs nothing.
RUN /opt/venv/bin/pip install --no-deps '/src' \
 && /opt/venv/bin/pip uninstall --yes pip setuptools

# ---- runtime: the same base, the venv, a non-root user, nothing else ---------------------------------
FROM ${BASE_IMAGE}
RUN groupadd --system --gid 10001 giftcard \
 && useradd --system --uid 10001 --gid giftcard --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin giftcard
COPY --from=build /opt/venv /opt/venv
# HOST=0.0.0.0 suits a container on a bridge network; with host networking set HOST=127.0.0.1 and let
# only the load balancer listen outside (see compose.yaml).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8080
LABEL org.opencontainers.image.title="giftcard-connector" \
      org.opencontainers.image.description="Gift card connector for commercetools Checkout: Processor and built-in ledger" \
      org.opencontainers.image.licenses="MIT"
USER giftcard:giftcard
WORKDIR /tmp
EXPOSE 8080
# Python's standard library rather than curl: the image carries no HTTP client tools. HEALTHCHECK_URL
# points it elsewhere (the ledger's /v1/health); the default follows PORT.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD python3 -c "import os, urllib.request; urllib.request.urlopen(os.environ.get('HEALTHCHECK_URL') or 'http://127.0.0.1:%s/health' % os.environ.get('PORT', '8080'), timeout=2)"
ENTRYPOINT ["giftcard-connector"]
CMD ["serve"]
