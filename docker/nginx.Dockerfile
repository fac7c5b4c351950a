# vms nginx image: Debian 12's nginx with our dynamic modules (modules/), the pages (html/) and curl
# for the healthcheck. Build from the repository root:
#   docker build -f docker/nginx.Dockerfile -t vms-nginx .
# Configuration is mounted at /etc/vms (nginx.conf rendered from conf/nginx/, docker/README.md),
# certificates at /etc/vms/tls (the compose `certs` service). Runs as the unprivileged user vms
# (uid 10001); every port it listens on is above 1024; its prefix (pid, logs, temp files) is
# /var/lib/vms/nginx: render PREFIX to that.

# -- build: the toolchain and -dev packages from auto/, then our modules --------------------------
FROM debian:12 AS build
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src
COPY . /src
RUN apt-get update -qq && apt-get install -y -q --no-install-recommends ca-certificates \
 && bash auto/install.sh && auto/modules.sh /src/build \
 && rm -rf /var/lib/apt/lists/*

# -- runtime: nginx, the libraries the modules link, nothing to build with --------------------------
FROM debian:12-slim AS runtime
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq && apt-get install -y -q --no-install-recommends \
        nginx libnginx-mod-rtmp libnginx-mod-nchan \
        libhiredis0.14 libjansson4 librdkafka1 libpcre2-8-0 libssl3 zlib1g \
        ca-certificates curl stunnel4 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 vms \
 && useradd --system --uid 10001 --gid vms --home-dir /var/lib/vms --shell /usr/sbin/nologin vms \
 && install -d -o vms -g vms /var/lib/vms /var/lib/vms/nginx /var/lib/vms/nginx/logs /var/lib/vms/nginx/tmp
COPY --from=build /src/build/modules/ /usr/local/lib/vms/modules/
COPY --from=build /src/html/ /usr/local/share/vms/html/
USER vms
EXPOSE 8443 8080 1935
# nginx's own /health on the plain loopback listener (nginx.conf.in); HTTPS is the published port
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD curl -fsS -o /dev/null http://127.0.0.1:8080/health || exit 1
# -e stderr: the error log before nginx.conf is read goes to the container log, not /var/log/nginx
CMD ["nginx", "-e", "stderr", "-c", "/etc/vms/nginx.conf", "-p", "/var/lib/vms/nginx/", "-g", "daemon off;"]
