test_motion_SRCS := sidecar/analysis/ai/motion.c
test_motion_CFLAGS := -I$(ROOT)/sidecar/analysis/ai
test_motion_LIBS := -lm
