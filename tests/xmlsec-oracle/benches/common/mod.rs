//! Fixtures shared by the benchmarks and the `peak_memory` example: the example IdP key pair,
//! a JumpCloud-like SAML Response, a deterministic metadata aggregate of any size, signing
//! with libxmlsec1 (the `xmlsec` crate), libxmlsec1 verification with a pinned key, and
//! fedkit's exclusive c14n streamed into a digest.
//!
//! Every document is generated deterministically: the same size gives the same bytes, so
//! runs on different machines measure the same input.

// Each bench and the example use a different part of this module.
#![allow(dead_code)]

use base64::Engine as _;
use fedkit_xmldsig::c14n::{self, Algorithm, Method, Sink, SubtreeOptions};
use fedkit_xmldsig::crypto::{CryptoProvider, Hasher};
use fedkit_xmldsig::{is_signature, DigestAlgorithm, Document, Limits};
use libxml::parser::{Parser, ParserOptions};
use libxml::tree::Document as XmlDocument;
use libxml::xpath::Context;
use xmlsec::{XmlSecDocumentExt, XmlSecKey, XmlSecKeyFormat, XmlSecSignatureContext};

/// The example IdP's private key (examples/data/generate.sh); for tests and benchmarks only.
pub(crate) const IDP_KEY_PEM: &str = include_str!("../../../../examples/data/idp-key.pem");
/// The example IdP's certificate: the pinned key on both sides.
pub(crate) const IDP_CERT_PEM: &str = include_str!("../../../../examples/data/idp-cert.pem");

pub(crate) const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
pub(crate) const SAMLP_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub(crate) const MD_NS: &str = "urn:oasis:names:tc:SAML:2.0:metadata";

/// The signed document's root element, as libxmlsec1 needs it to register the `ID` attribute
/// (`xmlsec1 --id-attr:ID`); fedkit needs no registration.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Root {
    pub(crate) ns: &'static str,
    pub(crate) local: &'static str,
}

pub(crate) const RESPONSE_ROOT: Root = Root {
    ns: SAMLP_NS,
    local: "Response",
};
pub(crate) const METADATA_ROOT: Root = Root {
    ns: MD_NS,
    local: "EntitiesDescriptor",
};

impl Root {
    /// An XPath selecting only the document element (no `//` scan of the whole tree).
    fn xpath(self) -> String {
        format!("/r:{}", self.local)
    }
}

/// The certificate's base64 body, with the PEM line breaks.
fn cert_base64() -> String {
    IDP_CERT_PEM
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// An enveloped RSA-SHA256 signature template over `#id` with exclusive c14n, as SAML IdPs
/// and federation operators produce; DigestValue and SignatureValue are empty placeholders.
fn signature_template(id: &str) -> String {
    format!(
        concat!(
            r#"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>"#,
            r#"<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#,
            r#"<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>"#,
            r##"<ds:Reference URI="#{id}"><ds:Transforms>"##,
            r#"<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>"#,
            r#"<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>"#,
            r#"<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>"#,
            r#"<ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo>"#,
            r#"<ds:SignatureValue></ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>"#,
            "{cert}",
            r#"</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>"#,
        ),
        id = id,
        cert = cert_base64(),
    )
}

/// A SAML Response as JumpCloud sends it: `saml2p`/`saml2` prefixes, the Response signed
/// (enveloped, exclusive c14n, RSA-SHA256, the certificate in KeyInfo), one Assertion with
/// 15 attributes (17 values) typed `xsi:type="xs:string"`, `xs`/`xsi` declared on the
/// Assertion (so exclusive c14n must render `xsi` on every value). About 7.2 KB once signed.
pub(crate) fn saml_response_template() -> String {
    const ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
    let attributes: [(&str, &[&str]); 15] = [
        ("email", &["jane.doe@example.com"]),
        ("firstname", &["Jane"]),
        ("lastname", &["Doe"]),
        ("username", &["jane.doe"]),
        ("displayname", &["Jane Doe"]),
        ("employeeIdentifier", &["E-004217"]),
        ("employeeType", &["Full-time"]),
        ("department", &["Platform Engineering"]),
        ("company", &["Example Corp"]),
        ("jobTitle", &["Site Reliability Engineer"]),
        ("costCenter", &["CC-1234"]),
        ("location", &["Berlin"]),
        ("manager", &["john.smith@example.com"]),
        ("phoneNumber", &["+49 30 1234567"]),
        ("memberOf", &["engineering", "sre-oncall", "vpn-users"]),
    ];
    let mut attrs = String::new();
    for (name, values) in attributes {
        attrs.push_str(&format!(
            r#"<saml2:Attribute Name="{name}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified">"#
        ));
        for v in values {
            attrs.push_str(&format!(
                r#"<saml2:AttributeValue xsi:type="xs:string">{v}</saml2:AttributeValue>"#,
                v = v
            ));
        }
        attrs.push_str("</saml2:Attribute>");
    }
    let id = "_9f2c1d7e4b6a8c0e2f4a6b8d0c2e4f6a";
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<saml2p:Response xmlns:saml2p="{samlp}" Destination="https://app.example.com/saml/acs" "#,
            r#"ID="{id}" InResponseTo="_req-7c3f9a2b5d" IssueInstant="2026-11-22T10:00:00.123Z" Version="2.0">"#,
            r#"<saml2:Issuer xmlns:saml2="{saml}">JumpCloud</saml2:Issuer>"#,
            "{signature}",
            r#"<saml2p:Status><saml2p:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></saml2p:Status>"#,
            r#"<saml2:Assertion xmlns:saml2="{saml}" xmlns:xs="http://www.w3.org/2001/XMLSchema" "#,
            r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="_4e8a2c6f0b1d3e5a7c9e1f3b5d7a9c1e" "#,
            r#"IssueInstant="2026-11-22T10:00:00.123Z" Version="2.0">"#,
            "<saml2:Issuer>JumpCloud</saml2:Issuer><saml2:Subject>",
            r#"<saml2:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">jane.doe@example.com</saml2:NameID>"#,
            r#"<saml2:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">"#,
            r#"<saml2:SubjectConfirmationData InResponseTo="_req-7c3f9a2b5d" NotOnOrAfter="2026-11-22T10:05:00.123Z" "#,
            r#"Recipient="https://app.example.com/saml/acs"/></saml2:SubjectConfirmation></saml2:Subject>"#,
            r#"<saml2:Conditions NotBefore="2026-11-22T09:55:00.123Z" NotOnOrAfter="2026-11-22T10:05:00.123Z">"#,
            "<saml2:AudienceRestriction><saml2:Audience>https://app.example.com</saml2:Audience>",
            "</saml2:AudienceRestriction></saml2:Conditions>",
            r#"<saml2:AuthnStatement AuthnInstant="2026-11-22T10:00:00.123Z" SessionIndex="_b7e1c3a5d9f2e4c6a8b0d2f4e6a8c0b2">"#,
            "<saml2:AuthnContext><saml2:AuthnContextClassRef>",
            "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified",
            "</saml2:AuthnContextClassRef></saml2:AuthnContext></saml2:AuthnStatement>",
            "<saml2:AttributeStatement>{attrs}</saml2:AttributeStatement>",
            "</saml2:Assertion></saml2p:Response>",
        ),
        samlp = SAMLP_NS,
        saml = ASSERTION,
        id = id,
        signature = signature_template(id),
        attrs = attrs,
    )
}

/// xorshift64*: deterministic filler without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next() >> 56) as u8).collect()
    }
}

/// A base64 blob wrapped at 64 columns like a PEM body (a pseudo-certificate).
fn wrapped_base64(rng: &mut Rng, n: usize, indent: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(rng.bytes(n));
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 * (indent.len() + 1));
    for (i, chunk) in b64.as_bytes().chunks(64).enumerate() {
        if i > 0 {
            out.push('\n');
            out.push_str(indent);
        }
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
    }
    out
}

/// One entity. Two in three use the `md:` prefix declared on the aggregate; every third
/// declares the metadata namespace as its default namespace and its own `ds` prefix, as many
/// entities in real aggregates do. IdPs and SPs alternate.
fn push_entity(out: &mut String, i: usize, rng: &mut Rng) {
    let default_ns = i % 3 == 2;
    let p = if default_ns { "" } else { "md:" };
    let decl = if default_ns {
        r#" xmlns="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#""#
    } else {
        ""
    };
    let idp = i.is_multiple_of(2);
    let host = if idp {
        format!("idp.university-{i}.example.org")
    } else {
        format!("sp{i}.research.example.net")
    };
    let entity_id = if idp {
        format!("https://{host}/idp/shibboleth")
    } else {
        format!("https://{host}/shibboleth")
    };
    let cert = wrapped_base64(rng, 830, "              ");
    out.push_str(&format!(
        concat!(
            "\n  <{p}EntityDescriptor{decl} entityID=\"{entity_id}\">\n",
            "    <{p}Extensions>\n",
            "      <mdrpi:RegistrationInfo registrationAuthority=\"https://federation.example.org\" ",
            "registrationInstant=\"2019-0{month}-1{day}T08:30:00Z\">\n",
            "        <mdrpi:RegistrationPolicy xml:lang=\"en\">https://federation.example.org/policy</mdrpi:RegistrationPolicy>\n",
            "      </mdrpi:RegistrationInfo>\n",
            "      <mdattr:EntityAttributes>\n",
            "        <saml:Attribute Name=\"http://macedir.org/entity-category\" ",
            "NameFormat=\"urn:oasis:names:tc:SAML:2.0:attrname-format:uri\">\n",
            "          <saml:AttributeValue>http://refeds.org/category/research-and-scholarship</saml:AttributeValue>\n",
            "        </saml:Attribute>\n",
            "      </mdattr:EntityAttributes>\n",
            "    </{p}Extensions>\n",
        ),
        p = p,
        decl = decl,
        entity_id = entity_id,
        month = 1 + i % 9,
        day = i % 10,
    ));
    let role = if idp {
        "IDPSSODescriptor"
    } else {
        "SPSSODescriptor"
    };
    out.push_str(&format!(
        concat!(
            "    <{p}{role} protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\n",
            "      <{p}Extensions>\n",
        ),
        p = p,
        role = role,
    ));
    if idp {
        out.push_str(&format!(
            "        <shibmd:Scope regexp=\"false\">university-{i}.example.org</shibmd:Scope>\n"
        ));
    }
    out.push_str(&format!(
        concat!(
            "        <mdui:UIInfo>\n",
            "          <mdui:DisplayName xml:lang=\"en\">Example University {i}</mdui:DisplayName>\n",
            "          <mdui:DisplayName xml:lang=\"de\">Beispiel-Universität {i}</mdui:DisplayName>\n",
            "          <mdui:Description xml:lang=\"en\">Research &amp; teaching services of university #{i} ",
            "(\"{host}\") &lt;federated&gt;</mdui:Description>\n",
            "          <mdui:Logo height=\"60\" width=\"80\">https://{host}/logo.png?size=80x60&amp;v={i}</mdui:Logo>\n",
            "        </mdui:UIInfo>\n",
            "      </{p}Extensions>\n",
            "      <{p}KeyDescriptor use=\"signing\">\n",
            "        <ds:KeyInfo>\n",
            "          <ds:X509Data>\n",
            "            <ds:X509Certificate>\n",
            "              {cert}\n",
            "            </ds:X509Certificate>\n",
            "          </ds:X509Data>\n",
            "        </ds:KeyInfo>\n",
            "      </{p}KeyDescriptor>\n",
            "      <{p}NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</{p}NameIDFormat>\n",
        ),
        p = p,
        i = i,
        host = host,
        cert = cert,
    ));
    if idp {
        for binding in ["HTTP-Redirect", "HTTP-POST"] {
            out.push_str(&format!(
                "      <{p}SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:{binding}\" \
                 Location=\"https://{host}/idp/profile/SAML2/{binding}/SSO\"/>\n"
            ));
        }
    } else {
        for (index, binding) in ["HTTP-POST", "HTTP-Artifact"].iter().enumerate() {
            out.push_str(&format!(
                "      <{p}AssertionConsumerService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:{binding}\" \
                 Location=\"https://{host}/Shibboleth.sso/SAML2/{binding}\" index=\"{index}\"/>\n"
            ));
        }
    }
    out.push_str(&format!(
        concat!(
            "    </{p}{role}>\n",
            "    <{p}Organization>\n",
            "      <{p}OrganizationName xml:lang=\"en\">Example University {i}</{p}OrganizationName>\n",
            "      <{p}OrganizationDisplayName xml:lang=\"en\">Example University {i}</{p}OrganizationDisplayName>\n",
            "      <{p}OrganizationURL xml:lang=\"en\">https://www.university-{i}.example.org/</{p}OrganizationURL>\n",
            "    </{p}Organization>\n",
            "    <{p}ContactPerson contactType=\"technical\">\n",
            "      <{p}GivenName>Identity Team {i}</{p}GivenName>\n",
            "      <{p}EmailAddress>mailto:idm-{i}@university-{i}.example.org</{p}EmailAddress>\n",
            "    </{p}ContactPerson>\n",
            "  </{p}EntityDescriptor>",
        ),
        p = p,
        role = role,
        i = i,
    ));
}

/// A signed-metadata template of at least `min_bytes`: an `md:EntitiesDescriptor` with a root
/// `ID`, a signature template as its first child (where SAML metadata puts it), then
/// `EntityDescriptor`s (about 4 KB each) with namespaces, attributes, escaped and non-ASCII
/// text, indentation whitespace and pseudo-certificates.
pub(crate) fn metadata_template(min_bytes: usize) -> String {
    let id = "_fedkit-bench-aggregate-20261122";
    let mut out = String::with_capacity(min_bytes + 8 * 1024);
    out.push_str(&format!(
        concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
            "<md:EntitiesDescriptor xmlns:md=\"{md}\" xmlns:ds=\"{ds}\" ",
            "xmlns:mdattr=\"urn:oasis:names:tc:SAML:metadata:attribute\" ",
            "xmlns:mdrpi=\"urn:oasis:names:tc:SAML:metadata:rpi\" ",
            "xmlns:mdui=\"urn:oasis:names:tc:SAML:metadata:ui\" ",
            "xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ",
            "xmlns:shibmd=\"urn:mace:shibboleth:metadata:1.0\" ",
            "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" ",
            "ID=\"{id}\" Name=\"https://federation.example.org\" validUntil=\"2026-12-06T00:00:00Z\">",
            "{signature}\n",
            "  <md:Extensions>\n",
            "    <mdrpi:PublicationInfo creationInstant=\"2026-11-22T00:00:00Z\" ",
            "publisher=\"https://federation.example.org\"/>\n",
            "  </md:Extensions>",
        ),
        md = MD_NS,
        ds = DSIG_NS,
        id = id,
        signature = signature_template(id),
    ));
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut i = 0;
    while out.len() < min_bytes {
        push_entity(&mut out, i, &mut rng);
        i += 1;
    }
    out.push_str("\n</md:EntitiesDescriptor>\n");
    out
}

/// libxml2 as a hardened relying party would configure it: strict, no network.
pub(crate) fn parse_libxml(xml: &[u8]) -> XmlDocument {
    let options = ParserOptions {
        recover: false,
        no_net: true,
        ..ParserOptions::default()
    };
    Parser::default()
        .parse_string_with_options(xml, options)
        .expect("libxml2 parses the document")
}

fn register_root_id(doc: &XmlDocument, root: Root) {
    doc.specify_idattr(&root.xpath(), "ID", Some(&[("r", root.ns)]))
        .expect("libxml2 registers the root ID");
}

fn replace_first_empty(text: &mut String, element: &str, value: &str) {
    let empty = format!("<ds:{element}></ds:{element}>");
    let at = text.find(&empty).expect("template placeholder");
    text.replace_range(
        at..at + empty.len(),
        &format!("<ds:{element}>{value}</ds:{element}>"),
    );
}

/// Signs `template` with libxmlsec1 and the example IdP key, and returns the template text
/// with DigestValue and SignatureValue filled in (the rest byte for byte as generated).
pub(crate) fn sign_with_libxmlsec1(template: &str, root: Root) -> String {
    let (digest, value) = {
        let doc = parse_libxml(template.as_bytes());
        register_root_id(&doc, root);
        let key = XmlSecKey::from_memory(IDP_KEY_PEM.as_bytes(), XmlSecKeyFormat::Pem, None)
            .expect("libxmlsec1 loads the private key");
        let mut ctx = XmlSecSignatureContext::new();
        ctx.insert_key(key);
        ctx.sign_document(&doc).expect("libxmlsec1 signs the document");
        let xpath = Context::new(&doc).expect("libxml2 XPath context");
        xpath.register_namespace("ds", DSIG_NS).expect("ds prefix");
        let content = |path: &str| -> String {
            let nodes = xpath.evaluate(path).expect("XPath").get_nodes_as_vec();
            assert_eq!(nodes.len(), 1, "{path}");
            nodes[0].get_content()
        };
        (
            content("/*/ds:Signature/ds:SignedInfo/ds:Reference/ds:DigestValue"),
            content("/*/ds:Signature/ds:SignatureValue"),
        )
    };
    let mut out = template.to_owned();
    replace_first_empty(&mut out, "DigestValue", &digest);
    replace_first_empty(&mut out, "SignatureValue", &value);
    out
}

/// libxmlsec1 verifying with a pinned public key (the certificate), as an SP does: the key
/// is set on the context, which has no keys manager, so KeyInfo is never trusted.
pub(crate) struct LibXmlSec1 {
    key: XmlSecKey,
    root: Root,
    xpath: String,
}

impl LibXmlSec1 {
    pub(crate) fn new(root: Root) -> Self {
        let key = XmlSecKey::from_memory(IDP_CERT_PEM.as_bytes(), XmlSecKeyFormat::CertPem, None)
            .expect("libxmlsec1 loads the certificate");
        Self {
            key,
            root,
            xpath: root.xpath(),
        }
    }

    /// Parses `xml` with libxml2, registers the root `ID`, and verifies the signature
    /// (reference digest over the exclusive canonical form, then RSA): `true` if valid.
    pub(crate) fn parse_and_verify(&self, xml: &[u8]) -> bool {
        let doc = parse_libxml(xml);
        doc.specify_idattr(&self.xpath, "ID", Some(&[("r", self.root.ns)]))
            .expect("libxml2 registers the root ID");
        let mut ctx = XmlSecSignatureContext::new();
        ctx.insert_key(self.key.clone());
        ctx.verify_document(&doc)
            .expect("libxmlsec1 processes the signature")
    }
}

/// Buffers canonical bytes so the hash sees 64 KiB blocks (as the library's verifier does).
pub(crate) struct DigestSink {
    hasher: Box<dyn Hasher>,
    buf: Vec<u8>,
}

impl DigestSink {
    const CAPACITY: usize = 64 * 1024;

    pub(crate) fn new(provider: &dyn CryptoProvider) -> Self {
        Self {
            hasher: provider.hasher(DigestAlgorithm::Sha256),
            buf: Vec::with_capacity(Self::CAPACITY),
        }
    }

    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.hasher.update(&self.buf);
        self.hasher.finish()
    }
}

impl Sink for DigestSink {
    fn write(&mut self, bytes: &[u8]) {
        if self.buf.len() + bytes.len() > Self::CAPACITY {
            self.hasher.update(&self.buf);
            self.buf.clear();
            if bytes.len() >= Self::CAPACITY {
                self.hasher.update(bytes);
                return;
            }
        }
        self.buf.extend_from_slice(bytes);
    }
}

/// fedkit: parse, then the exclusive canonical form of the root subtree without its
/// enveloped signature (exactly what the reference digest covers), streamed into SHA-256.
pub(crate) fn fedkit_c14n_sha256(xml: &str, provider: &dyn CryptoProvider) -> Vec<u8> {
    let doc = Document::parse_with_limits(xml, &Limits::large_documents()).expect("fedkit parses");
    let root = doc.root_element();
    let options = SubtreeOptions::default()
        .excluding(root.children().find(|n| is_signature(*n)).map(|n| n.id()))
        .without_comments();
    let mut sink = DigestSink::new(provider);
    c14n::canonicalize_subtree(root, &Method::new(Algorithm::Exclusive), options, &mut sink)
        .expect("fedkit canonicalizes");
    sink.finish()
}

/// The DigestValue of the (first) signature in a signed document, decoded.
pub(crate) fn digest_value(signed: &str) -> Vec<u8> {
    let start = signed.find("<ds:DigestValue>").expect("DigestValue") + "<ds:DigestValue>".len();
    let end = start + signed[start..].find('<').expect("end of DigestValue");
    base64::engine::general_purpose::STANDARD
        .decode(&signed[start..end])
        .expect("base64 DigestValue")
}
