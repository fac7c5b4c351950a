# vms-topics (docs/events.md, "Topics as code"): conf/kafka/topics.json -> the cluster's topics.
EXTRA_BINS += vms-topics
vms-topics_SRCS := topics/main.c topics/topics_file.c consumer_common/svc.c consumer_common/jcheck.c
vms-topics_PKGS := rdkafka jansson
