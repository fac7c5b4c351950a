test_vmsd_spool_SRCS := sidecar/spool.c sidecar/util.c sidecar/log.c
test_vmsd_spool_CFLAGS := -I$(ROOT)/sidecar $(call pc_cflags,libavutil zlib)
test_vmsd_spool_LIBS := $(call pc_libs,libavutil zlib) -lpthread
