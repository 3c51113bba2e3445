# One image for every service of the machine economy; compose picks the command.
#
#   docker build -t machine-economy .
#   docker run --rm machine-economy python -m services.devnet
#
# Stage "build" has a compiler (python:3.11 is the full Debian image) because
# pyota-ccurl and safe-pysha3 are sdists with C extensions; the final stage copies only
# the virtualenv, so no build tools reach the image that runs.
#
# Offline builds: when .ci/work/wheelhouse/COMPLETE exists (made by
# .ci/docker-images.sh), pip installs from that wheelhouse only and never touches an
# index. Otherwise it uses PyPI as usual.
ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION} AS build
# Optional extras from pyproject.toml, e.g. EXTRAS=postgres for the PostgreSQL driver.
ARG EXTRAS=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
# .dockerignore lets only .ci/work/wheelhouse through, so this is empty for most users.
COPY .ci/ /tmp/ci/
COPY pyproject.toml uv.lock ./
COPY shared/_compat/pysha3/pyproject.toml shared/_compat/pysha3/pyproject.toml
RUN set -eu; \
    if [ -f /tmp/ci/work/wheelhouse/COMPLETE ]; then \
        export PIP_NO_INDEX=1 PIP_FIND_LINKS=/tmp/ci/work/wheelhouse; \
        echo "installing from the wheelhouse, no index"; \
    fi; \
    # uv turns uv.lock into exact pins; it lives in its own venv, not in the image.
    python3 -m venv /opt/tools; \
    /opt/tools/bin/pip install --quiet uv; \
    /opt/tools/bin/uv export --frozen --no-dev --no-emit-project --no-hashes --no-header \
        $(for extra in $EXTRAS; do printf ' --extra %s' "$extra"; done) \
        -o /tmp/requirements.txt >/dev/null; \
    python3 -m venv /opt/venv; \
    /opt/venv/bin/pip install --quiet -r /tmp/requirements.txt; \
    # pip is not needed at run time; pkg_resources (setuptools) is, for pyota's import.
    /opt/venv/bin/pip uninstall --quiet --yes pip; \
    find /opt/venv -depth -type d -name tests -path '*/site-packages/*' -exec rm -rf {} +; \
    # Wheels ship unstripped shared libraries (llvmlite's alone is 175 MB); debug
    # symbols are of no use in a container. Libraries that auditwheel vendored and
    # patchelf rewrote (*.libs/) break when stripped, so they are left alone.
    if command -v strip >/dev/null; then \
        find /opt/venv -name '*.so*' -type f ! -path '*.libs/*' \
            -exec strip --strip-unneeded {} +; \
    fi; \
    # Fail the build here, not in a container, if a compiled module does not load.
    /opt/venv/bin/python -W ignore -c "import numpy, numba, llvmlite.binding, zmq, \
sqlalchemy, pydantic_core, uvloop, yaml, httptools, websockets, ccurl, sha3, iota"

FROM python:${PYTHON_VERSION}-slim AS runtime
LABEL org.opencontainers.image.title="machine-economy" \
      org.opencontainers.image.description="Machines that pay each other on a private IOTA devnet" \
      org.opencontainers.image.licenses="MIT"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    # numba caches compiled Curl-P next to the source by default; the code is read-only.
    NUMBA_CACHE_DIR=/var/cache/numba \
    DATA_DIR=/data
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app \
    && mkdir -p /data /var/cache/numba \
    && chown app:app /data /var/cache/numba
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# Code is owned by root and read-only for the service user.
COPY shared/ shared/
COPY services/ services/
COPY firmware/ firmware/
USER app
# Compile the numba kernels (Curl-P, Kerl, signing, proof of work) once at build time, so
# containers start without a JIT pause: the cache is keyed by source path and mtime, both
# fixed in the image. A warm-up that fails only costs start-up time, so it warns.
RUN python -W ignore -c "import numpy as np; \
from shared.iota import curl, pow, signing; \
curl.hash_many(np.zeros((2, 8019), dtype=np.int8), 81); \
signing.address_of('9' * 81, 0, 2); \
pow.find_nonce(np.zeros(8019, dtype=np.int8), 1)" \
    || echo "WARNING: numba warm-up failed; kernels will compile at first use"
VOLUME ["/data"]
EXPOSE 3000 14265 5556 8000
CMD ["python", "-c", "print('choose a service: python -m services.<name> (see docs/docker.md)')"]
