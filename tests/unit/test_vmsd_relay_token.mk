test_vmsd_relay_token_SRCS := sidecar/ingest/relay.c sidecar/base/util.c sidecar/base/log.c sidecar/base/metrics.c
test_vmsd_relay_token_CFLAGS := $(SIDECAR_INC) $(call pc_cflags,libavformat libavcodec libavutil libcrypto)
test_vmsd_relay_token_LIBS := $(call pc_libs,libavformat libavcodec libavutil libcrypto) -lpthread
