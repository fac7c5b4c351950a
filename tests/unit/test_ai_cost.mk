test_ai_cost_SRCS := sidecar/analysis/ai/cost.c
test_ai_cost_CFLAGS := -I$(ROOT)/sidecar/analysis/ai $(call pc_cflags,jansson)
test_ai_cost_LIBS := $(call pc_libs,jansson) -lpthread
