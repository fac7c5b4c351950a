test_vmsd_probe_SRCS := sidecar/probe.c sidecar/util.c
test_vmsd_probe_CFLAGS := -I$(ROOT)/sidecar
test_vmsd_probe_LIBS := -lpthread
