test_playback_plan_SRCS := modules/playback/core/pb_plan.c modules/playback/core/pb_render.c \
	modules/playback/core/pb_query.c modules/playback/core/pb_time.c \
	$(RECSTORE_SRCS)
test_playback_plan_CFLAGS := -I$(ROOT)/modules/playback/core
