fuzz_limit_SRCS := modules/limit/core/vms_gcra.c modules/limit/core/vms_lease.c
fuzz_limit_CFLAGS := -I$(ROOT)/modules/limit/core
