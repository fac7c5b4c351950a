fuzz_reconcile_scan_SRCS := sidecar/record/reconcile.c sidecar/record/segpath.c sidecar/record/recfs.c sidecar/base/log.c \
                            sidecar/base/util.c modules/common/vms_index.c modules/common/vms_index_reader.c
fuzz_reconcile_scan_CFLAGS := $(SIDECAR_INC)
fuzz_reconcile_scan_LIBS := -lavutil
