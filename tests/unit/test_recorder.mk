test_recorder_SRCS := sidecar/record/recorder.c sidecar/record/recfs.c sidecar/base/log.c sidecar/base/util.c \
                      $(RECSTORE_SRCS)
test_recorder_CFLAGS := $(SIDECAR_INC) $(call pc_cflags,libavformat libavcodec libavutil)
test_recorder_LIBS := $(call pc_libs,libavformat libavcodec libavutil) -lpthread -lm
