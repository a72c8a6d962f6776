#!/usr/bin/env bash
# (Re)generates fuzz/seeds/<target>/, the committed seed corpora, from fedkit's own fixtures
# only (never third-party vectors): the example data and the xmlsec1-signed SAML fixtures for
# the XML targets; for SCIM, the filter corpus of crates/scim/tests (one filter per seed file),
# the RFC 7643 example resources and the identity providers' PATCH bodies, the latter prefixed
# with the selector byte scim_patch reads (0 the Enterprise User, 2 the Group; +4 strict
# options, +8 Entra's create-on-unmatched); for scim_service, requests in its input format
# (method byte, path byte, query NUL If-Match NUL body); for tenancy_domain, domains and
# emails with TXT strings.
# Each seed is named by the SHA-1 of its content (duplicates collapse) and seeds larger than
# the fuzz runs' -max_len (64 KiB) are dropped. Usage: bash fuzz/seed.sh
set -euo pipefail
cd "$(dirname "$0")"
max=65536
rm -rf seeds
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# seed TARGET: stdin becomes one seed of TARGET.
seed() {
  mkdir -p "$tmp/$1"
  cat >"$(mktemp "$tmp/$1/XXXXXX")"
}
byte() { printf "\\$(printf '%03o' "$1")"; }

data=../crates/scim/tests/data
# One filter per line of valid.txt (both lines of each case), the text of each invalid.txt line.
filters() {
  local line
  while IFS= read -r line; do
    case "$line" in '' | '#'* | '=') continue ;; esac
    printf '%s\n' "$line"
  done <"$data/filter/valid.txt"
  while IFS= read -r line; do
    printf '%s\n' "${line#*$'\t'}"
  done <"$data/filter/invalid.txt"
}

for f in ../examples/data/*.xml; do
  for t in parse_c14n verify verify_mutation; do seed "$t" <"$f"; done
done
for f in ../crates/saml/tests/data/signed/*.xml; do seed saml_response <"$f"; done
for f in ../crates/saml/tests/data/signed/logout-*; do seed saml_logout <"$f"; done
for f in ../crates/metadata/tests/data/*.xml ../examples/data/metadata-*.xml; do
  seed metadata_import <"$f"
done
# Mode 2 of metadata_import: a pasted certificate.
for f in ../crates/metadata/tests/data/keys/*.crt.pem; do
  { byte 2; cat "$f"; } | seed metadata_import
done

while IFS= read -r filter; do
  printf '%s' "$filter" | seed scim_filter
  # GET /Users?filter=... (method 0, path 0), spaces and quotes percent-encoded.
  q=${filter//%/%25}; q=${q// /%20}; q=${q//\"/%22}; q=${q//&/%26}
  { byte 0; byte 0; printf 'filter=%s' "$q"; } | seed scim_service
done < <(filters)

for f in "$data"/rfc7643/*.json; do
  seed scim_resource <"$f"
  case "$(basename "$f")" in *group*) path=2 item=3 ;; *) path=0 item=1 ;; esac
  # POST to the collection, PUT onto the seeded resource, POST /Bulk is left to the fuzzer.
  { byte 1; byte "$path"; byte 0; byte 0; cat "$f"; } | seed scim_service
  { byte 2; byte "$item"; byte 0; byte 0; cat "$f"; } | seed scim_service
done

for f in "$data"/patch/*.json; do
  name=$(basename "$f" .json)
  case "$name" in *-group-*) sel=2 item=3 ;; *) sel=0 item=1 ;; esac
  for add in 0 4 8; do
    { byte $((sel + add)); cat "$f"; } | seed scim_patch
  done
  # PATCH (method 3) of the seeded user or group, with and without an If-Match.
  { byte 3; byte "$item"; byte 0; byte 0; cat "$f"; } | seed scim_service
  { byte 3; byte "$item"; byte 0; printf '*'; byte 0; cat "$f"; } | seed scim_service
done

# tenancy_domain: a domain or email on the first line, TXT strings on the next ones (the
# shapes crates/tenancy's tests use: IDNA, trailing dots, emails, record values).
for first in example.com "Example.COM." "bücher.example" "xn--bcher-kva.example" jane@example.com \
  "JANE@Sub.Example.org" 192.0.2.1 "[2001:db8::1]" localhost co.uk "https://example.com/x"; do
  printf '%s' "$first" | seed tenancy_domain
  printf '%s\nfuzzapp-verification=5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a\n"v=spf1 -all"' "$first" | seed tenancy_domain
done

for dir in "$tmp"/*/; do
  t=$(basename "$dir")
  mkdir -p "seeds/$t"
  for f in "$dir"*; do
    [ "$(stat -c %s "$f")" -le "$max" ] || continue
    cp "$f" "seeds/$t/$(sha1sum "$f" | cut -c1-40)"
  done
done
echo "seeds: $(find seeds -type f | wc -l) files, $(du -sh seeds | cut -f1)"
for d in seeds/*/; do echo "  $(basename "$d"): $(find "$d" -type f | wc -l)"; done
