fuzz_receivers_SRCS := sidecar/alert_notifier/receivers.c sidecar/consumer_common/jcheck.c sidecar/consumer_common/svc.c
fuzz_receivers_CFLAGS := -I$(ROOT)/sidecar/alert_notifier $(call pc_cflags,jansson rdkafka)
fuzz_receivers_LIBS := $(call pc_libs,jansson rdkafka)
