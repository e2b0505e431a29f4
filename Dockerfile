# citywall service image.
#   docker build -t citywall .
#   docker run --network host -v $PWD/config.yaml:/etc/citywall/config.yaml:ro \
#     -v citywall-data:/var/lib/citywall -e CAM_..._PASSWORD=... citywall
# Host networking keeps WebRTC's UDP host candidates reachable from the wall's browsers.
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ffmpeg \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/citywall
COPY pyproject.toml README.md ./
COPY wall ./wall
COPY vision ./vision
COPY devices ./devices
COPY layouts ./layouts
COPY models ./models
RUN pip install --no-cache-dir . \
 && citywall models fetch \
 && useradd --system --home /var/lib/citywall citywall \
 && mkdir -p /var/lib/citywall && chown citywall /var/lib/citywall

USER citywall
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status >= 500)"
CMD ["citywall", "serve", "--config", "/etc/citywall/config.yaml"]
