test_limit_gcra_SRCS := modules/limit/core/vms_gcra.c
test_limit_gcra_CFLAGS := -I$(ROOT)/modules/limit/core
