# vms-push (docs/events.md, "Live push"): Kafka vms.events + vms.alerts -> nginx nchan publisher.
EXTRA_BINS += vms-push
vms-push_SRCS := push/main.c consumer_common/svc.c
vms-push_PKGS := rdkafka libcurl jansson
