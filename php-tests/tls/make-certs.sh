#!/usr/bin/env bash
# Makes the certificates of a TLS test in DIR, private to it (0700, files 0600; EC keys, so it is
# quick):
#   ca.pem                   the test CA (the service's CA)
#   server.pem, server.key   the service, for 127.0.0.1 and localhost, signed by ca
#   client.pem               a worker's binding: certificate and key in one file, signed by ca
#   client.crt, client.key   the same, in two files
#   other-ca.pem             another CA
#   other-client.pem         a binding signed by other-ca
#   other-server.pem/.key    a server certificate for 127.0.0.1 signed by other-ca
#   mismatched-client.pem    client.crt with another certificate's key
set -euo pipefail
dir=$1
umask 077
mkdir -p "$dir"
chmod 0700 "$dir"
cd "$dir"
key() { openssl ecparam -genkey -name prime256v1 -noout -out "$1" 2>/dev/null; }
ca() { # name subject
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -sha256 -days 3650 -subj "/CN=$2" -out "$1.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
leaf() { # name subject ca extensions
  key "$1.key"
  openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr" 2>/dev/null
  printf '%s\n' "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -days 3650 -sha256 \
    -extfile "$1.ext" -out "$1.crt" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
ca ca "pantheon-secrets test CA"
ca other-ca "another CA"
server_ext="subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth"
client_ext="extendedKeyUsage=clientAuth"
leaf server localhost ca "$server_ext"; mv server.crt server.pem
leaf other-server localhost other-ca "$server_ext"; mv other-server.crt other-server.pem
leaf client site-under-test.dev ca "$client_ext"
cat client.crt client.key > client.pem
leaf other-client site-under-test.dev other-ca "$client_ext"
cat other-client.crt other-client.key > other-client.pem
cat client.crt other-client.key > mismatched-client.pem
rm -f ./*.srl
chmod 0600 ./*
