fuzz_vmsd_httpq_SRCS := sidecar/api/httpq.c
fuzz_vmsd_httpq_CFLAGS := $(SIDECAR_INC)
