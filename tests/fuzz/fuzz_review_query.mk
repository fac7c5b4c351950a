fuzz_review_query_SRCS := sidecar/review_api/query.c
fuzz_review_query_CFLAGS := -I$(ROOT)/sidecar/review_api
