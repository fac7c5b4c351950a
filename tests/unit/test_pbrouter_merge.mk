test_pbrouter_merge_SRCS := sidecar/pbrouter/merge.c modules/playback/core/pb_time.c \
    modules/playback/core/pb_render.c modules/playback/core/pb_query.c
test_pbrouter_merge_CFLAGS := -I$(ROOT)/sidecar/pbrouter -I$(ROOT)/modules/playback/core \
    -I$(ROOT)/modules/recstore -I$(ROOT)/modules/common $(call pc_cflags,jansson)
test_pbrouter_merge_LIBS := $(call pc_libs,jansson) -lm
