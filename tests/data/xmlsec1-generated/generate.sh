#!/usr/bin/env bash
# Generate XML-DSig test fixtures signed and verified by the real xmlsec1 CLI.
#
# Usage: generate.sh [--fresh-keys] [--resign]
#   --fresh-keys  throw away keys/ and create new keys and certificates
#                 (this changes every signed fixture)
#   --resign      re-sign ECDSA cases even when the previous output can be kept
#
# Everything in this folder except README.md, .gitattributes and this script
# is written by it.  Signed fixtures must NEVER be edited by hand: change the
# templates below and run the script again.  See README.md.
#
# Determinism: keys and certificates are created once and then reused, so a
# re-run gives byte-identical RSA fixtures.  ECDSA signatures are randomised
# (xmlsec1 1.2.37 / OpenSSL 3.0 do not use RFC 6979 nonces), so an ECDSA
# output from an earlier run is kept as long as its template is unchanged and
# it still verifies with the pinned certificate (use --resign to override).
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
export LC_ALL=C TZ=UTC

FRESH_KEYS=0
RESIGN=0
for arg in "$@"; do
  case "$arg" in
    --fresh-keys) FRESH_KEYS=1 ;;
    --resign) RESIGN=1 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

die() { echo "generate.sh: ERROR: $*" >&2; exit 1; }
log() { echo "generate.sh: $*" >&2; }

command -v xmlsec1 >/dev/null || die "xmlsec1 not found"
command -v openssl >/dev/null || die "openssl not found"
command -v python3 >/dev/null || die "python3 not found"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
RECORDS="$TMP/records.jsonl"
: >"$RECORDS"

# --------------------------------------------------------------------------
# Algorithm URIs
# --------------------------------------------------------------------------
DS_NS="http://www.w3.org/2000/09/xmldsig#"
C14N_EXC="http://www.w3.org/2001/10/xml-exc-c14n#"
C14N_EXC_WC="http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
C14N_INC="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N_INC_WC="http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
ENVELOPED="http://www.w3.org/2000/09/xmldsig#enveloped-signature"
RSA_SHA1="http://www.w3.org/2000/09/xmldsig#rsa-sha1"
RSA_SHA256="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
RSA_SHA384="http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
RSA_SHA512="http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
ECDSA_SHA256="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
ECDSA_SHA384="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"
ECDSA_SHA512="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512"
DG_SHA1="http://www.w3.org/2000/09/xmldsig#sha1"
DG_SHA256="http://www.w3.org/2001/04/xmlenc#sha256"
DG_SHA384="http://www.w3.org/2001/04/xmldsig-more#sha384"
DG_SHA512="http://www.w3.org/2001/04/xmlenc#sha512"

SAMLP_NS="urn:oasis:names:tc:SAML:2.0:protocol"
SAML_NS="urn:oasis:names:tc:SAML:2.0:assertion"
ID_ARGS=(--id-attr:ID "$SAML_NS:Assertion" --id-attr:ID "$SAMLP_NS:Response")
ID_ARGS_TEXT="--id-attr:ID $SAML_NS:Assertion --id-attr:ID $SAMLP_NS:Response"
# Only <ds:KeyName> may be read from <ds:KeyInfo>: the verification key always
# comes from the pinned certificate given on the command line, never from the
# X509Data/KeyValue carried in the document.
TRUST_ARGS=(--enabled-key-data key-name)

# --------------------------------------------------------------------------
# Python helper (standard library only)
# --------------------------------------------------------------------------
read -r -d '' PYHELPER <<'PY' || true
import base64, hashlib, json, os, re, sys
import xml.etree.ElementTree as ET

DS = "{http://www.w3.org/2000/09/xmldsig#}"

def rd(p):
    with open(p, "rb") as f:
        return f.read()

def wr(p, b):
    with open(p, "wb") as f:
        f.write(b)

def find_by_id(root, ident):
    hits = [e for e in root.iter() if e.get("ID") == ident]
    if len(hits) != 1:
        sys.exit("expected exactly one element with ID=%r, found %d" % (ident, len(hits)))
    return hits[0]

def sig_of(path, ident):
    root = ET.parse(path).getroot()
    el = find_by_id(root, ident)
    sigs = [c for c in el if c.tag == DS + "Signature"]
    if len(sigs) != 1:
        sys.exit("element %s has %d ds:Signature children" % (ident, len(sigs)))
    return sigs[0]

def cmd_sigfields(path, ident):
    """Print DigestMethod, DigestValue, SignatureMethod, SignatureValue (one per line)."""
    s = sig_of(path, ident)
    refs = s.findall(DS + "SignedInfo/" + DS + "Reference")
    if len(refs) != 1:
        sys.exit("expected one Reference, found %d" % len(refs))
    ref = refs[0]
    if ref.get("URI") != "#" + ident:
        sys.exit("Reference URI %r does not point at %s" % (ref.get("URI"), ident))
    print(ref.find(DS + "DigestMethod").get("Algorithm"))
    print("".join(ref.find(DS + "DigestValue").text.split()))
    print(s.find(DS + "SignedInfo/" + DS + "SignatureMethod").get("Algorithm"))
    print("".join(s.find(DS + "SignatureValue").text.split()))

def cmd_extract(dump, ref_out, si_out):
    """Cut the PreDigest (reference) and PreSigned (SignedInfo) buffers out of
    the debug dump that xmlsec1 --store-references --store-signatures writes to
    stdout.  xmlsec1 1.2.37 frames each buffer as
      "== PreDigest data - start buffer:\n" <bytes> "\n== PreDigest data - end buffer\n"
      "== PreSigned data - start buffer:\n" <bytes> "\n== PreSigned data - end buffer\n"
    """
    data = rd(dump)
    out = {}
    for label, dest in (("PreDigest", ref_out), ("PreSigned", si_out)):
        start = ("== %s data - start buffer:\n" % label).encode()
        end = ("\n== %s data - end buffer\n" % label).encode()
        n = data.count(start)
        if n != 1:
            sys.exit("expected exactly one %s buffer in xmlsec1 output, found %d" % (label, n))
        i = data.index(start) + len(start)
        j = data.find(end, i)
        if j < 0 or data.find(end, j + 1) >= 0:
            sys.exit("could not find a unique end marker for the %s buffer" % label)
        out[dest] = data[i:j]
    for dest, b in out.items():
        if not b.startswith(b"<"):
            sys.exit("%s does not look like canonical XML" % dest)
        wr(dest, b)

def der_int(b):
    b = b.lstrip(b"\x00") or b"\x00"
    if b[0] & 0x80:
        b = b"\x00" + b
    return b"\x02" + der_len(len(b)) + b

def der_len(n):
    if n < 0x80:
        return bytes([n])
    s = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(s)]) + s

def cmd_sigbin(b64, out, kind):
    """Write the SignatureValue as the binary form openssl expects
    (XML-DSig ECDSA values are r||s; OpenSSL wants a DER SEQUENCE)."""
    raw = base64.b64decode(b64, validate=True)
    if kind == "ecdsa":
        if len(raw) % 2:
            sys.exit("odd-length ECDSA signature value")
        h = len(raw) // 2
        body = der_int(raw[:h]) + der_int(raw[h:])
        raw = b"\x30" + der_len(len(body)) + body
    wr(out, raw)

# ---------------------------------------------------------------- tampering
ASSERTION_RE = re.compile(rb"<saml:Assertion\b.*?</saml:Assertion>", re.S)
SIGNATURE_RE = re.compile(rb"<ds:Signature\b.*?</ds:Signature>", re.S)

def replace_once(doc, old, new):
    n = doc.count(old)
    if n != 1:
        sys.exit("tamper: expected exactly one %r, found %d" % (old, n))
    return doc.replace(old, new)

def flip_b64_element(doc, tag):
    m = re.compile(rb"(<ds:" + tag + rb">)([^<]*)(</ds:" + tag + rb">)").findall(doc)
    if len(m) != 1:
        sys.exit("tamper: expected one ds:%s" % tag.decode())
    open_t, text, close_t = m[0]
    raw = bytearray(base64.b64decode(b"".join(text.split())))
    raw[len(raw) // 2] ^= 0x01  # flip one bit in the middle
    enc = base64.b64encode(bytes(raw))
    if b"\n" in text:  # keep xmlsec1's 64-column line wrapping
        enc = b"\n".join(enc[i:i + 64] for i in range(0, len(enc), 64))
    return replace_once(doc, open_t + text + close_t, open_t + enc + close_t)

def the_assertion(doc):
    m = ASSERTION_RE.findall(doc)
    if len(m) != 1:
        sys.exit("tamper: expected one saml:Assertion, found %d" % len(m))
    return m[0]

def forged_from(orig, new_id):
    """An attacker-made assertion: the original without its signature, with
    another subject and the given ID."""
    evil = SIGNATURE_RE.sub(b"", orig, count=1)
    evil = replace_once(evil, b">user@example.com</saml:NameID>", b">admin@example.com</saml:NameID>")
    return replace_once(evil, b'ID="_assert1"', b'ID="' + new_id + b'"')

def cmd_tamper(kind, src, out):
    doc = rd(src)
    if kind == "nameid-changed":
        doc = replace_once(doc, b">user@example.com</saml:NameID>", b">admin@example.com</saml:NameID>")
    elif kind == "attribute-changed":
        doc = replace_once(doc, b">staff</saml:AttributeValue>", b">superuser</saml:AttributeValue>")
    elif kind == "nameid-comment-append":
        doc = replace_once(doc, b">user@example.com</saml:NameID>", b">user@example.com<!---->.evil.com</saml:NameID>")
    elif kind == "nameid-comment-split":
        doc = replace_once(doc, b">user@example.com.evil.com</saml:NameID>", b">user@example.com<!---->.evil.com</saml:NameID>")
    elif kind == "status-changed":
        doc = replace_once(doc, b"urn:oasis:names:tc:SAML:2.0:status:Success", b"urn:oasis:names:tc:SAML:2.0:status:Requester")
    elif kind == "signaturevalue-flipped":
        doc = flip_b64_element(doc, b"SignatureValue")
    elif kind == "digestvalue-flipped":
        doc = flip_b64_element(doc, b"DigestValue")
    elif kind in ("xsw-extensions-new-id", "xsw-extensions-same-id"):
        orig = the_assertion(doc)
        evil = forged_from(orig, b"_evil" if kind.endswith("new-id") else b"_assert1")
        doc = replace_once(doc, orig, evil)
        # the genuine signed assertion goes into <samlp:Extensions>, which
        # must directly follow the Response's <saml:Issuer>
        issuer_end = b"https://idp.example.com/</saml:Issuer>"
        i = doc.index(issuer_end) + len(issuer_end)
        doc = doc[:i] + b"<samlp:Extensions>" + orig + b"</samlp:Extensions>" + doc[i:]
    elif kind == "xsw-sibling-new-id":
        orig = the_assertion(doc)
        evil = forged_from(orig, b"_evil")
        doc = replace_once(doc, orig, evil + orig)
    elif kind == "xsw-object":
        orig = the_assertion(doc)
        sig = SIGNATURE_RE.findall(orig)[0]
        unsigned_orig = replace_once(orig, sig, b"")
        evil = forged_from(orig, b"_evil")
        issuer_end = b"https://idp.example.com/</saml:Issuer>"
        i = evil.index(issuer_end) + len(issuer_end)
        wrapped_sig = replace_once(sig, b"</ds:Signature>", b"<ds:Object>" + unsigned_orig + b"</ds:Object></ds:Signature>")
        evil = evil[:i] + wrapped_sig + evil[i:]
        doc = replace_once(doc, orig, evil)
    elif kind == "duplicate-id":
        orig = the_assertion(doc)
        evil = forged_from(orig, b"_assert1")
        doc = replace_once(doc, orig, orig + evil)
    elif kind == "attr-literal-whitespace":
        # literal TAB / LF in an attribute value: attribute-value normalisation
        # turns them back into the spaces that were signed
        doc = replace_once(doc, b'deep:literal="literal tab and newline become spaces"',
                           b'deep:literal="literal\ttab and\nnewline become spaces"')
    elif kind == "crlf":
        if b"\r" in doc:
            sys.exit("tamper: document already contains CR")
        doc = doc.replace(b"\n", b"\r\n")
    elif kind == "copy":
        pass
    else:
        sys.exit("unknown tamper kind " + kind)
    wr(out, doc)

# ------------------------------------------------------------------ records
def convert(v):
    if v == "null":
        return None
    if v == "true":
        return True
    if v == "false":
        return False
    if re.fullmatch(r"-?[0-9]+", v):
        return int(v)
    if v.startswith("json:"):
        return json.loads(v[5:])
    return v

def cmd_record(path, *kvs):
    rec = {}
    for kv in kvs:
        k, _, v = kv.partition("=")
        rec[k] = convert(v)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(rec, ensure_ascii=False) + "\n")

FIELD_ORDER = ["name", "file", "kind", "document", "derived_from", "signed_element",
               "signature_method", "digest_method", "c14n_method", "reference_transforms",
               "prefix_list", "signing_key", "cert", "wrong_cert", "key_bits", "uses_sha1",
               "expect", "category", "xmlsec1_verdict", "xmlsec1_message", "xmlsec1_command",
               "expected_nameid", "ref_c14n", "signedinfo_c14n", "notes"]

def cmd_manifest(records, out, meta_json):
    cases = []
    with open(records, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            rec["signed_element"] = {"local_name": rec.pop("signed_local_name"), "id": rec.pop("signed_id")}
            for k in FIELD_ORDER:
                rec.setdefault(k, None)
            cases.append({k: rec[k] for k in FIELD_ORDER})
    names = [c["name"] for c in cases]
    if len(names) != len(set(names)):
        sys.exit("duplicate case names")
    files = {}
    for dirpath, dirnames, filenames in os.walk("."):
        dirnames.sort()
        for fn in sorted(filenames):
            p = os.path.relpath(os.path.join(dirpath, fn), ".").replace(os.sep, "/")
            if p == "manifest.json":
                continue
            files[p] = hashlib.sha256(rd(p)).hexdigest()
    for c in cases:
        for k in ("file", "cert", "wrong_cert", "signing_key", "ref_c14n", "signedinfo_c14n"):
            if c[k] is not None and c[k] not in files:
                sys.exit("case %s: %s %s is missing" % (c["name"], k, c[k]))
    meta = json.loads(meta_json)
    manifest = dict(meta)
    manifest["cases"] = cases
    manifest["files"] = dict(sorted(files.items()))
    with open(out, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")

if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"sigfields": cmd_sigfields, "extract": cmd_extract, "sigbin": cmd_sigbin,
     "tamper": cmd_tamper, "record": cmd_record, "manifest": cmd_manifest}[cmd](*args)
PY
py() { python3 -c "$PYHELPER" "$@"; }
record() { py record "$RECORDS" "$@"; }

# --------------------------------------------------------------------------
# 1. Keys and self-signed certificates (created once, then reused)
# --------------------------------------------------------------------------
# name|genpkey options|certificate signature digest|serial
KEYSPECS=(
  "rsa-2048|-algorithm RSA -pkeyopt rsa_keygen_bits:2048|sha256|1001"
  "rsa-3072|-algorithm RSA -pkeyopt rsa_keygen_bits:3072|sha256|1002"
  "rsa-1024|-algorithm RSA -pkeyopt rsa_keygen_bits:1024|sha256|1003"
  "ec-p256|-algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve|sha256|1004"
  "ec-p384|-algorithm EC -pkeyopt ec_paramgen_curve:P-384 -pkeyopt ec_param_enc:named_curve|sha384|1005"
  "rsa-2048-other|-algorithm RSA -pkeyopt rsa_keygen_bits:2048|sha256|1006"
)
NOT_BEFORE="20240101000000Z"
NOT_AFTER="21240101000000Z"   # 100 years

key_ok() {
  local n=$1
  [[ -s keys/$n.key.pem && -s keys/$n.crt.pem && -s keys/$n.pub.pem ]] || return 1
  local a b c
  a="$(openssl pkey -in "keys/$n.key.pem" -pubout 2>/dev/null)" || return 1
  b="$(openssl x509 -in "keys/$n.crt.pem" -noout -pubkey 2>/dev/null)" || return 1
  c="$(cat "keys/$n.pub.pem")"
  [[ "$a" == "$b" && "$a" == "$c" ]]
}

make_key() {
  local n=$1 genopts=$2 md=$3 serial=$4
  local d="$TMP/ca-$n"
  mkdir -p "$d"
  # shellcheck disable=SC2086
  openssl genpkey $genopts -out "keys/$n.key.pem" 2>/dev/null
  openssl pkey -in "keys/$n.key.pem" -pubout -out "keys/$n.pub.pem"
  # `openssl req -x509` in OpenSSL 3.0 has no -not_before/-not_after, but
  # `openssl ca` accepts fixed -startdate/-enddate, so self-sign through it.
  : >"$d/index.txt"
  echo "$serial" >"$d/serial"
  cat >"$d/ca.cnf" <<EOF
[ ca ]
default_ca = fixture_ca
[ fixture_ca ]
database = $d/index.txt
new_certs_dir = $d
serial = $d/serial
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no
[ policy_any ]
organizationName = supplied
commonName = supplied
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
O = fedkit test fixtures (NOT FOR PRODUCTION)
CN = fedkit xmlsec1-generated $n
[ v3_self ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
EOF
  openssl req -new -config "$d/ca.cnf" -key "keys/$n.key.pem" -out "$d/req.csr"
  openssl ca -batch -config "$d/ca.cnf" -selfsign -preserveDN -notext \
    -keyfile "keys/$n.key.pem" -in "$d/req.csr" -out "keys/$n.crt.pem" \
    -startdate "$NOT_BEFORE" -enddate "$NOT_AFTER" -md "$md" -extensions v3_self \
    >"$d/ca.log" 2>&1 || { cat "$d/ca.log" >&2; die "openssl ca failed for $n"; }
}

if [[ $FRESH_KEYS == 1 ]]; then
  rm -rf keys
fi
mkdir -p keys
for spec in "${KEYSPECS[@]}"; do
  IFS='|' read -r n genopts md serial <<<"$spec"
  if key_ok "$n"; then
    continue
  fi
  log "creating key and certificate $n"
  make_key "$n" "$genopts" "$md" "$serial"
  key_ok "$n" || die "key/cert mismatch for $n"
done

key_bits() { openssl pkey -in "keys/$1.key.pem" -noout -text | sed -n 's/.*Private-Key: (\([0-9]*\) bit.*/\1/p'; }

# --------------------------------------------------------------------------
# 2. Clear previous outputs (keep the previous ECDSA fixtures aside)
# --------------------------------------------------------------------------
PREV="$TMP/previous"
mkdir -p "$PREV"
for d in templates signed tampered c14n; do
  if [[ -d $d ]]; then mv "$d" "$PREV/$d"; fi
done
rm -f manifest.json
mkdir -p templates signed tampered c14n

# --------------------------------------------------------------------------
# 3. Templates
# --------------------------------------------------------------------------
# sig_template ID SIGALG DIGALG C14N PREFIXLIST STYLE
#   STYLE=compact: everything on one line (like most IdPs emit it)
#   STYLE=pretty: indented, with a comment inside SignedInfo
sig_template() {
  local id=$1 sm=$2 dm=$3 c14n=$4 pl=$5 style=$6
  local cm tr
  if [[ -n $pl ]]; then
    local incl="<ec:InclusiveNamespaces xmlns:ec=\"$C14N_EXC\" PrefixList=\"$pl\"/>"
    cm="<ds:CanonicalizationMethod Algorithm=\"$c14n\">$incl</ds:CanonicalizationMethod>"
    tr="<ds:Transform Algorithm=\"$c14n\">$incl</ds:Transform>"
  else
    cm="<ds:CanonicalizationMethod Algorithm=\"$c14n\"/>"
    tr="<ds:Transform Algorithm=\"$c14n\"/>"
  fi
  if [[ $style == compact ]]; then
    printf '%s' "<ds:Signature xmlns:ds=\"$DS_NS\"><ds:SignedInfo>$cm<ds:SignatureMethod Algorithm=\"$sm\"/><ds:Reference URI=\"#$id\"><ds:Transforms><ds:Transform Algorithm=\"$ENVELOPED\"/>$tr</ds:Transforms><ds:DigestMethod Algorithm=\"$dm\"/><ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue></ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate></ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>"
  else
    cat <<EOF
<ds:Signature xmlns:ds="$DS_NS">
      <ds:SignedInfo>
        $cm
        <!-- comment inside SignedInfo: only the #WithComments algorithms keep it -->
        <ds:SignatureMethod Algorithm="$sm"/>
        <ds:Reference URI="#$id">
          <ds:Transforms>
            <ds:Transform Algorithm="$ENVELOPED"/>
            $tr
          </ds:Transforms>
          <ds:DigestMethod Algorithm="$dm"/>
          <ds:DigestValue></ds:DigestValue>
        </ds:Reference>
      </ds:SignedInfo>
      <ds:SignatureValue></ds:SignatureValue>
      <ds:KeyInfo>
        <ds:X509Data>
          <ds:X509Certificate></ds:X509Certificate>
        </ds:X509Data>
      </ds:KeyInfo>
    </ds:Signature>
EOF
  fi
}

# A realistic, compact SAML 2.0 Response.  xs/xsi are declared on the
# Assertion, as many IdPs do.
read -r -d '' PLAIN_DOC <<'EOF' || true
<?xml version="1.0" encoding="UTF-8"?>
<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_resp1" Version="2.0" IssueInstant="2024-06-01T12:00:00Z" Destination="https://sp.example.com/acs" InResponseTo="_req1"><saml:Issuer>https://idp.example.com/</saml:Issuer>@RSIG@<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status><saml:Assertion xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="_assert1" Version="2.0" IssueInstant="2024-06-01T12:00:00Z"><saml:Issuer>https://idp.example.com/</saml:Issuer>@ASIG@<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">@NAMEID@</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData InResponseTo="_req1" NotOnOrAfter="2124-01-01T00:00:00Z" Recipient="https://sp.example.com/acs"/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="2024-01-01T00:00:00Z" NotOnOrAfter="2124-01-01T00:00:00Z"><saml:AudienceRestriction><saml:Audience>https://sp.example.com/</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement AuthnInstant="2024-06-01T12:00:00Z" SessionIndex="_session1"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement><saml:AttributeStatement><saml:Attribute Name="mail" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic"><saml:AttributeValue xsi:type="xs:string">user@example.com</saml:AttributeValue></saml:Attribute><saml:Attribute Name="role" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic"><saml:AttributeValue xsi:type="xs:string">admin-console-viewer</saml:AttributeValue><saml:AttributeValue xsi:type="xs:string">staff</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion></samlp:Response>
EOF

# A pretty-printed Response that exercises canonicalization.  @TAB@ becomes a
# literal TAB character (attribute-value normalisation turns it into a space).
read -r -d '' RICH_DOC <<'EOF' || true
<?xml version="1.0" encoding="UTF-8"?>
<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"
    xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"
    xmlns="urn:example:root-default"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:deep="urn:example:deep"
    xml:lang="en-GB" ID="_resp1" Version="2.0" IssueInstant="2024-06-01T12:00:00Z"
    Destination="https://sp.example.com/acs" InResponseTo="_req1">
  <saml:Issuer>https://idp.example.com/</saml:Issuer>
  @RSIG@
  <samlp:Status>
    <samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>
  </samlp:Status>
  <!-- comment in the Response, outside the Assertion -->
  <saml:Assertion xmlns:unused="urn:example:unused-on-signed-element" ID="_assert1" Version="2.0" IssueInstant="2024-06-01T12:00:00Z" >
    <saml:Issuer>https://idp.example.com/</saml:Issuer>
    @ASIG@
    <!-- comment inside the Assertion -->
    <saml:Subject>
      <saml:NameID Format='urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress' SPNameQualifier="https://sp.example.com/">@NAMEID@</saml:NameID>
      <saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
        <saml:SubjectConfirmationData Recipient="https://sp.example.com/acs" NotOnOrAfter="2124-01-01T00:00:00Z" InResponseTo="_req1" />
      </saml:SubjectConfirmation>
    </saml:Subject>
    <saml:Conditions NotOnOrAfter="2124-01-01T00:00:00Z" NotBefore="2024-01-01T00:00:00Z">
      <saml:AudienceRestriction>
        <saml:Audience   >https://sp.example.com/</saml:Audience>
      </saml:AudienceRestriction>
    </saml:Conditions>
    <saml:Advice>
      <Data xmlns="urn:example:advice">
        <Item>in the default namespace urn:example:advice</Item>
        <Item xmlns="">in no namespace (xmlns="" undeclaration)</Item>
        <Item xmlns="urn:example:advice">redundant default namespace redeclaration</Item>
        <deep:Leaf deep:flag="true">prefix declared only on the Response root</deep:Leaf>
        <?fedkit-pi processing instruction inside the signed element?>
        <Empty/>
        <Empty></Empty>
        <Empty attr="x" />
      </Data>
    </saml:Advice>
    <saml:AuthnStatement SessionIndex="_session1" AuthnInstant="2024-06-01T12:00:00Z">
      <saml:AuthnContext>
        <saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef>
      </saml:AuthnContext>
    </saml:AuthnStatement>
    <saml:AttributeStatement>
      <saml:Attribute xmlns:zz="urn:example:aaa" xmlns:aa="urn:example:zzz" aa:k="in urn:example:zzz" zz:k="in urn:example:aaa" aa:a="zzz a" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic" Name="mail" FriendlyName="mail">
        <saml:AttributeValue xsi:type="xs:string">user@example.com</saml:AttributeValue>
      </saml:Attribute>
      <saml:Attribute Name="displayName" FriendlyName="Zoë">
        <saml:AttributeValue xsi:type="xs:string" xml:lang="de">Zoë Müller – Ünïcödé 日本語 😀 &#x20AC; &#169;</saml:AttributeValue>
      </saml:Attribute>
      <saml:Attribute Name="escaping" FriendlyName="amp &amp; lt &lt; gt &gt; quot &quot; apos &apos; tab&#9;nl&#10;cr&#13;end" deep:literal="literal@TAB@tab and
newline become spaces" deep:quotes='single-quoted "double" inside'>
        <saml:AttributeValue xsi:type="xs:string">x &gt; y &amp;&amp; a &lt; b, cr&#13;lf&#10;<![CDATA[<cdata> & "quotes" ]]> tail ]]&gt;</saml:AttributeValue>
        <saml:AttributeValue xsi:type="xs:string">split<!-- a comment splits this text -->text</saml:AttributeValue>
        <saml:AttributeValue/>
        <saml:AttributeValue xsi:nil="true"></saml:AttributeValue>
      </saml:Attribute>
      <saml:Attribute Name="role" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">
        <saml:AttributeValue xsi:type="xs:string">admin-console-viewer</saml:AttributeValue>
        <saml:AttributeValue xsi:type="xs:string">staff</saml:AttributeValue>
      </saml:Attribute>
    </saml:AttributeStatement>
  </saml:Assertion>
</samlp:Response>
EOF

# make_template OUT DOC(plain|rich) SIGNED(assertion|response|both) SIGALG DIGALG C14N PREFIXLIST NAMEID
make_template() {
  local out=$1 docname=$2 which=$3 sm=$4 dm=$5 c14n=$6 pl=$7 nameid=$8
  local doc style asig="" rsig=""
  if [[ $docname == plain ]]; then doc=$PLAIN_DOC; style=compact; else doc=$RICH_DOC; style=pretty; fi
  case "$which" in
    assertion) asig="$(sig_template _assert1 "$sm" "$dm" "$c14n" "$pl" "$style")" ;;
    response)  rsig="$(sig_template _resp1 "$sm" "$dm" "$c14n" "$pl" "$style")" ;;
    both)      asig="$(sig_template _assert1 "$sm" "$dm" "$c14n" "$pl" "$style")"
               rsig="$(sig_template _resp1 "$sm" "$dm" "$c14n" "$pl" "$style")" ;;
    *) die "bad signed element $which" ;;
  esac
  doc="${doc//@ASIG@/"$asig"}"
  doc="${doc//@RSIG@/"$rsig"}"
  doc="${doc//@NAMEID@/"$nameid"}"
  doc="${doc//@TAB@/$'\t'}"
  if [[ $style == pretty ]]; then
    # drop the lines that held an unused signature placeholder
    doc="$(printf '%s\n' "$doc" | sed '/^ *$/d')"
  fi
  printf '%s\n' "$doc" >"$out"
}

# --------------------------------------------------------------------------
# 4. Signing and verification helpers
# --------------------------------------------------------------------------
sign_file() { # KEY IN OUT NODE_ID
  local key=$1 in=$2 out=$3 node=$4
  xmlsec1 --sign --privkey-pem "keys/$key.key.pem,keys/$key.crt.pem" "${ID_ARGS[@]}" \
    --node-id "$node" --output "$out" "$in" >"$TMP/sign.log" 2>&1 \
    || { cat "$TMP/sign.log" >&2; return 1; }
}

# xmlsec_verify CERT FILE [NODE_ID]
# Sets VERDICT (ok|fail|error), VMSG (one-line summary) and VCMD.
# The debug dump (PreDigest/PreSigned buffers) is left in $TMP/verify.out.
xmlsec_verify() {
  local cert=$1 file=$2 node=${3:-}
  local args=(--verify "${TRUST_ARGS[@]}" --pubkey-cert-pem "$cert" "${ID_ARGS[@]}")
  VCMD="xmlsec1 --verify ${TRUST_ARGS[*]} --pubkey-cert-pem $cert $ID_ARGS_TEXT"
  if [[ -n $node ]]; then args+=(--node-id "$node"); VCMD+=" --node-id $node"; fi
  VCMD+=" $file"
  local rc=0
  xmlsec1 "${args[@]}" --store-references --store-signatures "$file" \
    >"$TMP/verify.out" 2>"$TMP/verify.err" || rc=$?
  if [[ $rc == 0 ]] && grep -qx 'OK' "$TMP/verify.err"; then
    VERDICT=ok
  elif grep -qx 'FAIL' "$TMP/verify.err"; then
    VERDICT=fail
  else
    VERDICT=error
  fi
  # A short, version-independent-ish summary: the xmlsec error reasons and
  # any "Error:" lines, without file/line numbers.
  VMSG="$(python3 - "$TMP/verify.err" <<'PY'
import re, sys
out = []
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    line = line.rstrip("\n")
    m = re.search(r"func=([^:]*):.*?:error=\d+:(.*)$", line)
    if m:
        s = "%s: %s" % (m.group(1), m.group(2))
    elif line.startswith("Error") or line in ("OK", "FAIL"):
        s = line
    else:
        continue
    s = re.sub(r"\s+", " ", s).strip()
    if s not in out:
        out.append(s)
print(" | ".join(out)[:600])
PY
)"
}

digest_name() {
  case "$1" in
    "$DG_SHA1") echo sha1 ;; "$DG_SHA256") echo sha256 ;;
    "$DG_SHA384") echo sha384 ;; "$DG_SHA512") echo sha512 ;;
    *) die "unknown digest $1" ;;
  esac
}
sig_info() { # prints "<kind> <hash>"
  case "$1" in
    "$RSA_SHA1") echo "rsa sha1" ;; "$RSA_SHA256") echo "rsa sha256" ;;
    "$RSA_SHA384") echo "rsa sha384" ;; "$RSA_SHA512") echo "rsa sha512" ;;
    "$ECDSA_SHA256") echo "ecdsa sha256" ;; "$ECDSA_SHA384") echo "ecdsa sha384" ;;
    "$ECDSA_SHA512") echo "ecdsa sha512" ;;
    *) die "unknown signature method $1" ;;
  esac
}

# check_positive NAME FILE KEY NODE_ID
# Verifies with xmlsec1 and the pinned cert, stores the canonical bytes and
# cross-checks them with openssl (digest and signature).
check_positive() {
  local name=$1 file=$2 key=$3 node=$4
  xmlsec_verify "keys/$key.crt.pem" "$file" "$node"
  [[ $VERDICT == ok ]] || die "$name: xmlsec1 did not verify $file ($VERDICT: $VMSG)"
  local ref="c14n/$name.ref.c14n" si="c14n/$name.signedinfo.c14n"
  py extract "$TMP/verify.out" "$ref" "$si" || die "$name: could not extract canonical bytes"
  local fields dm dv sm sv
  fields="$(py sigfields "$file" "$node")"
  { read -r dm; read -r dv; read -r sm; read -r sv; } <<<"$fields"
  local got
  got="$(openssl dgst "-$(digest_name "$dm")" -binary "$ref" | base64 -w0)"
  [[ "$got" == "$dv" ]] || die "$name: digest of $ref ($got) != DigestValue ($dv)"
  local kind hash
  read -r kind hash <<<"$(sig_info "$sm")"
  py sigbin "$sv" "$TMP/sig.bin" "$kind"
  openssl dgst "-$hash" -verify "keys/$key.pub.pem" -signature "$TMP/sig.bin" "$si" >/dev/null \
    || die "$name: openssl does not verify SignatureValue over $si"
}

# Reuse an ECDSA output of the previous run when nothing changed.
reuse_previous() { # NAME TEMPLATE OUT KEY NODE...
  local name=$1 tpl=$2 out=$3 key=$4; shift 4
  [[ $RESIGN == 0 ]] || return 1
  [[ -f $PREV/$tpl && -f $PREV/$out ]] || return 1
  cmp -s "$PREV/$tpl" "$tpl" || return 1
  local node
  for node in "$@"; do
    xmlsec_verify "keys/$key.crt.pem" "$PREV/$out" "$node"
    [[ $VERDICT == ok ]] || return 1
  done
  cp "$PREV/$out" "$out"
  log "$name: kept previous ECDSA signature (template unchanged)"
}

c14n_transforms_json() { # C14N -> JSON list of Reference transforms
  printf 'json:["%s","%s"]' "$ENVELOPED" "$1"
}

# positive_case NAME DOC SIGNED KEY SIGALG DIGALG C14N PREFIXLIST EXPECT CATEGORY NOTES [NAMEID]
positive_case() {
  local name=$1 docname=$2 which=$3 key=$4 sm=$5 dm=$6 c14n=$7 pl=$8 expect=$9 category=${10} notes=${11}
  local nameid=${12:-user@example.com}
  local tpl="templates/$name.xml" out="signed/$name.xml"
  make_template "$tpl" "$docname" "$which" "$sm" "$dm" "$c14n" "$pl" "$nameid"
  local nodes=()
  case "$which" in
    assertion) nodes=(_assert1) ;; response) nodes=(_resp1) ;; both) nodes=(_assert1 _resp1) ;;
  esac
  local kind
  read -r kind _ <<<"$(sig_info "$sm")"
  if [[ $kind == ecdsa ]] && reuse_previous "$name" "$tpl" "$out" "$key" "${nodes[@]}"; then
    :
  else
    # for "both" the assertion is signed first, then the response over it
    cp "$tpl" "$TMP/work.xml"
    local node
    for node in "${nodes[@]}"; do
      sign_file "$key" "$TMP/work.xml" "$TMP/work-signed.xml" "$node" \
        || die "$name: xmlsec1 refused to sign (node $node)"
      mv "$TMP/work-signed.xml" "$TMP/work.xml"
    done
    mv "$TMP/work.xml" "$out"
  fi
  local sha1=false
  [[ $sm == "$RSA_SHA1" || $dm == "$DG_SHA1" ]] && sha1=true
  local bits; bits="$(key_bits "$key")"
  local node local_name cname
  for node in "${nodes[@]}"; do
    if [[ $node == _assert1 ]]; then local_name=Assertion; else local_name=Response; fi
    cname=$name
    [[ $which == both ]] && cname="$name.${local_name,,}"
    check_positive "$cname" "$out" "$key" "$node"
    record name="$cname" file="$out" kind=signed document="$docname" \
      signed_local_name="$local_name" signed_id="$node" \
      signature_method="$sm" digest_method="$dm" c14n_method="$c14n" \
      reference_transforms="$(c14n_transforms_json "$c14n")" \
      prefix_list="${pl:-null}" signing_key="keys/$key.key.pem" cert="keys/$key.crt.pem" \
      key_bits="$bits" uses_sha1="$sha1" expect="$expect" category="${category:-null}" \
      xmlsec1_verdict="$VERDICT" xmlsec1_message="$VMSG" xmlsec1_command="$VCMD" \
      expected_nameid="$nameid" \
      ref_c14n="c14n/$cname.ref.c14n" signedinfo_c14n="c14n/$cname.signedinfo.c14n" \
      notes="$notes"
    log "$cname: signed, verified (xmlsec1 $VERDICT), canonical bytes cross-checked"
  done
}

# negative_case NAME SOURCE_CASE TAMPER KIND CERT_KEY WRONG_KEY EXPECT CATEGORY SIGNED_ID NOTES [EXPECTED_NAMEID]
# (the verification is always run without --node-id: xmlsec1 checks the first
# ds:Signature in document order, as a naive consumer would)
negative_case() {
  local name=$1 src=$2 kind=$3 key=$4 wrong=$5 expect=$6 category=$7 signed_id=$8 notes=$9
  local nameid=${10:-null}
  local out="tampered/$name.xml"
  py tamper "$kind" "signed/$src.xml" "$out"
  local pin="keys/$key.crt.pem"
  [[ -n $wrong ]] && pin="keys/$wrong.crt.pem"
  xmlsec_verify "$pin" "$out"
  local sm dm c14n pl sha1 bits docname local_name
  # copy the algorithm fields from the source case's record
  IFS=$'\t' read -r sm dm c14n pl sha1 bits docname <<<"$(python3 - "$RECORDS" "$src" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    if r["name"] in (sys.argv[2], sys.argv[2] + ".response"):
        print("\t".join([r["signature_method"], r["digest_method"], r["c14n_method"],
              r["prefix_list"] or "null", str(r["uses_sha1"]).lower(), str(r["key_bits"]),
              r["document"]]))
        break
else:
    sys.exit("no record for " + sys.argv[2])
PY
)"
  if [[ $signed_id == _assert1 ]]; then local_name=Assertion; else local_name=Response; fi
  record name="$name" file="$out" kind=tampered document="$docname" derived_from="signed/$src.xml" \
    signed_local_name="$local_name" signed_id="$signed_id" \
    signature_method="$sm" digest_method="$dm" c14n_method="$c14n" \
    reference_transforms="$(c14n_transforms_json "$c14n")" prefix_list="$pl" \
    signing_key="keys/$key.key.pem" cert="keys/$key.crt.pem" \
    wrong_cert="$([[ -n $wrong ]] && echo "keys/$wrong.crt.pem" || echo null)" \
    key_bits="$bits" uses_sha1="$sha1" expect="$expect" category="${category:-null}" \
    xmlsec1_verdict="$VERDICT" xmlsec1_message="$VMSG" xmlsec1_command="$VCMD" \
    expected_nameid="$nameid" ref_c14n=null signedinfo_c14n=null notes="$notes"
  log "$name: xmlsec1 verdict $VERDICT"
}

# --------------------------------------------------------------------------
# 5. The positive matrix
# --------------------------------------------------------------------------
SHA1_NOTE="uses SHA-1: must be rejected under the default policy and accepted only when SHA-1 is explicitly allowed"

positive_case assertion-rsa2048-sha256 plain assertion rsa-2048 "$RSA_SHA256" "$DG_SHA256" "$C14N_EXC" "" accept "" \
  "baseline: signature on the Assertion only, exclusive c14n"
positive_case response-rsa2048-sha256 plain response rsa-2048 "$RSA_SHA256" "$DG_SHA256" "$C14N_EXC" "" accept "" \
  "signature on the Response only; the Assertion is unsigned"
positive_case both-rsa2048-sha256 plain both rsa-2048 "$RSA_SHA256" "$DG_SHA256" "$C14N_EXC" "" accept "" \
  "two signatures in one file: the Assertion was signed first, then the Response over the already-signed Assertion (the Response digest covers the Assertion's ds:Signature)"
positive_case assertion-rsa3072-sha256 plain assertion rsa-3072 "$RSA_SHA256" "$DG_SHA256" "$C14N_EXC" "" accept "" \
  "RSA 3072-bit key"
positive_case assertion-rsa2048-sha384 plain assertion rsa-2048 "$RSA_SHA384" "$DG_SHA384" "$C14N_EXC" "" accept "" \
  "rsa-sha384 with sha384 digest"
positive_case assertion-rsa2048-sha512 plain assertion rsa-2048 "$RSA_SHA512" "$DG_SHA512" "$C14N_EXC" "" accept "" \
  "rsa-sha512 with sha512 digest"
positive_case assertion-rsa2048-sha1 plain assertion rsa-2048 "$RSA_SHA1" "$DG_SHA1" "$C14N_EXC" "" reject weak_algorithm \
  "rsa-sha1 with sha1 digest; cryptographically valid; $SHA1_NOTE"
positive_case assertion-rsa2048-sha256-digest-sha1 plain assertion rsa-2048 "$RSA_SHA256" "$DG_SHA1" "$C14N_EXC" "" reject weak_algorithm \
  "rsa-sha256 signature but a sha1 Reference digest; cryptographically valid; $SHA1_NOTE"
positive_case assertion-ecdsa-p256-sha256 plain assertion ec-p256 "$ECDSA_SHA256" "$DG_SHA256" "$C14N_EXC" "" accept "" \
  "ECDSA P-256; SignatureValue is r||s (2 x 32 bytes), not DER"
positive_case assertion-ecdsa-p384-sha384 plain assertion ec-p384 "$ECDSA_SHA384" "$DG_SHA384" "$C14N_EXC" "" accept "" \
  "ECDSA P-384; SignatureValue is r||s (2 x 48 bytes), not DER"
positive_case assertion-ecdsa-p384-sha512 plain assertion ec-p384 "$ECDSA_SHA512" "$DG_SHA512" "$C14N_EXC" "" accept "" \
  "ECDSA P-384 with SHA-512 (hash longer than the curve order: truncated per ECDSA)"
positive_case assertion-rsa1024-sha256 plain assertion rsa-1024 "$RSA_SHA256" "$DG_SHA256" "$C14N_EXC" "" reject weak_key \
  "RSA 1024-bit key: cryptographically valid, must fail a 2048-bit minimum-key-size policy"
positive_case assertion-nameid-suffix-rsa2048-sha256 plain assertion rsa-2048 "$RSA_SHA256" "$DG_SHA256" "$C14N_EXC" "" accept "" \
  "NameID is user@example.com.evil.com; source of the tamper-nameid-comment-split case" \
  "user@example.com.evil.com"

RICH_NOTE="c14n stress document: comments, PI, default-namespace redeclaration and xmlns=\"\", char refs and CDATA, non-ASCII text, xml:lang on the root, attributes from several namespaces, empty elements, a prefix declared on the root but used deep inside, an unused namespace on the signed element, xs/xsi on the root; there is also a comment inside SignedInfo"
positive_case c14n-exc rich assertion rsa-2048 "$RSA_SHA256" "$DG_SHA256" "$C14N_EXC" "" accept "" \
  "$RICH_NOTE; exclusive c14n (comments dropped, xml:lang not inherited, xmlns:xs not emitted)"
positive_case c14n-inc rich assertion rsa-2048 "$RSA_SHA256" "$DG_SHA256" "$C14N_INC" "" accept "" \
  "$RICH_NOTE; inclusive c14n (all in-scope namespaces and the inherited xml:lang appear on the Assertion)"
positive_case c14n-exc-with-comments rich assertion rsa-2048 "$RSA_SHA256" "$DG_SHA256" "$C14N_EXC_WC" "" accept "" \
  "$RICH_NOTE; exclusive c14n WithComments: the same-document URI=\"#_assert1\" reference removes comments before the transform runs, so the ref bytes contain no comments, while the SignedInfo bytes keep the SignedInfo comment"
positive_case c14n-inc-with-comments rich assertion rsa-2048 "$RSA_SHA256" "$DG_SHA256" "$C14N_INC_WC" "" accept "" \
  "$RICH_NOTE; inclusive c14n WithComments (see c14n-exc-with-comments for the comment rules)"
positive_case c14n-exc-prefixlist rich assertion rsa-2048 "$RSA_SHA256" "$DG_SHA256" "$C14N_EXC" "xs #default" accept "" \
  "$RICH_NOTE; exclusive c14n with InclusiveNamespaces PrefixList=\"xs #default\" in both CanonicalizationMethod and the Reference transform"
positive_case c14n-exc-response rich response rsa-2048 "$RSA_SHA256" "$DG_SHA256" "$C14N_EXC" "" accept "" \
  "$RICH_NOTE; the whole Response is signed with exclusive c14n"
positive_case c14n-inc-response rich response rsa-2048 "$RSA_SHA256" "$DG_SHA256" "$C14N_INC" "" accept "" \
  "$RICH_NOTE; the whole Response is signed with inclusive c14n"

# --------------------------------------------------------------------------
# 6. Tampered copies (never re-signed)
# --------------------------------------------------------------------------
B=assertion-rsa2048-sha256
negative_case tamper-nameid-changed "$B" nameid-changed rsa-2048 "" reject digest_mismatch _assert1 \
  "NameID text changed to admin@example.com after signing"
negative_case tamper-attribute-changed "$B" attribute-changed rsa-2048 "" reject digest_mismatch _assert1 \
  "the second role AttributeValue changed from staff to superuser after signing"
negative_case tamper-nameid-comment-append "$B" nameid-comment-append rsa-2048 "" reject digest_mismatch _assert1 \
  "'<!---->.evil.com' appended inside the signed NameID user@example.com: comments are stripped by c14n but the extra text is not, so the digest changes"
negative_case tamper-nameid-comment-split assertion-nameid-suffix-rsa2048-sha256 nameid-comment-split rsa-2048 "" accept "" _assert1 \
  "the signed NameID user@example.com.evil.com became user@example.com<!---->.evil.com: exclusive c14n strips the comment, the digest is unchanged and the signature is VALID (xmlsec1 agrees). A consumer must read the NameID as the concatenation of all its text nodes (user@example.com.evil.com), never only the first text node (user@example.com); a verifier may also choose to reject comments inside signed text, in which case this case should be reject" \
  "user@example.com.evil.com"
negative_case tamper-xsw-extensions-new-id "$B" xsw-extensions-new-id rsa-2048 "" reject wrapping _assert1 \
  "XSW: the genuine signed Assertion moved into samlp:Extensions; a forged unsigned Assertion ID=_evil (NameID admin@example.com) in its place. The signature itself is valid, so xmlsec1 (which only checks the signature) accepts; a SAML verifier must reject because the Assertion it would consume is not the signed one"
negative_case tamper-xsw-extensions-same-id "$B" xsw-extensions-same-id rsa-2048 "" reject wrapping _assert1 \
  "XSW: like tamper-xsw-extensions-new-id but the forged Assertion reuses ID=_assert1 (so there are two elements with that ID)"
negative_case tamper-xsw-sibling-new-id "$B" xsw-sibling-new-id rsa-2048 "" reject wrapping _assert1 \
  "XSW: a forged unsigned Assertion ID=_evil inserted before the genuine signed Assertion (two Assertions in the Response)"
negative_case tamper-xsw-object "$B" xsw-object rsa-2048 "" reject wrapping _assert1 \
  "XSW: forged Assertion ID=_evil carries a copy of the original ds:Signature whose new ds:Object holds the original Assertion (with its own signature removed); the reference #_assert1 now resolves to the Assertion inside ds:Object, i.e. inside the very Signature being verified, so the enveloped-signature transform removes all of it: xmlsec1 digests an empty octet string and reports a digest mismatch"
negative_case tamper-duplicate-id "$B" duplicate-id rsa-2048 "" reject duplicate_id _assert1 \
  "the genuine signed Assertion stays in place and an unsigned forged copy with the same ID=_assert1 (NameID admin@example.com) follows it"
negative_case tamper-wrong-key "$B" copy rsa-2048 rsa-2048-other reject untrusted_key _assert1 \
  "byte-identical copy of signed/$B.xml; verify it with wrong_cert pinned (keys/rsa-2048-other.crt.pem): the certificate in KeyInfo must not be trusted"
negative_case tamper-signaturevalue-flipped "$B" signaturevalue-flipped rsa-2048 "" reject signature_invalid _assert1 \
  "one bit flipped in the middle of the decoded SignatureValue (still valid base64)"
negative_case tamper-digestvalue-flipped "$B" digestvalue-flipped rsa-2048 "" reject digest_mismatch _assert1 \
  "one bit flipped in the decoded DigestValue (this also invalidates the signature over SignedInfo)"
negative_case tamper-ecdsa-signaturevalue-flipped assertion-ecdsa-p256-sha256 signaturevalue-flipped ec-p256 "" reject signature_invalid _assert1 \
  "one bit flipped in the middle of the ECDSA r||s SignatureValue"
negative_case tamper-response-status-changed response-rsa2048-sha256 status-changed rsa-2048 "" reject digest_mismatch _resp1 \
  "Response-signed document: StatusCode changed from Success to Requester after signing"
negative_case tamper-both-nameid-changed both-rsa2048-sha256 nameid-changed rsa-2048 "" reject digest_mismatch _resp1 \
  "doubly-signed document with the NameID changed: both the Response and the Assertion signature must fail (xmlsec1 was run on the first signature in document order, the Response's)"
negative_case tamper-attr-literal-whitespace c14n-exc attr-literal-whitespace rsa-2048 "" accept "" _assert1 \
  "not an attack: after signing, the space characters of the deep:literal attribute were replaced by a literal TAB and a literal LF. XML attribute-value normalisation turns both back into spaces, so the canonical bytes, the digest and the signature are unchanged (xmlsec1 agrees). A verifier must parse per XML 1.0, not hash the raw text"
negative_case tamper-crlf-line-endings c14n-exc crlf rsa-2048 "" accept "" _assert1 \
  "not an attack: every LF of the signed file was turned into CR LF (as a Windows checkout with autocrlf would do). XML end-of-line handling turns them back into LF before canonicalization, so the signature stays valid (xmlsec1 agrees). The base64 text of SignatureValue/X509Certificate then contains CR LF line breaks"

# --------------------------------------------------------------------------
# 7. Manifest
# --------------------------------------------------------------------------
XMLSEC_VERSION="$(xmlsec1 --version)"
OPENSSL_VERSION="$(openssl version)"
LIBXML2_VERSION="$(dpkg-query -W -f='${Version}' libxml2 2>/dev/null || echo unknown)"
XMLSEC_PKG="$(dpkg-query -W -f='${Version}' xmlsec1 2>/dev/null || echo unknown)"
META="$(python3 - "$XMLSEC_VERSION" "$XMLSEC_PKG" "$OPENSSL_VERSION" "$LIBXML2_VERSION" <<'PY'
import json, sys
print(json.dumps({
    "format": "fedkit-xmlsec1-fixtures/1",
    "generator": {
        "script": "generate.sh",
        "xmlsec1": sys.argv[1], "xmlsec1_debian_package": sys.argv[2],
        "openssl": sys.argv[3], "libxml2_debian_package": sys.argv[4],
    },
    "conventions": {
        "paths": "relative to this folder",
        "expect": "verdict a SAML-aware verifier with the default policy must give when the pinned `cert` (or `wrong_cert` if set) is the only trusted key and the element signed_element.id is the one consumed",
        "xmlsec1_verdict": "what `xmlsec1_command` printed: ok = signature valid, fail = signature/digest invalid, error = xmlsec1 refused to process the document; xmlsec1 only checks the signature, not which element a SAML consumer would use",
        "ref_c14n": "exact octets xmlsec1 fed into the Reference digest (output of the last Reference transform); digest(ref_c14n) == DigestValue is checked by generate.sh",
        "signedinfo_c14n": "exact octets of the canonicalized ds:SignedInfo that were signed; checked by generate.sh with openssl against the public key",
        "files": "SHA-256 of every file in this folder except manifest.json",
    },
    "notes": [
        "xmlsec1 1.2.37 has no RSA-PSS (xmldsig11 / RFC 9231 rsa-pss URIs): no RSA-PSS cases",
        "all requested algorithms (rsa-sha1/256/384/512, ecdsa-sha256/384/512, sha1/256/384/512 digests, inclusive and exclusive c14n with and without comments, InclusiveNamespaces) were accepted by this xmlsec1 build",
        "trust: verification always uses --enabled-key-data key-name, so xmlsec1 takes the key from the pinned --pubkey-cert-pem certificate and never from the X509Certificate in ds:KeyInfo",
        "ECDSA signatures are randomised; generate.sh keeps an earlier ECDSA output while its template is unchanged and it still verifies",
    ],
}))
PY
)"
py manifest "$RECORDS" manifest.json "$META"

# Final self-check: the manifest file table matches the folder.
python3 - <<'PY'
import hashlib, json, os
m = json.load(open("manifest.json", encoding="utf-8"))
for p, h in m["files"].items():
    assert hashlib.sha256(open(p, "rb").read()).hexdigest() == h, p
n_accept = sum(c["expect"] == "accept" for c in m["cases"])
print("generate.sh: %d cases (%d accept, %d reject), %d files" % (
    len(m["cases"]), n_accept, len(m["cases"]) - n_accept, len(m["files"])))
PY
