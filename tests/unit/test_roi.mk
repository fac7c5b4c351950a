test_roi_SRCS := sidecar/analysis/ai/roi.c
test_roi_CFLAGS := -I$(ROOT)/sidecar/analysis/ai $(call pc_cflags,jansson)
test_roi_LIBS := $(call pc_libs,jansson) -lm
