# A CPU image that serves a gamelm agent over HTTP (the JSON API, the OpenAI-compatible endpoint
# and the web pages). Build: docker build -t gamelm .
# Run:   docker run -p 8000:8000 gamelm                      (the tight-aggressive baseline)
#        docker run -p 8000:8000 -v $PWD/models:/models gamelm gamelm serve /models/bot.safetensors \
#            --host 0.0.0.0 --port 8000
FROM python:3.11-slim

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1
WORKDIR /app

# PyTorch first, pinned and CPU-only, so that nothing later pulls another build of it.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install ".[llm,serve]"

# Never root at run time; the run registry the dashboard reads lives in /data/runs.
RUN useradd --create-home gamelm && mkdir -p /data/runs && chown gamelm /data/runs
USER gamelm
ENV GAMELM_RUNS=/data/runs
EXPOSE 8000
# Set GAMELM_API_TOKEN to require a bearer token on every route but /health.
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"
CMD ["gamelm", "serve", "tag", "--host", "0.0.0.0", "--port", "8000"]
