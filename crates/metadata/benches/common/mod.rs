//! The federation aggregate of the benchmark and the peak-memory example: generated
//! deterministically (the same size gives the same bytes), signed by the xmlsec1 CLI into a
//! temporary directory, never committed.
//!
//! Entities look like those of research-and-education federations: two in five are IdPs
//! (mdui, shibmd:Scope, mdrpi, entity categories, two signing certificates, SSO and SLO
//! endpoints, organization, contacts), the others SPs (ACS endpoints, requested attributes,
//! one certificate). Every third entity declares its own default namespace. Certificates are
//! the real test certificates of `tests/data/keys`, so looked-up IdPs parse.

// The bench and the example use different parts of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub(crate) const FEDERATION_CERT: &str = include_str!("../../tests/data/keys/federation.crt.pem");
const ROOT_ID: &str = "_fedkit-bench-aggregate";
const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/keys");

/// xmlsec1's `--id-attr` arguments for metadata.
pub(crate) const ID_ARGS: [&str; 4] = [
    "--id-attr:ID",
    "urn:oasis:names:tc:SAML:2.0:metadata:EntitiesDescriptor",
    "--id-attr:ID",
    "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor",
];

const CERTS: [&str; 6] = [
    include_str!("../../tests/data/keys/idp-rsa.crt.pem"),
    include_str!("../../tests/data/keys/shib-backchannel.crt.pem"),
    include_str!("../../tests/data/keys/shib-frontchannel.crt.pem"),
    include_str!("../../tests/data/keys/okta.crt.pem"),
    include_str!("../../tests/data/keys/jumpcloud-a.crt.pem"),
    include_str!("../../tests/data/keys/other.crt.pem"),
];

/// A certificate's base64 body, PEM-wrapped, as federation tools write it.
fn cert_body(i: usize, indent: &str) -> String {
    let pem = CERTS[i % CERTS.len()];
    let lines: Vec<&str> = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    lines.join(&format!("\n{indent}"))
}

fn key_descriptor(out: &mut String, p: &str, use_: &str, cert: usize) {
    let indent = "";
    out.push_str(&format!(
        "      <{p}KeyDescriptor use=\"{use_}\">\n        <ds:KeyInfo>\n          <ds:X509Data>\n            <ds:X509Certificate>\n{indent}{}\n            </ds:X509Certificate>\n          </ds:X509Data>\n        </ds:KeyInfo>\n      </{p}KeyDescriptor>\n",
        cert_body(cert, indent)
    ));
}

/// The entity ID of entity `i`.
pub(crate) fn entity_id(i: usize) -> String {
    if is_idp(i) {
        format!("https://idp.campus-{i}.example.edu/idp/shibboleth")
    } else {
        format!("https://sp-{i}.research.example.net/shibboleth")
    }
}

pub(crate) fn is_idp(i: usize) -> bool {
    i % 5 < 2
}

fn push_entity(out: &mut String, i: usize) {
    let own_ns = i % 3 == 2;
    let p = if own_ns { "" } else { "md:" };
    let decl = if own_ns {
        " xmlns=\"urn:oasis:names:tc:SAML:2.0:metadata\""
    } else {
        ""
    };
    let id = entity_id(i);
    let host = if is_idp(i) {
        format!("idp.campus-{i}.example.edu")
    } else {
        format!("sp-{i}.research.example.net")
    };
    out.push_str(&format!(
        concat!(
            "\n  <{p}EntityDescriptor{decl} entityID=\"{id}\">\n",
            "    <{p}Extensions>\n",
            "      <mdrpi:RegistrationInfo registrationAuthority=\"https://federation.example.org\" registrationInstant=\"2019-0{m}-1{d}T08:30:00Z\">\n",
            "      </mdrpi:RegistrationInfo>\n",
            "      <mdattr:EntityAttributes>\n",
            "        <saml:Attribute Name=\"http://macedir.org/entity-category\" NameFormat=\"urn:oasis:names:tc:SAML:2.0:attrname-format:uri\">\n",
            "          <saml:AttributeValue>http://refeds.org/category/research-and-scholarship</saml:AttributeValue>\n",
            "        </saml:Attribute>\n",
            "      </mdattr:EntityAttributes>\n",
            "    </{p}Extensions>\n",
        ),
        p = p,
        decl = decl,
        id = id,
        m = 1 + i % 9,
        d = i % 10,
    ));
    let role = if is_idp(i) {
        "IDPSSODescriptor"
    } else {
        "SPSSODescriptor"
    };
    out.push_str(&format!(
        "    <{p}{role} protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\n      <{p}Extensions>\n"
    ));
    if is_idp(i) {
        out.push_str(&format!(
            "        <shibmd:Scope regexp=\"false\">campus-{i}.example.edu</shibmd:Scope>\n"
        ));
    }
    out.push_str(&format!(
        concat!(
            "        <mdui:UIInfo>\n",
            "          <mdui:DisplayName xml:lang=\"en\">Example Campus {i}</mdui:DisplayName>\n",
            "          <mdui:Description xml:lang=\"en\">Research &amp; teaching services of campus #{i} </mdui:Description>\n",
            "          <mdui:InformationURL xml:lang=\"en\">https://{host}/about</mdui:InformationURL>\n",
            "          <mdui:Logo height=\"60\" width=\"80\">https://{host}/logo.png?size=80x60&amp;v={i}</mdui:Logo>\n",
            "        </mdui:UIInfo>\n",
            "      </{p}Extensions>\n",
        ),
        i = i,
        host = host,
        p = p,
    ));
    if is_idp(i) {
        key_descriptor(out, p, "signing", i);
        key_descriptor(out, p, "signing", i + 1);
        for (binding, path) in [("HTTP-Redirect", "Redirect"), ("HTTP-POST", "POST")] {
            out.push_str(&format!(
                "      <{p}SingleLogoutService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:{binding}\" Location=\"https://{host}/idp/profile/SAML2/{path}/SLO\"/>\n"
            ));
        }
        out.push_str(&format!(
            "      <{p}NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</{p}NameIDFormat>\n      <{p}NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:transient</{p}NameIDFormat>\n"
        ));
        for (binding, path) in [
            ("HTTP-Redirect", "Redirect"),
            ("HTTP-POST", "POST"),
            ("HTTP-POST-SimpleSign", "POST-SimpleSign"),
        ] {
            out.push_str(&format!(
                "      <{p}SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:{binding}\" Location=\"https://{host}/idp/profile/SAML2/{path}/SSO\"/>\n"
            ));
        }
    } else {
        key_descriptor(out, p, "signing", i);
        for (index, binding) in ["HTTP-POST", "HTTP-Artifact"].iter().enumerate() {
            out.push_str(&format!(
                "      <{p}AssertionConsumerService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:{binding}\" Location=\"https://{host}/Shibboleth.sso/SAML2/{binding}\" index=\"{index}\"/>\n"
            ));
        }
        out.push_str(&format!(
            "      <{p}AttributeConsumingService index=\"1\">\n        <{p}ServiceName xml:lang=\"en\">Research portal {i}</{p}ServiceName>\n"
        ));
        for (name, friendly) in [
            ("urn:oid:1.3.6.1.4.1.5923.1.1.1.6", "eduPersonPrincipalName"),
            ("urn:oid:0.9.2342.19200300.100.1.3", "mail"),
        ] {
            out.push_str(&format!(
                "        <{p}RequestedAttribute FriendlyName=\"{friendly}\" Name=\"{name}\" NameFormat=\"urn:oasis:names:tc:SAML:2.0:attrname-format:uri\" isRequired=\"true\"/>\n"
            ));
        }
        out.push_str(&format!("      </{p}AttributeConsumingService>\n"));
    }
    out.push_str(&format!(
        concat!(
            "    </{p}{role}>\n",
            "    <{p}Organization>\n",
            "      <{p}OrganizationName xml:lang=\"en\">Example Campus {i}</{p}OrganizationName>\n",
            "      <{p}OrganizationDisplayName xml:lang=\"en\">Example Campus {i}</{p}OrganizationDisplayName>\n",
            "      <{p}OrganizationURL xml:lang=\"en\">https://www.campus-{i}.example.edu/</{p}OrganizationURL>\n",
            "    </{p}Organization>\n",
            "    <{p}ContactPerson contactType=\"technical\">\n",
            "      <{p}GivenName>Identity Team {i}</{p}GivenName>\n",
            "      <{p}EmailAddress>mailto:idm-{i}@campus-{i}.example.edu</{p}EmailAddress>\n",
            "    </{p}ContactPerson>\n",
            "  </{p}EntityDescriptor>",
        ),
        p = p,
        role = role,
        i = i,
    ));
}

/// An unsigned aggregate template of at least `min_bytes`, with a signature template as the
/// root's first child; returns the text and the number of entities.
pub(crate) fn template(min_bytes: usize) -> (String, usize) {
    let mut out = String::with_capacity(min_bytes + 16 * 1024);
    out.push_str(&format!(
        concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
            "<md:EntitiesDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" ",
            "xmlns:mdattr=\"urn:oasis:names:tc:SAML:metadata:attribute\" xmlns:mdrpi=\"urn:oasis:names:tc:SAML:metadata:rpi\" ",
            "xmlns:mdui=\"urn:oasis:names:tc:SAML:metadata:ui\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ",
            "xmlns:shibmd=\"urn:mace:shibboleth:metadata:1.0\" ",
            "ID=\"{id}\" Name=\"https://federation.example.org\" validUntil=\"2099-01-01T00:00:00Z\" cacheDuration=\"PT6H\">\n",
            "<ds:Signature><ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
            "<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/>",
            "<ds:Reference URI=\"#{id}\"><ds:Transforms>",
            "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>",
            "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/></ds:Transforms>",
            "<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><ds:DigestValue/></ds:Reference></ds:SignedInfo>",
            "<ds:SignatureValue/><ds:KeyInfo><ds:X509Data><ds:X509Certificate/></ds:X509Data></ds:KeyInfo></ds:Signature>\n",
            "  <md:Extensions>\n",
            "    <mdrpi:PublicationInfo creationInstant=\"2026-11-22T00:00:00Z\" publisher=\"https://federation.example.org\"/>\n",
            "  </md:Extensions>",
        ),
        id = ROOT_ID,
    ));
    let mut i = 0;
    while out.len() < min_bytes {
        push_entity(&mut out, i);
        i += 1;
    }
    out.push_str("\n</md:EntitiesDescriptor>\n");
    (out, i)
}

/// A fresh temporary directory under the target directory.
pub(crate) fn work_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fedkit-metadata-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the work directory");
    dir
}

/// Writes the signed aggregate of at least `min_bytes` to `dir/aggregate.xml` (signed by the
/// xmlsec1 CLI with the test federation key) and `dir/federation.crt.pem`; returns the path
/// and the number of entities.
pub(crate) fn signed_aggregate(dir: &Path, min_bytes: usize) -> (PathBuf, usize) {
    let (text, entities) = template(min_bytes);
    let unsigned = dir.join("aggregate-template.xml");
    let signed = dir.join("aggregate.xml");
    std::fs::write(&unsigned, text).expect("write the template");
    std::fs::write(dir.join("federation.crt.pem"), FEDERATION_CERT).expect("write the certificate");
    let key = format!("{KEYS}/federation.key.pem,{KEYS}/federation.crt.pem");
    let status = Command::new("xmlsec1")
        .arg("--sign")
        .args(["--privkey-pem", &key])
        .args(ID_ARGS)
        .arg("--output")
        .arg(&signed)
        .arg(&unsigned)
        .status()
        .expect("run xmlsec1 (apt-get install xmlsec1)");
    assert!(status.success(), "xmlsec1 --sign failed");
    std::fs::remove_file(&unsigned).expect("remove the template");
    (signed, entities)
}

/// `xmlsec1 --verify` with the pinned federation certificate, as a subprocess: what a
/// deployment that shells out to xmlsec1 (pysaml2 does) pays per load.
pub(crate) fn xmlsec1_verify(dir: &Path, file: &Path) -> bool {
    Command::new("xmlsec1")
        .arg("--verify")
        .args(["--enabled-key-data", "key-name"])
        .arg("--pubkey-cert-pem")
        .arg(dir.join("federation.crt.pem"))
        .args(ID_ARGS)
        .arg(file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run xmlsec1")
        .success()
}
