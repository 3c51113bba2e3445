# One image for every service of the machine economy; compose picks the command.
#
#   docker build -t machine-economy .
#   docker run --rm machine-economy python -m services.devnet
#
# Stage "build" has a compiler (python:3.11 is the full Debian image) because
# pyota-ccurl and safe-pysha3 are sdists with C extensions, and because the numba kernels
# (Curl-P, Kerl, proof of work, MAM) are compiled ahead of time there with numba.pycc into
# shared/_native/_aot.*.so. The final stage copies the virtualenv without numba and
# llvmlite (about 160 MB that only a JIT needs) plus that one module, so neither build
# tools nor a JIT compiler reach the image that runs.
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
    /opt/venv/bin/pip install --quiet -r /tmp/requirements.txt
# The kernels, compiled ahead of time with the full (numba) venv; see docs/docker.md.
COPY shared/ shared/
RUN set -eu; \
    /opt/venv/bin/python -W ignore -m shared._native.build --output-dir shared/_native; \
    # Only the JIT needs numba and llvmlite; pip is not needed at run time either, but
    # pkg_resources (setuptools) is, for pyota's import.
    /opt/venv/bin/pip uninstall --quiet --yes numba llvmlite; \
    /opt/venv/bin/pip uninstall --quiet --yes pip; \
    find /opt/venv -depth -type d -name tests -path '*/site-packages/*' -exec rm -rf {} +; \
    # Wheels ship unstripped shared libraries; debug symbols are of no use in a
    # container. Libraries that auditwheel vendored and patchelf rewrote (*.libs/)
    # break when stripped, so they are left alone.
    if command -v strip >/dev/null; then \
        find /opt/venv shared/_native -name '*.so*' -type f ! -path '*.libs/*' \
            -exec strip --strip-unneeded {} +; \
    fi; \
    # Fail the build here, not in a container, if a compiled module does not load.
    /opt/venv/bin/python -W ignore -c "import numpy, zmq, \
sqlalchemy, pydantic_core, uvloop, yaml, httptools, websockets, ccurl, sha3, iota"

# The services use plotly only for the plotly.js its wheel ships (package_data/plotly.min.js,
# served to browsers); its Python figure classes (graph_objs, validators: 41 MB) and its
# JupyterLab extension are never imported, so they stay out of the image. `import plotly`
# still works (the build's last check). A service that builds figures in Python must drop
# this step and mind the image size (docs/docker.md, "Image size").
RUN set -eu; \
    site="$(/opt/venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"; \
    rm -rf "$site/plotly/graph_objs" "$site/plotly/graph_objects" "$site/plotly/validators" \
        "$site/plotly/labextension"; \
    /opt/venv/bin/python -W ignore -c "import plotly, importlib.resources as r; \
assert (r.files('plotly') / 'package_data' / 'plotly.min.js').is_file()"

FROM python:${PYTHON_VERSION}-slim AS runtime
LABEL org.opencontainers.image.title="machine-economy" \
      org.opencontainers.image.description="Machines that pay each other on a private IOTA devnet" \
      org.opencontainers.image.licenses="MIT"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    # The image has the AOT kernels and no numba: fail at import, never fall back.
    MACHINE_ECONOMY_KERNELS=aot \
    DATA_DIR=/data
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app \
    && mkdir -p /data \
    && chown app:app /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# Code is owned by root and read-only for the service user. Each store's migration scripts
# are inside its package (shared/**/migrations, services/**/migrations); alembic.ini is for
# upgrading by hand: docker run ... alembic -n lock -x url=... upgrade head.
COPY shared/ shared/
COPY services/ services/
COPY firmware/ firmware/
COPY alembic.ini ./
COPY --from=build /src/shared/_native/_aot.*.so shared/_native/
USER app
# Fail the build, not a container, if the compiled kernels do not load or numba crept back in.
RUN python -W ignore -c "import numpy as np; \
import shared.iota.curl, shared.iota.kerl, shared.iota.pow, shared.mam; \
from shared._native import MODE; assert MODE == 'aot', MODE; \
from shared.iota import curl, pow; \
done = pow.find_nonce(np.zeros(8019, dtype=np.int8), 3); \
assert not curl.curl_hash(done)[-3:].any()" \
    && if python -c "import numba" 2>/dev/null; then \
        echo "numba is importable in the runtime image" >&2; exit 1; fi
VOLUME ["/data"]
EXPOSE 3000 14265 5556 8000
CMD ["python", "-c", "print('choose a service: python -m services.<name> (see docs/docker.md)')"]
