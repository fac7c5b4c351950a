test_segpath_SRCS := modules/recstore/vms_segpath.c
test_segpath_CFLAGS := $(SIDECAR_INC)
