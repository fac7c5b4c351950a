fuzz_vmsd_httpq_SRCS := sidecar/httpq.c
fuzz_vmsd_httpq_CFLAGS := -I$(ROOT)/sidecar
