# The label-studio-ml-test GitHub Action: `runs: image: Dockerfile` builds this in every job that
# uses the action; the release workflow pushes the same image to ghcr.io for `docker://` use.
#
# The base image is a build argument so that the image also builds offline against a local
# stand-in (`docker build --build-arg PYTHON_IMAGE=python:3.12-slim .`). Debian-based (glibc):
# numpy, shapely and pillow install as wheels, nothing is compiled.
ARG PYTHON_IMAGE=python:3.12-slim-bookworm
FROM ${PYTHON_IMAGE}

# Unbuffered, so our log lines and workflow commands stay in order when stdout is a pipe.
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The pinned runtime dependencies first (a layer that survives code changes). pytest (for the
# pytest plugin) and the editable install of the package are not needed by the action.
COPY requirements.txt /action/requirements.txt
RUN grep -vE '^(-e |pytest==)' /action/requirements.txt > /action/requirements-action.txt \
    && pip install --no-cache-dir -r /action/requirements-action.txt

COPY ml_test /action/ml_test
COPY entrypoint.py /action/entrypoint.py
# Byte-compile now: the container is new in every job, so this saves the compile on each start.
RUN python -m compileall -q /action

# No USER: the runner mounts the workspace and the file-command folder for root. No WORKDIR:
# the runner sets --workdir /github/workspace, so the entry point is an absolute path.
ENTRYPOINT ["/usr/local/bin/python", "/action/entrypoint.py"]
