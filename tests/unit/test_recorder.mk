test_recorder_SRCS := sidecar/recorder.c sidecar/segpath.c sidecar/recfs.c sidecar/log.c sidecar/util.c \
                      modules/common/vms_index.c modules/common/vms_index_reader.c
test_recorder_CFLAGS := -I$(ROOT)/sidecar $(call pc_cflags,libavformat libavcodec libavutil)
test_recorder_LIBS := $(call pc_libs,libavformat libavcodec libavutil) -lpthread -lm
