test_vmsd_config_SRCS := sidecar/base/config.c sidecar/base/config_value.c sidecar/base/unixsock.c sidecar/base/confkey.c sidecar/base/backoff.c sidecar/base/util.c sidecar/base/log.c sidecar/base/secret.c sidecar/base/secret_file.c sidecar/base/secret_aws.c sidecar/analysis/ai/http_client.c
test_vmsd_config_CFLAGS := $(SIDECAR_INC) $(call pc_cflags,libavutil inih jansson libcurl)
test_vmsd_config_LIBS := $(call pc_libs,libavutil inih jansson libcurl)
