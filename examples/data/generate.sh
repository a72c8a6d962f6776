#!/usr/bin/env bash
# Regenerates the example data: a test IdP key pair and a SAML Response signed by the xmlsec1
# CLI. The key is for examples and tests only. Never hand-edit signed-response.xml: rerun this.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -f idp-key.pem ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout idp-key.pem -out idp-cert.pem \
    -subj "/CN=idp.example.com/O=fedkit example IdP" -days 36500 2>/dev/null
fi
xmlsec1 --sign --privkey-pem idp-key.pem,idp-cert.pem \
  --id-attr:ID urn:oasis:names:tc:SAML:2.0:protocol:Response \
  --output signed-response.xml response-template.xml
# Tampered copy: the NameID changed after signing (must fail to verify).
sed 's/jane.doe@example.com<\/saml:NameID>/admin@example.com<\/saml:NameID>/' signed-response.xml > tampered-response.xml
xmlsec1 --verify --pubkey-cert-pem idp-cert.pem --id-attr:ID urn:oasis:names:tc:SAML:2.0:protocol:Response signed-response.xml
if xmlsec1 --verify --pubkey-cert-pem idp-cert.pem --id-attr:ID urn:oasis:names:tc:SAML:2.0:protocol:Response tampered-response.xml 2>/dev/null; then
  echo "tampered copy verified?!" >&2; exit 1
fi
