#!/usr/bin/env bash
# Generates the metadata fixtures of fedkit-metadata's tests; signatures by the xmlsec1 CLI.
#
# Usage: generate.sh [--fresh-keys]
#
# Everything under keys/, templates/, tampered/ and every *.xml here is written by this
# script (and examples/data/metadata-jumpcloud.xml). Never edit a generated file by hand:
# change the templates below and run the script again. Test-only keys: their private halves
# are public.
#
# Certificates get fixed validity periods (`openssl ca -selfsign -startdate/-enddate`), so the
# tests, which pass `now` explicitly (2026-11-22T10:00:00Z), never depend on today's date.
# RSA PKCS#1 v1.5 signatures are deterministic: a re-run with the same keys gives
# byte-identical files.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
export LC_ALL=C TZ=UTC
for tool in xmlsec1 openssl python3; do
  command -v "$tool" >/dev/null || { echo "$tool not found (apt-get install xmlsec1 openssl python3)" >&2; exit 1; }
done
mkdir -p keys templates tampered
if [[ "${1:-}" == --fresh-keys ]]; then rm -f keys/*.pem; fi

# make_cert NAME rsa|ec|ed25519 START END CN: a self-signed certificate with fixed dates.
make_cert() {
  local name=$1 type=$2 start=$3 end=$4 cn=$5
  [[ -f keys/$name.crt.pem ]] && return
  case $type in
    rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "keys/$name.key.pem" 2>/dev/null ;;
    ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "keys/$name.key.pem" ;;
    ed25519) openssl genpkey -algorithm ED25519 -out "keys/$name.key.pem" ;;
  esac
  local ca; ca=$(mktemp -d)
  touch "$ca/index.txt"; echo 01 > "$ca/serial"
  cat > "$ca/ca.cnf" <<CNF
[ ca ]
default_ca = fedkit
[ fedkit ]
database = $ca/index.txt
serial = $ca/serial
new_certs_dir = $ca
default_md = default
policy = anything
unique_subject = no
[ anything ]
commonName = supplied
organizationName = optional
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = $cn
O = fedkit-metadata tests
CNF
  openssl req -new -key "keys/$name.key.pem" -config "$ca/ca.cnf" -out "keys/$name.csr.pem"
  openssl ca -batch -selfsign -config "$ca/ca.cnf" -keyfile "keys/$name.key.pem" -in "keys/$name.csr.pem" \
    -startdate "$start" -enddate "$end" -notext -out "keys/$name.crt.pem" 2>/dev/null
  rm -rf "$ca"
}

make_cert jumpcloud-a rsa 20250101000000Z 20300101000000Z "JumpCloud current signing (test)"
make_cert jumpcloud-b rsa 20261001000000Z 20311001000000Z "JumpCloud next signing (test)"
make_cert okta rsa 20240101000000Z 20340101000000Z "dev-123456 (Okta test)"
make_cert entra-a rsa 20240101000000Z 20270101000000Z "Microsoft Azure Federated SSO Certificate (test)"
make_cert entra-b rsa 20261201000000Z 20291201000000Z "Microsoft Azure Federated SSO Certificate (test, next)"
make_cert adfs-signing rsa 20250101000000Z 20260101000000Z "ADFS Signing - adfs.contoso.test"
make_cert adfs-encryption rsa 20250101000000Z 20260101000000Z "ADFS Encryption - adfs.contoso.test"
make_cert shib-backchannel rsa 20200101000000Z 20400101000000Z "idp.example.org (back-channel)"
make_cert shib-frontchannel rsa 20200101000000Z 20400101000000Z "idp.example.org (front-channel)"
make_cert shib-encryption rsa 20200101000000Z 20400101000000Z "idp.example.org (encryption)"
make_cert federation rsa 20200101000000Z 20400101000000Z "Federation metadata signer (test)"
make_cert other rsa 20200101000000Z 20400101000000Z "Not the federation (test)"
make_cert idp-rsa rsa 20200101000000Z 20400101000000Z "Aggregate member IdP (test)"
make_cert idp-soon rsa 20200101000000Z 20261201000000Z "Expires 2026-12-01 (test)"
make_cert idp-ec ec 20200101000000Z 20400101000000Z "EC P-256 IdP (test)"
make_cert idp-ed25519 ed25519 20200101000000Z 20400101000000Z "Ed25519 IdP (test)"
# Independent fingerprints for the tests: openssl's SHA-256 of each certificate.
for crt in keys/*.crt.pem; do
  openssl x509 -in "$crt" -noout -fingerprint -sha256 | sed 's/^.*=//' > "${crt%.crt.pem}.sha256"
done
# Only the certificate requests of the paste tests are kept.
find keys -name '*.csr.pem' ! -name 'jumpcloud-a.csr.pem' -delete

python3 - <<'PY'
import re

def body(name, wrap=False, indent=""):
    text = open(f"keys/{name}.crt.pem").read()
    lines = [l for l in text.splitlines() if l and not l.startswith("-----")]
    if wrap:
        return ("\n" + indent).join(lines)
    return "".join(lines)

def cert(name, use=None, wrap=False, prefix="md:", indent=""):
    u = f' use="{use}"' if use else ""
    if wrap:
        inner = "\n" + indent + "        " + body(name, True, indent + "        ") + "\n" + indent + "    "
    else:
        inner = body(name)
    return (f'<{prefix}KeyDescriptor{u}><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'
            f'<ds:X509Data><ds:X509Certificate>{inner}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>'
            f'</{prefix}KeyDescriptor>')

def sig_template(ref, ds_prefix="ds", sigalg="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                 digest="http://www.w3.org/2001/04/xmlenc#sha256"):
    p = f"{ds_prefix}:" if ds_prefix else ""
    decl = f' xmlns:{ds_prefix}="http://www.w3.org/2000/09/xmldsig#"' if ds_prefix else ' xmlns="http://www.w3.org/2000/09/xmldsig#"'
    return (f'<{p}Signature{decl}><{p}SignedInfo>'
            f'<{p}CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
            f'<{p}SignatureMethod Algorithm="{sigalg}"/>'
            f'<{p}Reference URI="#{ref}"><{p}Transforms>'
            f'<{p}Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
            f'<{p}Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></{p}Transforms>'
            f'<{p}DigestMethod Algorithm="{digest}"/><{p}DigestValue/></{p}Reference></{p}SignedInfo>'
            f'<{p}SignatureValue/><{p}KeyInfo><{p}X509Data><{p}X509Certificate/></{p}X509Data></{p}KeyInfo></{p}Signature>')

B = "urn:oasis:names:tc:SAML:2.0:bindings:"
EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"

def write(path, text):
    with open(path, "w") as f:
        f.write(text)

# --- JumpCloud: one application's export, during a certificate rotation (two signing keys).
def jumpcloud(entity_id):
    loc = entity_id
    return ('<?xml version="1.0" encoding="UTF-8"?>'
        f'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity_id}">'
        '<md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        + cert("jumpcloud-a", "signing") + cert("jumpcloud-b", "signing") +
        f'<md:NameIDFormat>{EMAIL}</md:NameIDFormat>'
        f'<md:SingleSignOnService Binding="{B}HTTP-Redirect" Location="{loc}"/>'
        f'<md:SingleSignOnService Binding="{B}HTTP-POST" Location="{loc}"/>'
        '</md:IDPSSODescriptor></md:EntityDescriptor>\n')
write("jumpcloud.xml", jumpcloud("https://sso.jumpcloud.com/saml2/fedkit-test"))
write("../../../../examples/data/metadata-jumpcloud.xml", jumpcloud("https://sso.jumpcloud.com/saml2/fedkit-example"))

# --- Okta: an app's "Identity Provider metadata" (unsigned, entityID http://www.okta.com/...).
OKTA_SSO = "https://dev-123456.okta.com/app/dev-123456_fedkit_1/exk1fcia6d6EMsf331d8/sso/saml"
write("okta.xml", '<?xml version="1.0" encoding="UTF-8"?>'
    '<md:EntityDescriptor entityID="http://www.okta.com/exk1fcia6d6EMsf331d8" xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">'
    '<md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
    + cert("okta", "signing") +
    '<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat>'
    f'<md:NameIDFormat>{EMAIL}</md:NameIDFormat>'
    f'<md:SingleSignOnService Binding="{B}HTTP-POST" Location="{OKTA_SSO}"/>'
    f'<md:SingleSignOnService Binding="{B}HTTP-Redirect" Location="{OKTA_SSO}"/>'
    '</md:IDPSSODescriptor></md:EntityDescriptor>\n')

# --- Microsoft Entra ID: federation metadata, signed, default namespaces, WS-Federation
# RoleDescriptors before the IDPSSODescriptor, two signing keys during a rollover.
TENANT = "3f2a1c9e-8d4b-4e6f-9a7c-2b5d8e1f0a3c"
ENTRA_URL = f"https://login.microsoftonline.com/{TENANT}/saml2"
def ws_role(kind):
    return (f'<RoleDescriptor xsi:type="fed:{kind}" protocolSupportEnumeration="http://docs.oasis-open.org/wsfed/federation/200706" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706">'
        + cert("entra-a", "signing", prefix="") +
        '<fed:ClaimTypesOffered><auth:ClaimType Uri="http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name" '
        'xmlns:auth="http://docs.oasis-open.org/wsfed/authorization/200706"><auth:DisplayName>Name</auth:DisplayName>'
        '</auth:ClaimType></fed:ClaimTypesOffered>'
        '<fed:PassiveRequestorEndpoint><wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing">'
        f'<wsa:Address>https://login.microsoftonline.com/{TENANT}/wsfed</wsa:Address></wsa:EndpointReference>'
        '</fed:PassiveRequestorEndpoint></RoleDescriptor>')
write("templates/entra.xml", '<?xml version="1.0" encoding="utf-8"?>'
    f'<EntityDescriptor ID="_5c9f1d3e-7a2b-4c6d-8e0f-1a3b5c7d9e2f" entityID="https://sts.windows.net/{TENANT}/" xmlns="urn:oasis:names:tc:SAML:2.0:metadata">'
    + sig_template("_5c9f1d3e-7a2b-4c6d-8e0f-1a3b5c7d9e2f", ds_prefix="")
    + ws_role("SecurityTokenServiceType") + ws_role("ApplicationServiceType") +
    '<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
    + cert("entra-a", "signing", prefix="") + cert("entra-b", "signing", prefix="") +
    f'<SingleLogoutService Binding="{B}HTTP-Redirect" Location="{ENTRA_URL}"/>'
    f'<SingleSignOnService Binding="{B}HTTP-Redirect" Location="{ENTRA_URL}"/>'
    f'<SingleSignOnService Binding="{B}HTTP-POST" Location="{ENTRA_URL}"/>'
    '</IDPSSODescriptor></EntityDescriptor>\n')

# --- AD FS: FederationMetadata.xml, signed with the token-signing key, an SPSSODescriptor
# beside the IDPSSODescriptor, encryption and signing keys, expired certificates (AD FS
# auto-rollover keeps serving them until the next rollover).
ADFS = "https://adfs.contoso.test/adfs/ls/"
write("templates/adfs.xml", '<?xml version="1.0" encoding="utf-8"?>'
    '<EntityDescriptor ID="_8a0c2e4f-6b1d-4f3a-9c5e-7d2b4f6a8c0e" entityID="http://adfs.contoso.test/adfs/services/trust" xmlns="urn:oasis:names:tc:SAML:2.0:metadata">'
    + sig_template("_8a0c2e4f-6b1d-4f3a-9c5e-7d2b4f6a8c0e", ds_prefix="ds") +
    '<RoleDescriptor xsi:type="fed:ApplicationServiceType" protocolSupportEnumeration="http://docs.oasis-open.org/ws-sx/ws-trust/200512 http://schemas.xmlsoap.org/ws/2005/02/trust http://docs.oasis-open.org/wsfed/federation/200706" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706">'
    + cert("adfs-signing", "signing", prefix="") +
    '<fed:TargetScopes><wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing"><wsa:Address>https://adfs.contoso.test/adfs/services/trust/2005/issuedtokenmixedasymmetricbasic256</wsa:Address></wsa:EndpointReference></fed:TargetScopes>'
    '</RoleDescriptor>'
    '<SPSSODescriptor WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
    + cert("adfs-encryption", "encryption", prefix="") + cert("adfs-signing", "signing", prefix="") +
    f'<SingleLogoutService Binding="{B}HTTP-Redirect" Location="{ADFS}"/>'
    f'<NameIDFormat>{EMAIL}</NameIDFormat>'
    f'<AssertionConsumerService Binding="{B}HTTP-POST" Location="{ADFS}" index="0" isDefault="true"/>'
    '</SPSSODescriptor>'
    '<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
    + cert("adfs-encryption", "encryption", prefix="") + cert("adfs-signing", "signing", prefix="") +
    f'<SingleLogoutService Binding="{B}HTTP-Redirect" Location="{ADFS}"/>'
    f'<SingleLogoutService Binding="{B}HTTP-POST" Location="{ADFS}"/>'
    f'<NameIDFormat>{EMAIL}</NameIDFormat>'
    '<NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</NameIDFormat>'
    '<NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:transient</NameIDFormat>'
    f'<SingleSignOnService Binding="{B}HTTP-Redirect" Location="{ADFS}"/>'
    f'<SingleSignOnService Binding="{B}HTTP-POST" Location="{ADFS}"/>'
    '<Attribute Name="http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress" '
    'NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri" FriendlyName="E-Mail Address" xmlns="urn:oasis:names:tc:SAML:2.0:assertion"/>'
    '</IDPSSODescriptor></EntityDescriptor>\n')

# --- Shibboleth IdP: idp-metadata.xml as the installer writes it (default namespace, pretty
# printed, multi-line certificates, SAML 1 and 2, back- and front-channel signing keys).
I = "        "
def shib_cert(name, use):
    return ("\n" + I + cert(name, use, wrap=True, prefix="", indent=I))
SHIB = "https://idp.example.org"
write("shibboleth.xml", f'''<?xml version="1.0" encoding="UTF-8"?>
<!--
     This is example metadata only. Do *NOT* supply it as is without review.
-->
<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:shibmd="urn:mace:shibboleth:metadata:1.0" xmlns:xml="http://www.w3.org/XML/1998/namespace" xmlns:mdui="urn:oasis:names:tc:SAML:metadata:ui" validUntil="2099-01-01T00:00:00Z" entityID="{SHIB}/idp/shibboleth">

    <IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol urn:oasis:names:tc:SAML:1.1:protocol urn:mace:shibboleth:1.0">

        <Extensions>
            <shibmd:Scope regexp="false">example.org</shibmd:Scope>
            <mdui:UIInfo>
                <mdui:DisplayName xml:lang="en">Example University</mdui:DisplayName>
                <mdui:DisplayName xml:lang="de">Beispiel-Universit&#228;t</mdui:DisplayName>
                <mdui:Description xml:lang="en">Log in with your Example University account</mdui:Description>
                <mdui:Logo height="80" width="80">https://idp.example.org/logo.png</mdui:Logo>
                <mdui:Logo height="16" width="16">javascript:alert(document.domain)</mdui:Logo>
            </mdui:UIInfo>
        </Extensions>
{shib_cert("shib-backchannel", "signing")}
{shib_cert("shib-frontchannel", "signing")}
{shib_cert("shib-encryption", "encryption")}

        <ArtifactResolutionService Binding="urn:oasis:names:tc:SAML:1.0:bindings:SOAP-binding" Location="{SHIB}:8443/idp/profile/SAML1/SOAP/ArtifactResolution" index="1"/>
        <ArtifactResolutionService Binding="{B}SOAP" Location="{SHIB}:8443/idp/profile/SAML2/SOAP/ArtifactResolution" index="2"/>

        <SingleLogoutService Binding="{B}HTTP-Redirect" Location="{SHIB}/idp/profile/SAML2/Redirect/SLO"/>
        <SingleLogoutService Binding="{B}HTTP-POST" Location="{SHIB}/idp/profile/SAML2/POST/SLO"/>
        <SingleLogoutService Binding="{B}HTTP-POST-SimpleSign" Location="{SHIB}/idp/profile/SAML2/POST-SimpleSign/SLO"/>
        <SingleLogoutService Binding="{B}SOAP" Location="{SHIB}:8443/idp/profile/SAML2/SOAP/SLO"/>

        <SingleSignOnService Binding="urn:mace:shibboleth:1.0:profiles:AuthnRequest" Location="{SHIB}/idp/profile/Shibboleth/SSO"/>
        <SingleSignOnService Binding="{B}HTTP-POST" Location="{SHIB}/idp/profile/SAML2/POST/SSO"/>
        <SingleSignOnService Binding="{B}HTTP-POST-SimpleSign" Location="{SHIB}/idp/profile/SAML2/POST-SimpleSign/SSO"/>
        <SingleSignOnService Binding="{B}HTTP-Redirect" Location="{SHIB}/idp/profile/SAML2/Redirect/SSO"/>

    </IDPSSODescriptor>

    <AttributeAuthorityDescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:1.1:protocol urn:oasis:names:tc:SAML:2.0:protocol">
        <Extensions>
            <shibmd:Scope regexp="false">example.org</shibmd:Scope>
        </Extensions>
{shib_cert("shib-backchannel", "signing")}
        <AttributeService Binding="{B}SOAP" Location="{SHIB}:8443/idp/profile/SAML2/SOAP/AttributeQuery"/>
    </AttributeAuthorityDescriptor>

</EntityDescriptor>
''')

# --- Key descriptors without a use attribute (older Shibboleth, SimpleSAMLphp): each key
# both signs and encrypts.
write("use-less.xml", '<?xml version="1.0"?>\n'
    '<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.legacy.example.org/simplesaml/saml2/idp/metadata.php">\n'
    '  <IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">\n'
    '    ' + cert("idp-rsa", None, prefix="") + '\n'
    '    ' + cert("shib-encryption", None, prefix="") + '\n'
    '    <KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:KeyName>legacy-key</ds:KeyName></ds:KeyInfo></KeyDescriptor>\n'
    '    <NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:transient</NameIDFormat>\n'
    f'    <SingleSignOnService Binding="{B}HTTP-Redirect" Location="https://idp.legacy.example.org/simplesaml/saml2/idp/SSOService.php"/>\n'
    '  </IDPSSODescriptor>\n</EntityDescriptor>\n')

# --- A Service Provider's metadata (what admins upload by mistake).
write("sp.xml", '<?xml version="1.0"?>\n'
    '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://app.example.com/saml/metadata">'
    '<md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
    f'<md:AssertionConsumerService Binding="{B}HTTP-POST" Location="https://app.example.com/saml/acs" index="0"/>'
    '</md:SPSSODescriptor></md:EntityDescriptor>\n')

# --- A federation aggregate: nested EntitiesDescriptors, IdPs and SPs, the common
# extensions, and members that are broken in the ways the tests need.
def idp(entity_id, host, *, keys=(("idp-rsa", "signing"),), extra_entity="", ui=True, protocols="urn:oasis:names:tc:SAML:2.0:protocol",
        sso_location=None, valid_until=None):
    vu = f' validUntil="{valid_until}"' if valid_until else ""
    loc = sso_location or f"https://{host}/idp/profile/SAML2/Redirect/SSO"
    uiinfo = (f'<md:Extensions><shibmd:Scope regexp="false">{host.split(".", 1)[1]}</shibmd:Scope><mdui:UIInfo>'
              f'<mdui:DisplayName xml:lang="en">{host} &amp; friends</mdui:DisplayName>'
              f'<mdui:InformationURL xml:lang="en">https://{host}/about</mdui:InformationURL>'
              '</mdui:UIInfo></md:Extensions>') if ui else ""
    return (f'\n  <md:EntityDescriptor entityID="{entity_id}"{vu}>'
        '<md:Extensions><mdrpi:RegistrationInfo registrationAuthority="https://federation.fedkit.test" registrationInstant="2021-03-04T05:06:07Z">'
        '<mdrpi:RegistrationPolicy xml:lang="en">https://federation.fedkit.test/policy</mdrpi:RegistrationPolicy></mdrpi:RegistrationInfo>'
        '<mdattr:EntityAttributes><saml:Attribute Name="http://macedir.org/entity-category-support" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">'
        '<saml:AttributeValue>http://refeds.org/category/research-and-scholarship</saml:AttributeValue></saml:Attribute></mdattr:EntityAttributes>'
        + extra_entity + '</md:Extensions>'
        f'<md:IDPSSODescriptor protocolSupportEnumeration="{protocols}">' + uiinfo
        + "".join(cert(k, u) for k, u in keys) +
        '<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>'
        f'<md:SingleSignOnService Binding="{B}HTTP-Redirect" Location="{loc}"/>'
        f'<md:SingleSignOnService Binding="{B}HTTP-POST" Location="https://{host}/idp/profile/SAML2/POST/SSO"/>'
        '</md:IDPSSODescriptor>'
        f'<md:Organization><md:OrganizationName xml:lang="en">{host}</md:OrganizationName>'
        f'<md:OrganizationDisplayName xml:lang="en">Organization of {host}</md:OrganizationDisplayName>'
        f'<md:OrganizationURL xml:lang="en">https://www.{host}/</md:OrganizationURL></md:Organization>'
        '<md:ContactPerson contactType="technical"><md:GivenName>Identity Team</md:GivenName>'
        f'<md:EmailAddress>mailto:idm@{host}</md:EmailAddress></md:ContactPerson>'
        '</md:EntityDescriptor>')

def sp(entity_id):
    return (f'\n  <md:EntityDescriptor entityID="{entity_id}"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        f'<md:AssertionConsumerService Binding="{B}HTTP-POST" Location="{entity_id}/acs" index="0"/>'
        '</md:SPSSODescriptor></md:EntityDescriptor>')

AGG_ID = "_fedkit-aggregate-20261122"
def aggregate(sigalg=None, digest=None, signed=True):
    kw = {}
    if sigalg: kw["sigalg"] = sigalg
    if digest: kw["digest"] = digest
    signature = sig_template(AGG_ID, **kw) if signed else ""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" '
        'xmlns:mdattr="urn:oasis:names:tc:SAML:metadata:attribute" xmlns:mdrpi="urn:oasis:names:tc:SAML:metadata:rpi" '
        'xmlns:mdui="urn:oasis:names:tc:SAML:metadata:ui" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
        'xmlns:shibmd="urn:mace:shibboleth:metadata:1.0" '
        f'ID="{AGG_ID}" Name="https://federation.fedkit.test" validUntil="2099-01-01T00:00:00Z" cacheDuration="PT6H">'
        + signature +
        '\n  <md:Extensions><mdrpi:PublicationInfo creationInstant="2026-11-22T00:00:00Z" publisher="https://federation.fedkit.test"/></md:Extensions>'
        + idp("https://idp.uni-a.fedkit.test/idp/shibboleth", "idp.uni-a.fedkit.test")
        + sp("https://sp.research.fedkit.test/shibboleth")
        + '\n  <md:EntitiesDescriptor Name="https://federation.fedkit.test/members">'
        + idp("https://idp.uni-b.fedkit.test/idp/shibboleth", "idp.uni-b.fedkit.test",
              keys=(("idp-ec", "signing"), ("idp-soon", "signing"), ("idp-ed25519", "signing")))
        + idp("https://idp.evil.fedkit.test/idp/shibboleth", "idp.evil.fedkit.test", sso_location="javascript:alert(document.cookie)")
        + sp("https://sp.library.fedkit.test/shibboleth")
        + '\n  </md:EntitiesDescriptor>'
        + '\n  <md:EntitiesDescriptor Name="https://federation.fedkit.test/interim" validUntil="2026-06-01T00:00:00Z" cacheDuration="PT1H">'
        + idp("https://idp.interim.fedkit.test/idp/shibboleth", "idp.interim.fedkit.test")
        + '\n  </md:EntitiesDescriptor>'
        + idp("https://idp.twin.fedkit.test/idp/shibboleth", "idp.twin-1.fedkit.test")
        + idp("https://idp.twin.fedkit.test/idp/shibboleth", "idp.twin-2.fedkit.test")
        + idp("https://idp.saml1.fedkit.test/idp/shibboleth", "idp.saml1.fedkit.test", protocols="urn:oasis:names:tc:SAML:1.1:protocol")
        + idp("https://idp.nokey.fedkit.test/idp/shibboleth", "idp.nokey.fedkit.test", keys=(("shib-encryption", "encryption"),))
        + '\n</md:EntitiesDescriptor>\n')

write("templates/aggregate.xml", aggregate())
write("templates/aggregate-sha1.xml", aggregate(sigalg="http://www.w3.org/2000/09/xmldsig#rsa-sha1",
                                                digest="http://www.w3.org/2000/09/xmldsig#sha1"))
write("aggregate-unsigned.xml", aggregate(signed=False))

# --- An MDQ response: one entity, signed by the MDQ service (the federation's key).
MDQ_ID = "_mdq-3b8f2a"
write("templates/mdq-response.xml", '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" '
    'xmlns:mdattr="urn:oasis:names:tc:SAML:metadata:attribute" xmlns:mdrpi="urn:oasis:names:tc:SAML:metadata:rpi" '
    'xmlns:mdui="urn:oasis:names:tc:SAML:metadata:ui" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
    'xmlns:shibmd="urn:mace:shibboleth:metadata:1.0" '
    f'ID="{MDQ_ID}" entityID="https://idp.uni-a.fedkit.test/idp/shibboleth" validUntil="2099-01-01T00:00:00Z" cacheDuration="PT1H">'
    + sig_template(MDQ_ID)
    + idp("x", "idp.uni-a.fedkit.test").split(">", 1)[1].rsplit("</md:EntityDescriptor>", 1)[0]
    + '</md:EntityDescriptor>\n')
PY

ID_ARGS=(--id-attr:ID urn:oasis:names:tc:SAML:2.0:metadata:EntitiesDescriptor --id-attr:ID urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor)
# sign TEMPLATE OUTPUT KEY: signs with xmlsec1, then checks the result with xmlsec1 --verify.
sign() {
  xmlsec1 --sign --privkey-pem "keys/$3.key.pem,keys/$3.crt.pem" "${ID_ARGS[@]}" --output "$2" "$1" 2>/dev/null
  xmlsec1 --verify --enabled-key-data key-name --pubkey-cert-pem "keys/$3.crt.pem" "${ID_ARGS[@]}" "$2" 2>/dev/null \
    || { echo "$2: xmlsec1 does not verify it" >&2; exit 1; }
}
sign templates/entra.xml entra.xml entra-a
sign templates/adfs.xml adfs.xml adfs-signing
sign templates/aggregate.xml aggregate.xml federation
sign templates/aggregate.xml aggregate-other-key.xml other
sign templates/aggregate-sha1.xml aggregate-sha1.xml federation
sign templates/mdq-response.xml mdq-response.xml federation

# Tampered copies of the signed aggregate: each must fail xmlsec1 --verify too.
python3 - <<'PY'
signed = open("aggregate.xml").read()
def write(name, text):
    assert text != signed, name
    with open(f"tampered/{name}.xml", "w") as f:
        f.write(text)
# An endpoint redirected after signing.
write("location", signed.replace("https://idp.uni-a.fedkit.test/idp/profile/SAML2/Redirect/SSO",
                                 "https://attacker.example/idp/profile/SAML2/Redirect/SSO", 1))
# A member's signing certificate swapped for the attacker's.
member = open("keys/idp-rsa.crt.pem").read().split("-----")[2].replace("\n", "")
attacker = open("keys/other.crt.pem").read().split("-----")[2].replace("\n", "")
assert member in signed
write("certificate", signed.replace(member, attacker, 1))
# An entity added after signing.
rogue = ('\n  <md:EntityDescriptor entityID="https://rogue.example/idp"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
         '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://rogue.example/sso"/>'
         '</md:IDPSSODescriptor></md:EntityDescriptor>')
write("added-entity", signed.replace("\n</md:EntitiesDescriptor>\n", rogue + "\n</md:EntitiesDescriptor>\n"))
# validUntil extended after signing.
write("valid-until", signed.replace('validUntil="2026-06-01T00:00:00Z"', 'validUntil="2099-06-01T00:00:00Z"', 1))
# One SignatureValue character changed.
start = signed.index("<ds:SignatureValue>") + len("<ds:SignatureValue>")
c = signed[start + 10]
write("signature-value", signed[:start + 10] + ("A" if c != "A" else "B") + signed[start + 11:])
# Signature wrapping: a new root carrying the original signature, the signed aggregate
# inside it, and a rogue entity beside it.
sig_start = signed.index("<ds:Signature")
sig_end = signed.index("</ds:Signature>") + len("</ds:Signature>")
body = signed[signed.index("<md:EntitiesDescriptor"):]
write("wrapped", '<?xml version="1.0" encoding="UTF-8"?>\n'
      '<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" Name="https://federation.fedkit.test">'
      + signed[sig_start:sig_end] + rogue + "\n" + body.rstrip("\n") + "</md:EntitiesDescriptor>\n")
PY
for f in tampered/*.xml; do
  if xmlsec1 --verify --enabled-key-data key-name --pubkey-cert-pem keys/federation.crt.pem "${ID_ARGS[@]}" "$f" >/dev/null 2>&1; then
    echo "$f: xmlsec1 still verifies it" >&2; exit 1
  fi
done
echo "fixtures written"
