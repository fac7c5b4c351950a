# vms-review-api (docs/events.md, "Review API"): review events from PostgreSQL, behind nginx's vms_auth.
EXTRA_BINS += vms-review-api
vms-review-api_SRCS := consumer_common/dsn.c base/unixsock.c base/secret.c base/secret_file.c base/secret_aws.c \
    analysis/ai/http_client.c review_api/main.c review_api/query.c consumer_common/svc.c consumer_common/httpd.c consumer_common/pgq.c \
                       ../modules/playback/core/pb_time.c
vms-review-api_CFLAGS := -I../modules/playback/core
vms-review-api_PKGS := libmicrohttpd libpq jansson rdkafka libcurl
