test_topics_file_SRCS := sidecar/topics/topics_file.c sidecar/consumer_common/jcheck.c
test_topics_file_CFLAGS := -I$(ROOT)/sidecar/topics -DVMS_ROOT='"$(ROOT)"' $(call pc_cflags,jansson)
test_topics_file_LIBS := $(call pc_libs,jansson)
