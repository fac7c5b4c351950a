test_vmsd_spool_SRCS := sidecar/sinks/spool.c sidecar/base/util.c sidecar/base/log.c
test_vmsd_spool_CFLAGS := $(SIDECAR_INC) $(call pc_cflags,libavutil zlib)
test_vmsd_spool_LIBS := $(call pc_libs,libavutil zlib) -lpthread
