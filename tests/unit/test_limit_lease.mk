test_limit_lease_SRCS := modules/limit/core/vms_lease.c
test_limit_lease_CFLAGS := -I$(ROOT)/modules/limit/core
