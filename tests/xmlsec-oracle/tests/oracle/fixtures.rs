//! Documents signed at test time by libxmlsec1: a SAML-like Response and Assertion whose
//! content exercises canonicalization, with signature templates varying the algorithms.

use fedkit_xmldsig::c14n::Algorithm;
use fedkit_xmldsig::{DigestAlgorithm, SignatureAlgorithm};

use super::libxmlsec::{self, SAML_IDS};

/// Test-only key pairs, made once with `openssl req -x509 -newkey rsa:2048` (see
/// `crates/xmldsig/tests/data/oracle/README.md`).
pub(crate) const KEY_A: &str = include_str!("../../../../crates/xmldsig/tests/data/oracle/key-a.pem");
pub(crate) const CERT_A: &str = include_str!("../../../../crates/xmldsig/tests/data/oracle/cert-a.pem");
pub(crate) const PUBKEY_A: &str = include_str!("../../../../crates/xmldsig/tests/data/oracle/pubkey-a.pem");
pub(crate) const KEY_B: &str = include_str!("../../../../crates/xmldsig/tests/data/oracle/key-b.pem");
pub(crate) const CERT_B: &str = include_str!("../../../../crates/xmldsig/tests/data/oracle/cert-b.pem");
pub(crate) const KEY_EC256: &str = include_str!("../../../../crates/xmldsig/tests/data/oracle/key-ec256.pem");
pub(crate) const CERT_EC256: &str =
    include_str!("../../../../crates/xmldsig/tests/data/oracle/cert-ec256.pem");
pub(crate) const KEY_EC384: &str = include_str!("../../../../crates/xmldsig/tests/data/oracle/key-ec384.pem");
pub(crate) const CERT_EC384: &str =
    include_str!("../../../../crates/xmldsig/tests/data/oracle/cert-ec384.pem");

pub(crate) const RESPONSE_ID: &str = "_resp-oracle";
pub(crate) const ASSERTION_ID: &str = "_assert-oracle";

/// Which elements carry an enveloped signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Placement {
    /// The Response only (its digest covers the unsigned Assertion).
    Response,
    /// The Assertion only.
    Assertion,
    /// Both: the Response digest covers the signed Assertion, signature included.
    Both,
}

impl Placement {
    pub(crate) const ALL: [Placement; 3] = [Placement::Response, Placement::Assertion, Placement::Both];

    pub(crate) fn response(self) -> bool {
        matches!(self, Placement::Response | Placement::Both)
    }

    pub(crate) fn assertion(self) -> bool {
        matches!(self, Placement::Assertion | Placement::Both)
    }
}

/// The knobs of one signature template.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Variant {
    pub(crate) signature: SignatureAlgorithm,
    pub(crate) digest: DigestAlgorithm,
    /// `SignedInfo/CanonicalizationMethod`.
    pub(crate) signed_info_c14n: Algorithm,
    /// The c14n transform after enveloped-signature; `None`: no c14n transform (the
    /// reference then defaults to Canonical XML 1.0 without comments).
    pub(crate) reference_c14n: Option<Algorithm>,
    /// `ec:InclusiveNamespaces PrefixList` on an exclusive c14n transform.
    pub(crate) prefix_list: Option<&'static str>,
    pub(crate) placement: Placement,
}

/// The base64 body of a PEM block, one line per PEM line.
fn pem_body(pem: &str) -> String {
    pem.lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn signature_template(v: &Variant, id: &str, keyinfo_cert: Option<&str>) -> String {
    let reference_c14n = match v.reference_c14n {
        None => String::new(),
        Some(alg) => match v.prefix_list {
            Some(list) => {
                assert!(alg.is_exclusive(), "a PrefixList needs exclusive c14n");
                format!(
                    "\n          <ds:Transform Algorithm=\"{}\"><ec:InclusiveNamespaces \
                     xmlns:ec=\"http://www.w3.org/2001/10/xml-exc-c14n#\" PrefixList=\"{list}\"/></ds:Transform>",
                    alg.uri()
                )
            }
            None => format!("\n          <ds:Transform Algorithm=\"{}\"/>", alg.uri()),
        },
    };
    let keyinfo = keyinfo_cert
        .map(|pem| {
            format!(
                "\n    <ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>",
                pem_body(pem)
            )
        })
        .unwrap_or_default();
    // Whitespace and a comment inside SignedInfo are part of what is signed (the comment only
    // under a WithComments algorithm); the comment in Signature is outside SignedInfo.
    format!(
        r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
    <ds:SignedInfo>
      <ds:CanonicalizationMethod Algorithm="{si_c14n}"/>
      <!-- SignedInfo comment: signed only under a WithComments algorithm -->
      <ds:SignatureMethod Algorithm="{sig}"/>
      <ds:Reference URI="#{id}">
        <ds:Transforms>
          <ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>{reference_c14n}
        </ds:Transforms>
        <ds:DigestMethod Algorithm="{digest}"/>
        <ds:DigestValue></ds:DigestValue>
      </ds:Reference>
    </ds:SignedInfo>
    <!-- not signed -->
    <ds:SignatureValue></ds:SignatureValue>{keyinfo}
  </ds:Signature>"##,
        si_c14n = v.signed_info_c14n.uri(),
        sig = v.signature.uri(),
        digest = v.digest.uri(),
    )
}

/// The Response/Assertion, with `response_signature` / `assertion_signature` spliced in as
/// the enveloped signatures. The content exercises canonicalization: comments inside signed
/// text, the predefined entities, character references (`&#13;`, `&#9;`, `&#10;`) in text
/// and attribute values, literal tabs/newlines in attribute values and CRLF in text (both
/// normalized by the parser), CDATA (including an escaped `]]>`), a processing instruction,
/// namespaces declared on the root and used deep inside (and as QName content: `xs:string`),
/// unused and duplicate namespace declarations, default-namespace redeclaration and
/// `xmlns=""`, attributes in several namespaces whose prefix order differs from their URI
/// order, non-ASCII text (2-, 3- and 4-byte UTF-8), `xml:lang` on the root (inherited by an
/// inclusively canonicalized Assertion) and `xml:space`.
pub(crate) fn content(response_signature: &str, assertion_signature: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<!-- generated by tests/xmlsec-oracle/tests/oracle/fixtures.rs -->\n\
<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\"\n    \
xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"\n    \
xmlns:ext=\"urn:example:ext\" xmlns:unused=\"urn:example:unused\" xmlns=\"urn:example:default-outer\"\n    \
xml:lang=\"fr-CA\" ID=\"{RESPONSE_ID}\" Version=\"2.0\" IssueInstant=\"2026-11-22T10:00:00Z\"\n    \
Destination=\"https://sp.example.com/acs?a=1&amp;b=2\" >\n  \
<saml:Issuer>https://idp.example.com/saml</saml:Issuer>\n  \
{response_signature}\n  \
<samlp:Status><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/></samlp:Status>\n  \
<saml:Assertion ID='{ASSERTION_ID}' Version='2.0' IssueInstant='2026-11-22T10:00:00Z'>\n    \
<saml:Issuer>https://idp.example.com/saml</saml:Issuer>\n    \
{assertion_signature}\n    \
<saml:Subject>\n      \
<saml:NameID Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\">jane.doe<!-- comment inside the NameID -->@example.com</saml:NameID>\n    \
</saml:Subject>\n    \
<?app-instruction keep=\"me\"?>\n    \
<saml:AttributeStatement>\n      \
<saml:Attribute Name=\"entities\" z:b=\"in urn:example:a\" a:b=\"in urn:example:z\" xmlns:z=\"urn:example:a\" \
xmlns:a=\"urn:example:z\" b=\"2\" a=\"1\">\n        \
<saml:AttributeValue xsi:type=\"xs:string\">AT&amp;T &lt;tag&gt; \"double\" 'single' &#13;cr &#9;tab &#x41;&#66; ]]&gt; &#x1F600;</saml:AttributeValue>\n        \
<saml:AttributeValue><![CDATA[<b>bold</b> & \"quoted\" ]]]]><![CDATA[>]]></saml:AttributeValue>\n        \
<saml:AttributeValue note=\"tab&#9;cr&#13;lf&#10;literal\ttab and\nnewline\" \
other='single \"quotes\" &amp; &lt; &gt;'>Gr\u{fc}\u{df}e aus K\u{f6}ln \u{2014} \u{65e5}\u{672c}\u{8a9e} \u{1f389}</saml:AttributeValue>\n        \
<saml:AttributeValue xmlns=\"urn:example:default\"><inner xmlns=\"\"><deep xmlns=\"urn:example:other\"><deeper/></deep></inner></saml:AttributeValue>\n        \
<saml:AttributeValue><ext:Data ext:attr=\"1\" xml:space=\"preserve\">  spaced  <ext:Child xmlns:ext=\"urn:example:ext\"/>\r\nline\rend</ext:Data></saml:AttributeValue>\n        \
<saml:AttributeValue xmlns:unused2=\"urn:example:unused2\"><empty></empty><selfclosed   /></saml:AttributeValue>\n      \
</saml:Attribute>\n    \
</saml:AttributeStatement>\n  \
</saml:Assertion>\n\
</samlp:Response>\n\
<!-- trailing comment -->\n"
    )
}

/// The unsigned template of `v`: signature templates in the placed elements; the Response
/// signature (if any) carries `keyinfo_cert` in KeyInfo.
pub(crate) fn template(v: &Variant, keyinfo_cert: Option<&str>) -> String {
    let response = if v.placement.response() {
        signature_template(v, RESPONSE_ID, keyinfo_cert)
    } else {
        String::new()
    };
    let assertion = if v.placement.assertion() {
        signature_template(v, ASSERTION_ID, None)
    } else {
        String::new()
    };
    content(&response, &assertion)
}

/// `v` signed by libxmlsec1 with `key_pem`, KeyInfo carrying `cert_pem`.
pub(crate) fn signed(v: &Variant, key_pem: &str, cert_pem: &str) -> String {
    libxmlsec::sign(&template(v, Some(cert_pem)), key_pem, SAML_IDS)
}

/// Digest algorithms, in the order variants cycle through them.
pub(crate) const DIGESTS: [DigestAlgorithm; 3] = [
    DigestAlgorithm::Sha256,
    DigestAlgorithm::Sha384,
    DigestAlgorithm::Sha512,
];
