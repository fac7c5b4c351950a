# vmsd's API credentials (api/apiauth.c) are checked by vms_auth's nginx-free core: the same key
# parsing, algorithm pinning and claim rules as nginx's (docs/vmsd.md, "API authentication").
VMSD_SRCS   += ../modules/auth/core/vms_jwt.c ../modules/auth/core/vms_jwt_keys.c \
               ../modules/auth/core/vms_claims.c
VMSD_PKGS   += jansson libpcre2-8
VMSD_CFLAGS += -I$(ROOT)/modules/auth/core
# The API's certificate is handed to GnuTLS at each handshake (api/tlscert.c: rotation on SIGHUP).
VMSD_PKGS   += gnutls
