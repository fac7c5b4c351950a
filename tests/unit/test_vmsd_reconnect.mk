test_vmsd_reconnect_SRCS := sidecar/sinks/reconnect.c sidecar/base/backoff.c sidecar/base/queue.c sidecar/base/util.c
test_vmsd_reconnect_CFLAGS := $(SIDECAR_INC)
test_vmsd_reconnect_LIBS := -lpthread
