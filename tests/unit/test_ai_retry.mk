test_ai_retry_SRCS := sidecar/ai/retry.c
test_ai_retry_CFLAGS := -I$(ROOT)/sidecar/ai
