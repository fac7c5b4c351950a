test_vmsd_httpq_SRCS := sidecar/api/httpq.c
test_vmsd_httpq_CFLAGS := $(SIDECAR_INC)
