test_ai_retry_SRCS := sidecar/analysis/ai/retry.c
test_ai_retry_CFLAGS := -I$(ROOT)/sidecar/analysis/ai
