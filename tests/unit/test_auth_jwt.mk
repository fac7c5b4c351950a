test_auth_jwt_SRCS := modules/auth/core/vms_jwt.c modules/auth/core/vms_jwt_keys.c
test_auth_jwt_CFLAGS := -I$(ROOT)/modules/auth/core
test_auth_jwt_LIBS := -ljansson -lcrypto
