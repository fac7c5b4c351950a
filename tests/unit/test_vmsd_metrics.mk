test_vmsd_metrics_SRCS := sidecar/metrics.c sidecar/util.c
test_vmsd_metrics_CFLAGS := -I$(ROOT)/sidecar
test_vmsd_metrics_LIBS := -lpthread
