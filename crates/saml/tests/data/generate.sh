#!/usr/bin/env bash
# Generates the SAML Response fixtures of fedkit-saml's tests, signed by the xmlsec1 CLI.
#
# Usage: generate.sh [--fresh-keys]
#
# Everything under keys/, templates/ and signed/ is written by this script. Never edit a
# signed fixture by hand: change the case table below and run the script again. Attack
# variants (wrapping, duplication, comment injection after signing...) are NOT made here:
# the tests derive them from these valid fixtures at run time, so each rejection is
# attributable to a structural defence rather than to a broken digest.
#
# Keys are test-only. RSA PKCS#1 v1.5 signatures are deterministic, so a re-run with the same
# keys gives byte-identical fixtures.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
export LC_ALL=C TZ=UTC
command -v xmlsec1 >/dev/null || { echo "xmlsec1 not found (apt-get install xmlsec1)" >&2; exit 1; }

if [[ "${1:-}" == --fresh-keys ]]; then rm -f keys/*.pem; fi
for k in idp other sp sp-1024 idp-1024; do
  if [[ ! -f keys/$k.key.pem ]]; then
    # *-1024: keys below the 2048-bit minimum (refused unless opted in).
    bits=2048; [[ $k == *-1024 ]] && bits=1024
    openssl req -x509 -newkey rsa:$bits -nodes -days 36500 -keyout "keys/$k.key.pem" -out "keys/$k.crt.pem" \
      -subj "/CN=$k.fedkit-saml.test/O=fedkit-saml tests" 2>/dev/null
  fi
done

# The IdP key again, in a certificate valid 2020-01-01..2099-01-01 (the one above starts when it
# was generated, after the fixtures' clock): pinned keys are keys, so either certificate
# verifies the same signatures, and this one lets the tests see a login with no validity
# warning. `openssl ca` is the OpenSSL 3.0 way to choose a certificate's start date.
if [[ ! -f keys/idp-2020.crt.pem ]]; then
  ca="$(mktemp -d)"
  touch "$ca/index.txt"
  printf '[ca]\ndefault_ca=d\n[d]\ndir=%s\ndatabase=$dir/index.txt\nnew_certs_dir=$dir\nserial=$dir/serial\ndefault_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n' "$ca" >"$ca/ca.cnf"
  echo 01 >"$ca/serial"
  openssl req -new -key keys/idp.key.pem -subj "/CN=idp.fedkit-saml.test/O=fedkit-saml tests" -out "$ca/idp.csr"
  openssl ca -batch -notext -selfsign -config "$ca/ca.cnf" -keyfile keys/idp.key.pem -in "$ca/idp.csr" \
    -startdate 20200101000000Z -enddate 20990101000000Z -out keys/idp-2020.crt.pem 2>/dev/null
  rm -rf "$ca"
fi

# IdP metadata for these fixtures (JumpCloud's shape: two signing KeyDescriptors during a
# rotation, Redirect and POST SSO endpoints). Plain data, not signed.
python3 - <<'PY'
def body(path):
    return "".join(l.strip() for l in open(path) if not l.startswith("-----"))
def kd(cert):
    return ('    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
            + body(cert) + '</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>\n')
IDP = "https://sso.jumpcloud.com/saml2/fedkit-test"
B = "urn:oasis:names:tc:SAML:2.0:bindings:"
open("idp-metadata.xml", "w").write(
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
    f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{IDP}">\n'
    '  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" '
    'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">\n'
    + kd("keys/other.crt.pem") + kd("keys/idp.crt.pem")
    + '    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>\n'
    f'    <md:SingleSignOnService Binding="{B}HTTP-Redirect" Location="{IDP}"/>\n'
    f'    <md:SingleSignOnService Binding="{B}HTTP-POST" Location="{IDP}"/>\n'
    '  </md:IDPSSODescriptor>\n</md:EntityDescriptor>\n')
PY

ID_ARGS=(--id-attr:ID urn:oasis:names:tc:SAML:2.0:assertion:Assertion --id-attr:ID urn:oasis:names:tc:SAML:2.0:protocol:Response)
rm -f templates/*.xml signed/*.xml

# Writes templates/NAME.xml from key=value overrides of the defaults (see make_template.py).
python3 - "$@" <<'PY'
import os, sys
IDP = "https://sso.jumpcloud.com/saml2/fedkit-test"
SP = "https://app.example.com/saml/metadata"
ACS = "https://app.example.com/saml/acs"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"

def sig(ref, sigalg=RSA_SHA256, digest=SHA256):
    return f'''<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
      <ds:SignedInfo>
        <ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
        <ds:SignatureMethod Algorithm="{sigalg}"/>
        <ds:Reference URI="#{ref}">
          <ds:Transforms>
            <ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>
            <ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
          </ds:Transforms>
          <ds:DigestMethod Algorithm="{digest}"/>
          <ds:DigestValue/>
        </ds:Reference>
      </ds:SignedInfo>
      <ds:SignatureValue/>
      <ds:KeyInfo><ds:X509Data><ds:X509Certificate/></ds:X509Data></ds:KeyInfo>
    </ds:Signature>'''

JUMPCLOUD_ATTRIBUTES = '''    <saml2:AttributeStatement>
      <saml2:Attribute Name="email" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified">
        <saml2:AttributeValue xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="xs:string">jane.doe@example.com</saml2:AttributeValue>
      </saml2:Attribute>
      <saml2:Attribute Name="firstName" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified">
        <saml2:AttributeValue xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="xs:string">Jane</saml2:AttributeValue>
      </saml2:Attribute>
      <saml2:Attribute Name="lastName" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified">
        <saml2:AttributeValue xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="xs:string">Doe</saml2:AttributeValue>
      </saml2:Attribute>
      <saml2:Attribute Name="memberOf" FriendlyName="groups" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified">
        <saml2:AttributeValue xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="xs:string">Engineering</saml2:AttributeValue>
        <saml2:AttributeValue xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="xs:string">SSO Admins &amp; Auditors</saml2:AttributeValue>
      </saml2:Attribute>
    </saml2:AttributeStatement>'''
CLAIMS = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/"
def claim(name, *values):
    vals = "".join(f'<AttributeValue>{v}</AttributeValue>' for v in values)
    return f'\n      <Attribute Name="{name}">{vals}</Attribute>'
ENTRA_ATTRIBUTES = ('<AttributeStatement xmlns="urn:oasis:names:tc:SAML:2.0:assertion">'
    + claim("http://schemas.microsoft.com/identity/claims/objectidentifier", "3f2a1c9e-8d4b-4e6f-9a7c-2b5d8e1f0a3c")
    + claim(CLAIMS + "emailaddress", "jane.doe@example.com")
    + claim(CLAIMS + "givenname", "Jane")
    + claim(CLAIMS + "surname", "Doe")
    + claim("http://schemas.microsoft.com/identity/claims/displayname", "Jane Doe (Platform)")
    + claim("http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
            "0b6a1f43-5e9d-4c1b-8a2f-7d3e9c6b1a50", "9c8d7e6f-1a2b-4c3d-8e9f-0a1b2c3d4e5f")
    + "\n    </AttributeStatement>")
NO_EMAIL_ATTRIBUTES = ('<saml2:AttributeStatement>'
    + '<saml2:Attribute Name="uid"><saml2:AttributeValue>jdoe</saml2:AttributeValue></saml2:Attribute>'
    + '<saml2:Attribute Name="department"><saml2:AttributeValue>Platform</saml2:AttributeValue></saml2:Attribute>'
    + '</saml2:AttributeStatement>')
ATTRIBUTES = {"jumpcloud": JUMPCLOUD_ATTRIBUTES.lstrip(), "entra": ENTRA_ATTRIBUTES, "no-email": NO_EMAIL_ATTRIBUTES}

def response(sign="assertion", idp=IDP, assertion_issuer=None, audience=SP, recipient=ACS,
             destination=ACS, in_response_to="_req-7f3a", nameid="jane.doe@example.com",
             status="<saml2p:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/>",
             status_message="", with_assertion=True, sigalg=RSA_SHA256, digest=SHA256,
             not_before="2026-11-22T09:59:00Z", not_on_or_after="2026-11-22T10:05:00Z",
             confirmation_not_on_or_after="2026-11-22T10:05:00Z", one_time_use=False,
             attrs="jumpcloud", nameid_format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"):
    irt = f' InResponseTo="{in_response_to}"' if in_response_to else ""
    dest = f' Destination="{destination}"' if destination else ""
    rsig = sig("_resp-5c2e", sigalg, digest) if sign in ("response", "both") else ""
    asig = sig("_assert-9b41", sigalg, digest) if sign in ("assertion", "both") else ""
    otu = "<saml2:OneTimeUse/>" if one_time_use else ""
    assertion = f'''
  <saml2:Assertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xs="http://www.w3.org/2001/XMLSchema" ID="_assert-9b41" IssueInstant="2026-11-22T10:00:00Z" Version="2.0">
    <saml2:Issuer>{assertion_issuer or idp}</saml2:Issuer>
    {asig}
    <saml2:Subject>
      <saml2:NameID Format="{nameid_format}">{nameid}</saml2:NameID>
      <saml2:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
        <saml2:SubjectConfirmationData{irt} NotOnOrAfter="{confirmation_not_on_or_after}" Recipient="{recipient}"/>
      </saml2:SubjectConfirmation>
    </saml2:Subject>
    <saml2:Conditions NotBefore="{not_before}" NotOnOrAfter="{not_on_or_after}">
      <saml2:AudienceRestriction>
        <saml2:Audience>{audience}</saml2:Audience>
      </saml2:AudienceRestriction>{otu}
    </saml2:Conditions>
    <saml2:AuthnStatement AuthnInstant="2026-11-22T09:59:58Z" SessionIndex="_session-31d8" SessionNotOnOrAfter="2026-11-22T18:00:00Z">
      <saml2:AuthnContext>
        <saml2:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml2:AuthnContextClassRef>
      </saml2:AuthnContext>
    </saml2:AuthnStatement>
    {ATTRIBUTES[attrs]}
  </saml2:Assertion>''' if with_assertion else ""
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<saml2p:Response xmlns:saml2p="urn:oasis:names:tc:SAML:2.0:protocol"{dest} ID="_resp-5c2e"{irt} IssueInstant="2026-11-22T10:00:00Z" Version="2.0">
  <saml2:Issuer xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion">{idp}</saml2:Issuer>
  {rsig}
  <saml2p:Status>
    {status}{status_message}
  </saml2p:Status>{assertion}
</saml2p:Response>
'''

failure = ('<saml2p:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder">'
           '<saml2p:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"/></saml2p:StatusCode>')
cases = {
    # name: (signing key, kwargs)
    "assertion-signed": ("idp", dict(sign="assertion")),
    "response-signed": ("idp", dict(sign="response")),
    "both-signed": ("idp", dict(sign="both")),
    "unsigned": (None, dict(sign="none")),
    "idp-initiated": ("idp", dict(sign="assertion", in_response_to=None)),
    "one-time-use": ("idp", dict(sign="assertion", one_time_use=True)),
    "wrong-audience": ("idp", dict(sign="assertion", audience="https://other-app.example.com/saml/metadata")),
    "wrong-recipient": ("idp", dict(sign="assertion", recipient="https://other-app.example.com/saml/acs")),
    "wrong-destination": ("idp", dict(sign="response", destination="https://other-app.example.com/saml/acs")),
    "signed-response-without-destination": ("idp", dict(sign="response", destination=None)),
    "wrong-issuer": ("idp", dict(sign="assertion", idp="https://evil.example.com/idp")),
    "wrong-in-response-to": ("idp", dict(sign="both", in_response_to="_req-other")),
    "status-authn-failed": ("idp", dict(sign="response", status=failure,
        status_message="\n    <saml2p:StatusMessage>User is not assigned to this application</saml2p:StatusMessage>",
        with_assertion=False)),
    "sha1": ("idp", dict(sign="assertion", sigalg=RSA_SHA1, digest=SHA1)),
    "other-key": ("other", dict(sign="assertion")),
    "idp-1024-bit-key": ("idp-1024", dict(sign="assertion")),
    "nameid-with-comment": ("idp", dict(sign="assertion", nameid="jane.doe@example.com<!-- c -->.evil.com")),
    "expired-confirmation": ("idp", dict(sign="assertion", confirmation_not_on_or_after="2026-11-22T10:00:30Z")),
    "entra-claims": ("idp", dict(sign="assertion", attrs="entra", nameid="jdoe-7Qz4v1Xr",
        nameid_format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")),
    "connection-acme": ("idp", dict(sign="both", audience="https://app.example.com/saml/acme/metadata",
        recipient="https://app.example.com/saml/acme/acs", destination="https://app.example.com/saml/acme/acs")),
    "no-email": ("idp", dict(sign="assertion", attrs="no-email", nameid="jdoe",
        nameid_format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified")),
}
with open("cases.txt", "w") as f:
    for name, (key, kw) in cases.items():
        with open(f"templates/{name}.xml", "w") as t:
            t.write(response(**kw))
        f.write(f"{name} {key or '-'} {kw.get('sign')}\n")
PY

while read -r name key sign; do
  if [[ $key == - ]]; then cp "templates/$name.xml" "signed/$name.xml"; continue; fi
  cp "templates/$name.xml" work.xml
  nodes=()
  case $sign in assertion) nodes=(_assert-9b41) ;; response) nodes=(_resp-5c2e) ;; both) nodes=(_assert-9b41 _resp-5c2e) ;; esac
  for node in "${nodes[@]}"; do
    xmlsec1 --sign --privkey-pem "keys/$key.key.pem,keys/$key.crt.pem" "${ID_ARGS[@]}" \
      --node-id "$node" --output work-signed.xml work.xml 2>/dev/null
    mv work-signed.xml work.xml
  done
  # Every signature must verify with xmlsec1 and the signing certificate.
  for node in "${nodes[@]}"; do
    xmlsec1 --verify --enabled-key-data key-name --pubkey-cert-pem "keys/$key.crt.pem" "${ID_ARGS[@]}" \
      --node-id "$node" work.xml 2>/dev/null || { echo "$name: xmlsec1 does not verify $node" >&2; exit 1; }
  done
  mv work.xml "signed/$name.xml"
done < cases.txt
rm -f cases.txt

# Single Logout: a LogoutRequest and a LogoutResponse from the IdP over HTTP-POST (enveloped
# XML signature by xmlsec1), and a LogoutRequest over HTTP-Redirect (query signature by
# `openssl dgst -sha256 -sign` over "SAMLRequest=...&RelayState=...&SigAlg=...").
LOGOUT_ID_ARGS=(--id-attr:ID urn:oasis:names:tc:SAML:2.0:protocol:LogoutRequest --id-attr:ID urn:oasis:names:tc:SAML:2.0:protocol:LogoutResponse)
python3 - <<'PY'
SIG = open("templates/assertion-signed.xml").read()
start = SIG.index("<ds:Signature"); end = SIG.index("</ds:Signature>") + len("</ds:Signature>")
def sig(ref):
    return SIG[start:end].replace("#_assert-9b41", "#" + ref)
IDP = "https://sso.jumpcloud.com/saml2/fedkit-test"
SLO = "https://app.example.com/saml/slo"
request = f'''<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_logout-req-4d1" Version="2.0" IssueInstant="2026-11-22T11:00:00Z" Destination="{SLO}" NotOnOrAfter="2026-11-22T11:05:00Z">
  <saml:Issuer>{IDP}</saml:Issuer>
  {{sig}}
  <saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">jane.doe@example.com</saml:NameID>
  <samlp:SessionIndex>_session-31d8</samlp:SessionIndex>
</samlp:LogoutRequest>
'''
response = f'''<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_logout-resp-8e2" Version="2.0" IssueInstant="2026-11-22T11:00:00Z" Destination="{SLO}" InResponseTo="_sp-logout-1">
  <saml:Issuer>{IDP}</saml:Issuer>
  {{sig}}
  <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
</samlp:LogoutResponse>
'''
open("templates/logout-request-post.xml", "w").write(request.replace("{sig}", sig("_logout-req-4d1")))
open("templates/logout-response-post.xml", "w").write(response.replace("{sig}", sig("_logout-resp-8e2")))
open("templates/logout-request-redirect.xml", "w").write(request.replace("\n  {sig}", ""))
PY
for name in logout-request-post logout-response-post; do
  xmlsec1 --sign --privkey-pem keys/idp.key.pem,keys/idp.crt.pem "${LOGOUT_ID_ARGS[@]}" \
    --output "signed/$name.xml" "templates/$name.xml" 2>/dev/null
  xmlsec1 --verify --enabled-key-data key-name --pubkey-cert-pem keys/idp.crt.pem "${LOGOUT_ID_ARGS[@]}" \
    "signed/$name.xml" 2>/dev/null || { echo "$name: xmlsec1 does not verify it" >&2; exit 1; }
done
python3 - <<'PY'
import base64, subprocess, urllib.parse, zlib
xml = open("templates/logout-request-redirect.xml", "rb").read()
c = zlib.compressobj(9, zlib.DEFLATED, -15)
deflated = c.compress(xml) + c.flush()
q = lambda s: urllib.parse.quote(s, safe="")
signed = ("SAMLRequest=" + q(base64.b64encode(deflated).decode()) + "&RelayState=" + q("/goodbye?a=1")
          + "&SigAlg=" + q("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"))
sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", "keys/idp.key.pem"], input=signed.encode(),
                     capture_output=True, check=True).stdout
open("signed/logout-request-redirect.query", "w").write(signed + "&Signature=" + q(base64.b64encode(sig).decode()) + "\n")
PY
# Encrypted assertions: the signed (or unsigned) assertion of a case encrypted by xmlsec1 to
# the SP certificate (keys/sp.crt.pem) and wrapped in saml2:EncryptedAssertion; for "+response"
# cases the Response is then signed over the encrypted assertion. Each is decrypted back by
# xmlsec1 before it is kept. (xmlsec1 1.2.37 implements RSA-OAEP with SHA-1 only: the
# XML Encryption 1.1 rsa-oaep variants are covered by the gosaml2 corpus and unit tests.)
python3 - <<'PY'
import re, subprocess
XENC = "http://www.w3.org/2001/04/xmlenc#"
XENC11 = "http://www.w3.org/2009/xmlenc11#"
def template(content, transport):
    method = {
        "oaep-mgf1p": f'<xenc:EncryptionMethod Algorithm="{XENC}rsa-oaep-mgf1p"/>',
        "rsa-1_5": f'<xenc:EncryptionMethod Algorithm="{XENC}rsa-1_5"/>',
    }[transport]
    return (f'<xenc:EncryptedData xmlns:xenc="{XENC}" Type="{XENC}Element">'
            f'<xenc:EncryptionMethod Algorithm="{content}"/>'
            '<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><xenc:EncryptedKey>'
            f'{method}<xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo>'
            '<xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedData>')
GCM256 = XENC11 + "aes256-gcm"
CBC128 = XENC + "aes128-cbc"
TDES = XENC + "tripledes-cbc"
def session_key(content):
    return "des-192" if content == TDES else "aes-256" if "256" in content else "aes-128"
cases = [
    # name, source fixture, content algorithm, key transport, recipient cert, sign the Response
    ("encrypted-gcm", "signed/assertion-signed.xml", GCM256, "oaep-mgf1p", "sp", False),
    ("encrypted-cbc", "signed/assertion-signed.xml", CBC128, "oaep-mgf1p", "sp", False),
    ("encrypted-and-response-signed", "signed/assertion-signed.xml", GCM256, "oaep-mgf1p", "sp", True),
    ("encrypted-unsigned-assertion", "templates/unsigned.xml", GCM256, "oaep-mgf1p", "sp", True),
    ("encrypted-to-other-sp", "signed/assertion-signed.xml", GCM256, "oaep-mgf1p", "other", False),
    ("encrypted-rsa-1_5", "signed/assertion-signed.xml", CBC128, "rsa-1_5", "sp", False),
    # Triple-DES content encryption (XML Encryption 1.0's REQUIRED tripledes-cbc, pysaml2's
    # default): accepted with a LegacyEncryption warning.
    ("encrypted-3des", "signed/assertion-signed.xml", TDES, "oaep-mgf1p", "sp", False),
    # Encrypted to a 1024-bit SP certificate: its key is refused when loaded unless opted in.
    ("encrypted-to-1024-bit-sp", "signed/assertion-signed.xml", GCM256, "oaep-mgf1p", "sp-1024", False),
]
ids = ["--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response", "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"]
sig_src = open("templates/response-signed.xml").read()
resp_sig = sig_src[sig_src.index("<ds:Signature"):sig_src.index("</ds:Signature>") + len("</ds:Signature>")]
for name, source, content, transport, recipient, sign_response in cases:
    open("enc-template.xml", "w").write(template(content, transport))
    subprocess.run(["xmlsec1", "--encrypt", "--pubkey-cert-pem", f"keys/{recipient}.crt.pem",
                    "--session-key", session_key(content),
                    "--xml-data", source, "--node-name", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
                    "--output", "enc-out.xml", "enc-template.xml"], check=True, capture_output=True)
    text = open("enc-out.xml").read()
    start = text.index("<xenc:EncryptedData"); end = text.index("</xenc:EncryptedData>") + len("</xenc:EncryptedData>")
    text = (text[:start] + '<saml2:EncryptedAssertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion">'
            + text[start:end] + "</saml2:EncryptedAssertion>" + text[end:])
    if sign_response:
        text = text.replace("  <saml2p:Status>", "  " + resp_sig + "\n  <saml2p:Status>", 1)
        open("enc-work.xml", "w").write(text)
        subprocess.run(["xmlsec1", "--sign", "--privkey-pem", "keys/idp.key.pem,keys/idp.crt.pem", *ids,
                        "--node-id", "_resp-5c2e", "--output", f"signed/{name}.xml", "enc-work.xml"],
                       check=True, capture_output=True)
        subprocess.run(["xmlsec1", "--verify", "--enabled-key-data", "key-name", "--pubkey-cert-pem",
                        "keys/idp.crt.pem", *ids, "--node-id", "_resp-5c2e", f"signed/{name}.xml"],
                       check=True, capture_output=True)
    else:
        open(f"signed/{name}.xml", "w").write(text)
    # xmlsec1 must decrypt what it encrypted (with the recipient's key) back to the assertion.
    ok = subprocess.run(["xmlsec1", "--decrypt", "--privkey-pem", f"keys/{recipient}.key.pem",
                         "--output", "enc-dec.xml", f"signed/{name}.xml"], capture_output=True)
    if transport != "rsa-1_5":
        assert ok.returncode == 0, (name, ok.stderr)
        assert "jane.doe@example.com</saml2:NameID>" in open("enc-dec.xml").read(), name
# An encrypted NameID (EncryptedID) inside an assertion that is then signed over the
# ciphertext, as IdPs do when "encrypt NameID" is on; once with AES-128-CBC and once with
# Triple-DES (accepted with a LegacyEncryption warning).
for name, content in [("encrypted-name-id", CBC128), ("encrypted-name-id-3des", TDES)]:
    open("enc-template.xml", "w").write(template(content, "oaep-mgf1p"))
    subprocess.run(["xmlsec1", "--encrypt", "--pubkey-cert-pem", "keys/sp.crt.pem", "--session-key", session_key(content),
                    "--xml-data", "templates/assertion-signed.xml",
                    "--node-name", "urn:oasis:names:tc:SAML:2.0:assertion:NameID",
                    "--output", "enc-out.xml", "enc-template.xml"], check=True, capture_output=True)
    text = open("enc-out.xml").read()
    start = text.index("<xenc:EncryptedData"); end = text.index("</xenc:EncryptedData>") + len("</xenc:EncryptedData>")
    text = text[:start] + "<saml2:EncryptedID>" + text[start:end] + "</saml2:EncryptedID>" + text[end:]
    open("enc-work.xml", "w").write(text)
    subprocess.run(["xmlsec1", "--sign", "--privkey-pem", "keys/idp.key.pem,keys/idp.crt.pem", *ids,
                    "--node-id", "_assert-9b41", "--output", f"signed/{name}.xml", "enc-work.xml"],
                   check=True, capture_output=True)
    subprocess.run(["xmlsec1", "--verify", "--enabled-key-data", "key-name", "--pubkey-cert-pem",
                    "keys/idp.crt.pem", *ids, "--node-id", "_assert-9b41", f"signed/{name}.xml"],
                   check=True, capture_output=True)
    assert "<saml2:NameID" not in open(f"signed/{name}.xml").read()
    ok = subprocess.run(["xmlsec1", "--decrypt", "--privkey-pem", "keys/sp.key.pem", "--output", "enc-dec.xml",
                         f"signed/{name}.xml"], capture_output=True)
    assert ok.returncode == 0 and "jane.doe@example.com</saml2:NameID>" in open("enc-dec.xml").read(), ok.stderr
for f in ["enc-template.xml", "enc-out.xml", "enc-work.xml", "enc-dec.xml"]:
    try:
        __import__("os").remove(f)
    except FileNotFoundError:
        pass
PY
# Logout requests whose NameID is encrypted to the SP (EncryptedID): over POST (signed by
# xmlsec1 after encryption) and over Redirect (query-signed by openssl).
python3 - <<'PY'
import base64, subprocess, urllib.parse, zlib
XENC = "http://www.w3.org/2001/04/xmlenc#"
tmpl = (f'<xenc:EncryptedData xmlns:xenc="{XENC}" Type="{XENC}Element">'
        f'<xenc:EncryptionMethod Algorithm="{XENC}aes128-cbc"/>'
        '<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><xenc:EncryptedKey>'
        f'<xenc:EncryptionMethod Algorithm="{XENC}rsa-oaep-mgf1p"/><xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo>'
        '<xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedData>')
open("enc-template.xml", "w").write(tmpl)
def encrypt_name_id(source):
    subprocess.run(["xmlsec1", "--encrypt", "--pubkey-cert-pem", "keys/sp.crt.pem", "--session-key", "aes-128",
                    "--xml-data", source, "--node-name", "urn:oasis:names:tc:SAML:2.0:assertion:NameID",
                    "--output", "enc-out.xml", "enc-template.xml"], check=True, capture_output=True)
    text = open("enc-out.xml").read()
    s = text.index("<xenc:EncryptedData"); e = text.index("</xenc:EncryptedData>") + len("</xenc:EncryptedData>")
    return text[:s] + "<saml:EncryptedID>" + text[s:e] + "</saml:EncryptedID>" + text[e:]
ids = ["--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:LogoutRequest"]
open("enc-work.xml", "w").write(encrypt_name_id("templates/logout-request-post.xml"))
subprocess.run(["xmlsec1", "--sign", "--privkey-pem", "keys/idp.key.pem,keys/idp.crt.pem", *ids,
                "--output", "signed/logout-request-post-encrypted-id.xml", "enc-work.xml"], check=True, capture_output=True)
subprocess.run(["xmlsec1", "--verify", "--enabled-key-data", "key-name", "--pubkey-cert-pem", "keys/idp.crt.pem", *ids,
                "signed/logout-request-post-encrypted-id.xml"], check=True, capture_output=True)
xml = encrypt_name_id("templates/logout-request-redirect.xml").encode()
assert b"<saml:NameID" not in xml
c = zlib.compressobj(9, zlib.DEFLATED, -15)
deflated = c.compress(xml) + c.flush()
q = lambda s: urllib.parse.quote(s, safe="")
signed = ("SAMLRequest=" + q(base64.b64encode(deflated).decode())
          + "&SigAlg=" + q("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"))
sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", "keys/idp.key.pem"], input=signed.encode(),
                     capture_output=True, check=True).stdout
open("signed/logout-request-redirect-encrypted-id.query", "w").write(signed + "&Signature=" + q(base64.b64encode(sig).decode()) + "\n")
for f in ["enc-template.xml", "enc-out.xml", "enc-work.xml"]:
    __import__("os").remove(f)
PY
echo "generated $(ls signed | wc -l) fixtures"
