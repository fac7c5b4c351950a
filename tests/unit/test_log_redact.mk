test_log_redact_SRCS := modules/log/core/vms_redact.c
test_log_redact_CFLAGS := -I$(ROOT)/modules/log/core
