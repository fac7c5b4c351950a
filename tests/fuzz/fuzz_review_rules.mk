fuzz_review_rules_SRCS := sidecar/detections_consumer/rules.c sidecar/detections_consumer/detection.c \
                          sidecar/consumer_common/jcheck.c modules/playback/core/pb_time.c
fuzz_review_rules_CFLAGS := -I$(ROOT)/modules/playback/core -I$(ROOT)/sidecar/detections_consumer $(call pc_cflags,jansson)
fuzz_review_rules_LIBS := $(call pc_libs,jansson)
