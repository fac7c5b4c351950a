fuzz_playback_mp4_SRCS := modules/playback/core/pb_pmp4.c modules/playback/core/pb_pmp4_write.c modules/playback/core/pb_pmp4_frag.c modules/playback/core/pb_fmp4.c modules/recstore/vms_mp4box.c
fuzz_playback_mp4_CFLAGS := -I$(ROOT)/modules/playback/core
