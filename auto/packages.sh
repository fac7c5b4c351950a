# Debian 12 packages by group.  Sourced by auto/install.sh.
# A group per concern; add a package to the group that needs it.
VMS_PACKAGE_GROUPS=(toolchain nginx media libs peers ops python ai browser)

VMS_PKGS_toolchain=(build-essential pkg-config clang llvm libclang-rt-14-dev gcovr ca-certificates procps iproute2 curl wrk
                    faketime tzdata openssl)
VMS_PKGS_nginx=(nginx nginx-dev libnginx-mod-rtmp libnginx-mod-nchan libpcre2-dev libssl-dev zlib1g-dev)
VMS_PKGS_media=(ffmpeg libavformat-dev libavcodec-dev libavutil-dev libswscale-dev
                libgstrtspserver-1.0-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
                gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
                gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-tools)
VMS_PKGS_libs=(libhiredis-dev libjwt-dev libjansson-dev librdkafka-dev libpq-dev libcurl4-openssl-dev
               libcmocka-dev libinih-dev libmicrohttpd-dev libsystemd-dev libargon2-dev
               libgnutls28-dev)
VMS_PKGS_peers=(redis-server postgresql kcat wget stunnel4)
# monitoring (started by `run` and the alert tests) and the offline check of docker/compose.yml
VMS_PKGS_ops=(prometheus prometheus-alertmanager docker-compose)
VMS_PKGS_python=(python3 python3-pytest python3-confluent-kafka python3-psycopg python3-redis
                 python3-requests python3-jwt python3-cryptography python3-pytest-xdist python3-yaml
                 python3-websocket python3-openpyxl)
VMS_PKGS_ai=(libopencv-dev opencv-data opencv-doc libtesseract-dev tesseract-ocr-eng python3-botocore
            fonts-dejavu-core)
VMS_PKGS_browser=(chromium nodejs python3-gi gir1.2-gst-plugins-bad-1.0 gir1.2-nice-0.1 gstreamer1.0-nice
                  fonts-dejavu-core)
# Debian's nodejs ships without npm; a NodeSource nodejs provides npm and conflicts with Debian's package.
command -v npm >/dev/null 2>&1 || VMS_PKGS_browser+=(npm)

# pkg-config name -> Debian package, checked after installing.
declare -A VMS_PKGCONFIG=(
    [libavformat]=libavformat-dev [libavcodec]=libavcodec-dev [libavutil]=libavutil-dev
    [libswscale]=libswscale-dev [hiredis]=libhiredis-dev [libjwt]=libjwt-dev [jansson]=libjansson-dev
    [rdkafka]=librdkafka-dev [libpq]=libpq-dev [libcurl]=libcurl4-openssl-dev [cmocka]=libcmocka-dev
    [inih]=libinih-dev [libmicrohttpd]=libmicrohttpd-dev [gstreamer-rtsp-server-1.0]=libgstrtspserver-1.0-dev
    [libpcre2-8]=libpcre2-dev [openssl]=libssl-dev [libsystemd]=libsystemd-dev
    [tesseract]=libtesseract-dev [opencv4]=libopencv-dev [libcrypto]=libssl-dev [libargon2]=libargon2-dev
    [gnutls]=libgnutls28-dev
)
