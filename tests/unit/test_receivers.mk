test_receivers_SRCS := sidecar/alert_notifier/receivers.c sidecar/consumer_common/jcheck.c sidecar/consumer_common/svc.c
test_receivers_CFLAGS := -I$(ROOT)/sidecar/alert_notifier $(call pc_cflags,jansson rdkafka)
test_receivers_LIBS := $(call pc_libs,jansson rdkafka)
