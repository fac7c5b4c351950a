#!/usr/bin/env bash
# Local certificate authority and per-service certificates for vms (docs/security.md, "Transport (TLS)").
#
#   auto/certs.sh DIR [--days N] [--renew] [SERVICE...]
#
# DIR gets ca.crt/ca.key and SERVICE.crt/SERVICE.key for nginx, postgres, redis, vmsd and kafka (or
# only the SERVICEs named). Keys are 0600. Idempotent: a CA that is not expiring is kept; a service
# certificate is issued when it is missing, does not verify against the CA, no longer matches its
# key or its names, or expires within 30 days (half of N when N is under 60). --renew issues the
# named services' certificates anyway (rotation), keeping the CA. --days N: validity of the
# certificates issued now (default 397; the CA's is 3650). Each certificate names its service, the
# docker compose service it runs in (docker/compose.yml), localhost, 127.0.0.1 and ::1.
# Every key and signature is made by openssl (EC P-256, SHA-256).
set -euo pipefail

usage() { echo "usage: auto/certs.sh DIR [--days N] [--renew] [nginx|postgres|redis|vmsd|kafka ...]" >&2; exit 2; }

# service -> the compose service name it answers as (nginx and vmsd share the vms container)
declare -A COMPOSE=([nginx]=vms [vmsd]=vms [postgres]=postgres [redis]=redis [kafka]=kafka)
ALL=(nginx postgres redis vmsd kafka)

dir="" days=397 renew=0 only=()
while [ $# -gt 0 ]; do
    case "$1" in
        --days) [ $# -ge 2 ] || usage; days=$2; shift 2 ;;
        --days=*) days=${1#--days=}; shift ;;
        --renew) renew=1; shift ;;
        -h|--help) usage ;;
        -*) echo "certs: unknown option $1" >&2; usage ;;
        *) if [ -z "$dir" ]; then dir=$1; else only+=("$1"); fi; shift ;;
    esac
done
[ -n "$dir" ] || usage
[[ "$days" =~ ^[1-9][0-9]*$ ]] || { echo "certs: --days wants a positive number of days, not '$days'" >&2; exit 2; }
for s in "${only[@]}"; do
    [ -n "${COMPOSE[$s]:-}" ] || { echo "certs: unknown service '$s' (one of: ${ALL[*]})" >&2; exit 2; }
done
[ ${#only[@]} -gt 0 ] || only=("${ALL[@]}")
command -v openssl >/dev/null || { echo "certs: openssl missing; install Debian package openssl" >&2; exit 1; }

umask 077
mkdir -p "$dir"
chmod 755 "$dir"    # certificates are public; each key file is 0600
work=$(mktemp -d "$dir/.certs.XXXXXX")
trap 'rm -rf "$work"' EXIT

renew_days=30
[ "$days" -lt 60 ] && renew_days=$((days / 2))

expires() { openssl x509 -noout -enddate -in "$1" | sed 's/^notAfter=//'; }

# true when the certificate's public key is the key file's
key_matches() {
    [ "$(openssl x509 -noout -pubkey -in "$1" 2>/dev/null)" = "$(openssl pkey -pubout -in "$2" 2>/dev/null)" ]
}

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

serial() { echo "0x$(openssl rand -hex 16)"; }

install_pair() {   # install_pair TMPKEY TMPCRT NAME: key 0600 and certificate 0644 moved in place
    chmod 600 "$1"; chmod 644 "$2"
    mv -f "$1" "$dir/$3.key"
    mv -f "$2" "$dir/$3.crt"
}

ca_ok() {
    [ -s "$dir/ca.crt" ] && [ -s "$dir/ca.key" ] &&
        openssl x509 -noout -checkend $((30 * 86400)) -in "$dir/ca.crt" >/dev/null 2>&1 &&
        key_matches "$dir/ca.crt" "$dir/ca.key"
}

ca_new=0
if ca_ok; then
    echo "certs: ca       kept    $dir/ca.crt (until $(expires "$dir/ca.crt"))"
else
    new_key "$work/ca.key"
    cat > "$work/ca.cnf" <<'EOF'
[req]
prompt = no
distinguished_name = dn
x509_extensions = ca
[dn]
O = vms
CN = vms local CA
[ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
    openssl req -new -x509 -config "$work/ca.cnf" -key "$work/ca.key" -sha256 -days 3650 \
        -set_serial "$(serial)" -out "$work/ca.crt" 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
    install_pair "$work/ca.key" "$work/ca.crt" ca
    ca_new=1
    echo "certs: ca       issued  $dir/ca.crt (until $(expires "$dir/ca.crt"))"
fi

sans_of() {   # the subjectAltName the service's certificate must carry
    local c=${COMPOSE[$1]}
    [ "$c" = "$1" ] && c="" || c="DNS:$c,"
    echo "DNS:$1,${c}DNS:localhost,IP:127.0.0.1,IP:::1"
}

# the certificate's SANs in sans_of's spelling (openssl prints "DNS:a, IP Address:127.0.0.1, ...")
sans_in() {
    openssl x509 -noout -ext subjectAltName -in "$1" 2>/dev/null | tail -n +2 |
        sed -e 's/^ *//' -e 's/IP Address:0:0:0:0:0:0:0:1/IP:::1/' -e 's/IP Address:/IP:/g' -e 's/, /,/g'
}

leaf_ok() {
    local s=$1 crt=$dir/$1.crt key=$dir/$1.key
    [ "$ca_new" = 0 ] && [ -s "$crt" ] && [ -s "$key" ] &&
        openssl verify -CAfile "$dir/ca.crt" -purpose sslserver "$crt" >/dev/null 2>&1 &&
        openssl x509 -noout -checkend $((renew_days * 86400)) -in "$crt" >/dev/null 2>&1 &&
        key_matches "$crt" "$key" &&
        [ "$(sans_in "$crt")" = "$(sans_of "$s")" ]
}

for s in "${only[@]}"; do
    if [ "$renew" = 0 ] && leaf_ok "$s"; then
        printf 'certs: %-8s kept    %s (until %s)\n' "$s" "$dir/$s.crt" "$(expires "$dir/$s.crt")"
        continue
    fi
    new_key "$work/$s.key"
    openssl req -new -key "$work/$s.key" -subj "/O=vms/CN=$s" -out "$work/$s.csr" 2>"$work/err" \
        || { cat "$work/err" >&2; exit 1; }
    cat > "$work/$s.ext" <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = $(sans_of "$s")
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
    openssl x509 -req -in "$work/$s.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -set_serial "$(serial)" \
        -sha256 -days "$days" -extfile "$work/$s.ext" -out "$work/$s.crt" 2>"$work/err" \
        || { cat "$work/err" >&2; exit 1; }
    install_pair "$work/$s.key" "$work/$s.crt" "$s"
    printf 'certs: %-8s issued  %s (until %s; %s)\n' "$s" "$dir/$s.crt" "$(expires "$dir/$s.crt")" "$(sans_of "$s")"
done
