test_playback_fmp4_SRCS := modules/playback/core/pb_fmp4.c $(RECSTORE_SRCS)
test_playback_fmp4_CFLAGS := -I$(ROOT)/modules/playback/core
