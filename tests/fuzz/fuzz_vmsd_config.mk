fuzz_vmsd_config_SRCS := sidecar/base/config.c sidecar/base/config_value.c sidecar/base/confkey.c sidecar/base/backoff.c sidecar/base/util.c sidecar/base/log.c
fuzz_vmsd_config_CFLAGS := $(SIDECAR_INC) $(call pc_cflags,libavutil inih)
fuzz_vmsd_config_LIBS := $(call pc_libs,libavutil inih)
