fuzz_reconcile_scan_SRCS := sidecar/reconcile.c sidecar/segpath.c sidecar/recfs.c sidecar/log.c \
                            sidecar/util.c modules/common/vms_index.c modules/common/vms_index_reader.c
fuzz_reconcile_scan_CFLAGS := -I$(ROOT)/sidecar
fuzz_reconcile_scan_LIBS := -lavutil
