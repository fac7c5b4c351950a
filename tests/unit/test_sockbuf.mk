test_sockbuf_SRCS := sidecar/ingest/sockbuf.c
test_sockbuf_CFLAGS := $(SIDECAR_INC)
test_sockbuf_LIBS := -lpthread
