test_playback_pmp4_SRCS := modules/playback/core/pb_pmp4.c modules/playback/core/pb_pmp4_write.c modules/playback/core/pb_pmp4_frag.c modules/playback/core/pb_fmp4.c modules/recstore/vms_mp4box.c
test_playback_pmp4_CFLAGS := -I$(ROOT)/modules/playback/core
