test_login_body_SRCS := sidecar/login/body.c
test_login_body_CFLAGS := -I$(ROOT)/sidecar/login $(call pc_cflags,jansson)
test_login_body_LIBS := $(call pc_libs,jansson)
