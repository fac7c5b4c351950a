fuzz_jwt_SRCS := modules/auth/core/vms_jwt.c modules/auth/core/vms_jwt_keys.c modules/auth/core/vms_claims.c
fuzz_jwt_CFLAGS := -I$(ROOT)/modules/auth/core
fuzz_jwt_LIBS := -ljansson -lpcre2-8 -lcrypto
