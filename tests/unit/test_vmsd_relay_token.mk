test_vmsd_relay_token_SRCS := sidecar/relay.c sidecar/util.c sidecar/log.c sidecar/metrics.c
test_vmsd_relay_token_CFLAGS := -I$(ROOT)/sidecar $(call pc_cflags,libavformat libavcodec libavutil libcrypto)
test_vmsd_relay_token_LIBS := $(call pc_libs,libavformat libavcodec libavutil libcrypto) -lpthread
