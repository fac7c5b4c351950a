test_vmsd_backoff_SRCS := sidecar/backoff.c sidecar/util.c
test_vmsd_backoff_CFLAGS := -I$(ROOT)/sidecar
