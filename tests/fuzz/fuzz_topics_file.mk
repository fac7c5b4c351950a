fuzz_topics_file_SRCS := sidecar/topics/topics_file.c sidecar/consumer_common/jcheck.c
fuzz_topics_file_CFLAGS := -I$(ROOT)/sidecar/topics $(call pc_cflags,jansson)
fuzz_topics_file_LIBS := $(call pc_libs,jansson)
