test_auth_claims_SRCS := modules/auth/core/vms_claims.c modules/auth/core/vms_authreq.c
test_auth_claims_CFLAGS := -I$(ROOT)/modules/auth/core
test_auth_claims_LIBS := -ljansson -lpcre2-8
