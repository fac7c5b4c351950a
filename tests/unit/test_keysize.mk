test_keysize_SRCS := sidecar/ingest/keysize.c
test_keysize_CFLAGS := $(SIDECAR_INC) $(call pc_cflags,libavcodec libavutil)
test_keysize_LIBS := $(call pc_libs,libavcodec libavutil)
