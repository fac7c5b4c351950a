test_vmsd_metrics_SRCS := sidecar/base/metrics.c sidecar/base/util.c
test_vmsd_metrics_CFLAGS := $(SIDECAR_INC)
test_vmsd_metrics_LIBS := -lpthread
