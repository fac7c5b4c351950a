test_retention_select_SRCS := sidecar/retention_select.c
test_retention_select_CFLAGS := -I$(ROOT)/sidecar
