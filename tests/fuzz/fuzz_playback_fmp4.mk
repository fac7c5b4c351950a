fuzz_playback_fmp4_SRCS := modules/playback/core/pb_fmp4.c modules/playback/core/pb_mp4scan.c
fuzz_playback_fmp4_CFLAGS := -I$(ROOT)/modules/playback/core
