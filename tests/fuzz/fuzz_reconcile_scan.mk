fuzz_reconcile_scan_SRCS := sidecar/record/reconcile.c sidecar/record/recfs.c sidecar/base/log.c \
                            sidecar/base/util.c $(RECSTORE_SRCS)
fuzz_reconcile_scan_CFLAGS := $(SIDECAR_INC)
fuzz_reconcile_scan_LIBS := -lavutil
