test_ai_conf_SRCS := sidecar/ai/conf.c sidecar/ai/roi.c sidecar/ai/cost.c sidecar/util.c
test_ai_conf_CFLAGS := -I$(ROOT)/sidecar $(call pc_cflags,jansson libavutil)
test_ai_conf_LIBS := $(call pc_libs,jansson) -lpthread -lm
