test_limit_session_SRCS := modules/limit/core/vms_session.c
test_limit_session_CFLAGS := -I$(ROOT)/modules/limit/core
test_limit_session_LIBS := -lcrypto
