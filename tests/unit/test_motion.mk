test_motion_SRCS := sidecar/ai/motion.c
test_motion_CFLAGS := -I$(ROOT)/sidecar/ai
test_motion_LIBS := -lm
