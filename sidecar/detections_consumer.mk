# vms-detections-consumer (docs/events.md): Kafka vms.detections -> PostgreSQL detection_results and
# review_events, alerts to vms.alerts.  Sources in detections_consumer/, outside vmsd's *.c wildcard.
EXTRA_BINS += vms-detections-consumer
vms-detections-consumer_SRCS := consumer_common/dsn.c base/secret.c base/secret_file.c base/secret_aws.c \
    analysis/ai/http_client.c detections_consumer/main.c detections_consumer/detection.c \
                                detections_consumer/rules.c consumer_common/svc.c \
                                consumer_common/jcheck.c ../modules/playback/core/pb_time.c
vms-detections-consumer_CFLAGS := -I../modules/playback/core
vms-detections-consumer_PKGS := rdkafka libpq jansson libcurl
