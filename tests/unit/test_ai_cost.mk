test_ai_cost_SRCS := sidecar/ai/cost.c
test_ai_cost_CFLAGS := -I$(ROOT)/sidecar/ai $(call pc_cflags,jansson)
test_ai_cost_LIBS := $(call pc_libs,jansson) -lpthread
