fuzz_login_body_SRCS := sidecar/login/body.c
fuzz_login_body_CFLAGS := -I$(ROOT)/sidecar/login
fuzz_login_body_LIBS := -ljansson
