fuzz_camera_record_SRCS := sidecar/cluster/record.c sidecar/base/config.c sidecar/base/config_value.c sidecar/base/unixsock.c sidecar/base/confkey.c sidecar/base/backoff.c sidecar/base/util.c sidecar/base/log.c sidecar/base/secret.c sidecar/base/secret_file.c sidecar/base/secret_aws.c sidecar/analysis/ai/http_client.c
fuzz_camera_record_CFLAGS := $(SIDECAR_INC) $(call pc_cflags,libavutil inih jansson libcurl)
fuzz_camera_record_LIBS := $(call pc_libs,libavutil inih jansson libcurl)
