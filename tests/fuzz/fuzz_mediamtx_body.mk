fuzz_mediamtx_body_SRCS := modules/auth/core/vms_authreq.c modules/auth/core/vms_claims.c
fuzz_mediamtx_body_CFLAGS := -I$(ROOT)/modules/auth/core
fuzz_mediamtx_body_LIBS := -ljansson -lpcre2-8
