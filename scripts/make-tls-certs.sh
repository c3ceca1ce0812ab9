#!/usr/bin/env bash
# Makes the certificates for auroraedge-server's TLS and mTLS with openssl:
# a CA, a server certificate for the names clients connect to, and one
# client certificate per name given. EC P-256 keys, SHA-256 signatures.
#
# Usage: scripts/make-tls-certs.sh OUT_DIR SERVER_NAMES [CLIENT...]
#   SERVER_NAMES  subjectAltName list, e.g. DNS:localhost,IP:127.0.0.1
#   CLIENT        common name of a client certificate, e.g. plc-3
# Environment: DAYS (validity, default 365), ORG (O= of every subject,
# default AuroraEdge).
# Writes OUT_DIR/ca.pem ca.key server.pem server.key CLIENT.pem CLIENT.key
# (keys mode 600; ca.key signs more certificates: keep it off the servers).
# A second run in the same OUT_DIR makes a new CA.
set -euo pipefail
if [[ $# -lt 2 ]]; then
  sed -n '2,14p' "$0" >&2
  exit 2
fi
out=$1 server_names=$2
shift 2
days=${DAYS:-365} org=${ORG:-AuroraEdge}
mkdir -p "$out"
umask 077

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

# sign NAME SUBJECT EXTENSIONS: NAME.key, a request, NAME.pem signed by the CA.
sign() {
  new_key "$out/$1.key"
  openssl req -new -key "$out/$1.key" -subj "$2" -out "$out/$1.csr"
  openssl x509 -req -in "$out/$1.csr" -CA "$out/ca.pem" -CAkey "$out/ca.key" -CAcreateserial \
    -days "$days" -sha256 -extfile <(printf '%b' "$3") -out "$out/$1.pem" 2>/dev/null
  rm "$out/$1.csr"
}

new_key "$out/ca.key"
openssl req -x509 -new -key "$out/ca.key" -subj "/O=$org/CN=$org test CA" -days "$days" -sha256 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out "$out/ca.pem"
sign server "/O=$org/CN=auroraedge-server" \
  "subjectAltName=$server_names\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature"
for client in "$@"; do
  sign "$client" "/O=$org/CN=$client" "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature"
done
chmod 644 "$out"/*.pem
echo "wrote ca.pem, server.pem and server.key$(for c in "$@"; do printf ', %s.pem and %s.key' "$c" "$c"; done) in $out"
