fuzz_ai_conf_SRCS := sidecar/analysis/ai/conf.c sidecar/analysis/ai/roi.c sidecar/analysis/ai/cost.c sidecar/analysis/ai/motion.c sidecar/base/util.c sidecar/base/confkey.c sidecar/base/secret.c sidecar/base/secret_file.c sidecar/base/secret_aws.c sidecar/analysis/ai/http_client.c
fuzz_ai_conf_CFLAGS := $(SIDECAR_INC) $(call pc_cflags,jansson libavutil libcurl)
fuzz_ai_conf_LIBS := $(call pc_libs,jansson libcurl) -lpthread -lm
