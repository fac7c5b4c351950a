test_segpath_SRCS := sidecar/record/segpath.c
test_segpath_CFLAGS := $(SIDECAR_INC)
