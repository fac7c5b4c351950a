# vmsd image: the recording/API daemon and vms-index (rebuilds the segment index from the files,
# docs/runbooks/disaster-recovery.md). Build from the repository root:
#   docker build -f docker/vmsd.Dockerfile -t vms-vmsd .
# Configuration at /etc/vms/vmsd.conf, certificates at /etc/vms/tls (the compose `certs` service),
# recordings in /var/lib/vms/recordings. Runs as the unprivileged user vms (uid 10001).
# The runtime stage also carries openssl and auto/certs.sh: compose's one-shot `certs` service runs
# this image to make the CA and the per-service certificates.

# -- build: the toolchain and -dev packages from auto/, then the sidecar daemons ----------------
FROM debian:12 AS build
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src
COPY . /src
RUN apt-get update -qq && apt-get install -y -q --no-install-recommends ca-certificates \
 && bash auto/install.sh && auto/modules.sh /src/build && make -C sidecar B=/src/build -j2 \
 && rm -rf /var/lib/apt/lists/*

# -- runtime: the shared libraries vmsd and vms-index link (readelf -d: NEEDED), the local AI
#    provider's data (OpenCV's Haar cascades in /usr/share/opencv4/haarcascades, Tesseract's English
#    model: docs/ai.md), tzdata, curl for the healthcheck, openssl for auto/certs.sh ------------
FROM debian:12-slim AS runtime
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq && apt-get install -y -q --no-install-recommends \
        libavcodec59 libavformat59 libavutil57 libswscale6 libcurl4 libgnutls30 libhiredis0.14 \
        libinih1 libjansson4 libmicrohttpd12 libopencv-core406 libopencv-imgproc406 \
        libopencv-objdetect406 libpcre2-8-0 libpq5 librdkafka1 libssl3 libsystemd0 libtesseract5 \
        zlib1g ca-certificates curl openssl tzdata \
        opencv-data tesseract-ocr-eng \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 vms \
 && useradd --system --uid 10001 --gid vms --home-dir /var/lib/vms --shell /usr/sbin/nologin vms \
 && install -d -o vms -g vms /var/lib/vms /var/lib/vms/recordings
COPY --from=build /src/build/bin/vmsd /src/build/bin/vms-index /usr/local/bin/
COPY --from=build /src/auto/certs.sh /usr/local/lib/vms/certs.sh
USER vms
EXPOSE 8091
# vmsd's /health (open without a token, docs/vmsd.md): over TLS, verified with the CA, when the
# certificates are mounted (vmsd's certificate names localhost); plain loopback HTTP otherwise
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD if [ -r /etc/vms/tls/ca.crt ]; then curl -fsS -o /dev/null --cacert /etc/vms/tls/ca.crt https://localhost:8091/health; else curl -fsS -o /dev/null http://127.0.0.1:8091/health; fi || exit 1
CMD ["vmsd", "-c", "/etc/vms/vmsd.conf"]
