# vms-login and vms-user (docs/users.md): users who sign in with a password.  The user JWT is
# signed with vms_auth's nginx-free core (modules/auth/core), so it is what nginx verifies.
LOGIN_JWT_SRCS := ../modules/auth/core/vms_jwt.c ../modules/auth/core/vms_jwt_keys.c
EXTRA_BINS += vms-login vms-user
LOGIN_SECRET_SRCS := base/secret.c base/secret_file.c base/secret_aws.c analysis/ai/http_client.c
vms-login_SRCS := login/main.c base/unixsock.c consumer_common/httpd.c login/auth.c login/body.c login/pw.c consumer_common/svc.c consumer_common/pgq.c $(LOGIN_JWT_SRCS) \
                  $(LOGIN_SECRET_SRCS)
vms-login_CFLAGS := -I$(ROOT)/modules/auth/core
vms-login_PKGS := libmicrohttpd libpq jansson hiredis libargon2 libcrypto rdkafka libcurl
vms-user_SRCS := login/user_cli.c login/pw.c login/body.c consumer_common/dsn.c $(LOGIN_SECRET_SRCS)
vms-user_PKGS := libpq libargon2 jansson hiredis libcurl
