test_retention_select_SRCS := sidecar/record/retention_select.c
test_retention_select_CFLAGS := $(SIDECAR_INC)
