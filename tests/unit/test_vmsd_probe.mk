test_vmsd_probe_SRCS := sidecar/ingest/probe.c sidecar/base/util.c
test_vmsd_probe_CFLAGS := $(SIDECAR_INC)
test_vmsd_probe_LIBS := -lpthread
