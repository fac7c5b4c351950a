test_vmsd_httpq_SRCS := sidecar/httpq.c
test_vmsd_httpq_CFLAGS := -I$(ROOT)/sidecar
