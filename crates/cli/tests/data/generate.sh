#!/usr/bin/env bash
# Regenerates other-cert.pem: a self-signed certificate of a key that signed nothing, used to
# check that `fedkit dsig verify` rejects a document signed by another key (signature_invalid).
# The private key is thrown away. Valid for 100 years; nothing in the tests depends on dates.
set -euo pipefail
cd "$(dirname "$0")"
openssl req -x509 -newkey rsa:2048 -nodes -days 36500 -subj /CN=other \
  -keyout /dev/null -out other-cert.pem 2>/dev/null
