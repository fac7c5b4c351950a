test_roi_SRCS := sidecar/ai/roi.c
test_roi_CFLAGS := -I$(ROOT)/sidecar/ai $(call pc_cflags,jansson)
test_roi_LIBS := $(call pc_libs,jansson) -lm
