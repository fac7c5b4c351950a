test_segpath_SRCS := sidecar/segpath.c
test_segpath_CFLAGS := -I$(ROOT)/sidecar
