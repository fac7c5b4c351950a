test_review_query_SRCS := sidecar/review_api/query.c modules/playback/core/pb_time.c
test_review_query_CFLAGS := -I$(ROOT)/sidecar/review_api -I$(ROOT)/modules/playback/core
