test_secret_SRCS := sidecar/base/secret.c sidecar/base/secret_file.c sidecar/base/secret_aws.c sidecar/analysis/ai/http_client.c
test_secret_CFLAGS := $(SIDECAR_INC) $(call pc_cflags,jansson libcurl)
test_secret_LIBS := $(call pc_libs,jansson libcurl) -lpthread
