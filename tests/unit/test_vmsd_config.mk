test_vmsd_config_SRCS := sidecar/config.c sidecar/config_value.c sidecar/backoff.c sidecar/util.c sidecar/log.c
test_vmsd_config_CFLAGS := -I$(ROOT)/sidecar $(call pc_cflags,libavutil inih)
test_vmsd_config_LIBS := $(call pc_libs,libavutil inih)
