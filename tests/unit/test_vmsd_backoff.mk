test_vmsd_backoff_SRCS := sidecar/base/backoff.c sidecar/base/util.c
test_vmsd_backoff_CFLAGS := $(SIDECAR_INC)
