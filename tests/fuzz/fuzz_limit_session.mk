fuzz_limit_session_SRCS := modules/limit/core/vms_session.c
fuzz_limit_session_CFLAGS := -I$(ROOT)/modules/limit/core
fuzz_limit_session_LIBS := -lcrypto
