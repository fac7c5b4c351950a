fuzz_playback_query_SRCS := modules/playback/core/pb_query.c modules/playback/core/pb_time.c
fuzz_playback_query_CFLAGS := -I$(ROOT)/modules/playback/core
