fuzz_vmsd_spool_SRCS := sidecar/spool.c sidecar/util.c sidecar/log.c
fuzz_vmsd_spool_CFLAGS := -I$(ROOT)/sidecar $(call pc_cflags,libavutil zlib)
fuzz_vmsd_spool_LIBS := $(call pc_libs,libavutil zlib) -lpthread
