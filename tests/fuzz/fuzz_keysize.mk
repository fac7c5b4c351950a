fuzz_keysize_SRCS := sidecar/ingest/keysize.c
fuzz_keysize_CFLAGS := -I$(ROOT)/sidecar/ingest
