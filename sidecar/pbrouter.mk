# vms-playback-router (docs/scale-out.md, "Per-node storage"): playback over the nodes' own recordings.
EXTRA_BINS += vms-playback-router
vms-playback-router_SRCS := pbrouter/main.c pbrouter/merge.c consumer_common/httpd.c consumer_common/svc.c \
    base/unixsock.c ../modules/playback/core/pb_time.c ../modules/playback/core/pb_render.c \
    ../modules/playback/core/pb_query.c
vms-playback-router_CFLAGS := -I../modules/playback/core -I../modules/recstore -I../modules/common -I../modules/limit/core
vms-playback-router_PKGS := libmicrohttpd jansson libcurl rdkafka
vms-playback-router_LIBS := -lm
