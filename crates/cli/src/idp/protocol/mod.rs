//! The SAML side of the test IdP, without I/O: its metadata, reading AuthnRequests and
//! LogoutRequests (HTTP-Redirect and HTTP-POST, signatures checked against the SP
//! certificate), and building signed Responses and LogoutResponses. The server module only
//! moves bytes between HTTP and these functions.
//!
//! By concern: [`request`] takes AuthnRequests (and the LogoutRequest's binding) out of
//! HTTP and checks them, [`response`] builds and signs the Response (with its deliberate
//! faults), [`logout`] reads LogoutRequests and answers them.

mod logout;
mod request;
mod response;
mod sso;
#[cfg(test)]
mod test_support;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use fedkit_xmldsig::SigningKey;

use fedkit_saml::bindings::{escape as xml_escape, percent_decode};

use super::sp::{SpConfig, BINDING_POST, BINDING_REDIRECT};
use super::users::User;

pub(crate) use logout::{logout_request, logout_response, LogoutDelivery, LogoutRequest};
pub(crate) use request::{authn_request, from_post, from_redirect};
pub use response::Fault;
pub(crate) use response::{login_with_fault, ResponseIds};
pub(crate) use sso::respond;

pub(crate) const SAMLP_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub(crate) const SAML_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const DS_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
const MD_NS: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
pub(crate) const NAME_ID_EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
pub(super) const NAME_ID_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";
pub(super) const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";

/// Largest SAML message accepted (decoded, and inflated for the Redirect binding).
pub(crate) const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// Longest RelayState accepted, in bytes. (SAML Bindings §3.4.3 asks SPs for at most 80;
/// real SPs send more, so the IdP is lenient but bounded.)
pub(crate) const MAX_RELAY_STATE_BYTES: usize = 1024;
/// Longest request ID accepted, in bytes.
pub(super) const MAX_ID_BYTES: usize = 256;
/// How long an issued assertion can be used (Conditions and SubjectConfirmationData
/// `NotOnOrAfter`).
pub(crate) const ASSERTION_LIFETIME_SECONDS: i64 = 300;
/// How far `NotBefore` is back-dated, for SPs whose clock is slightly behind.
pub(crate) const NOT_BEFORE_BACKDATE_SECONDS: i64 = 60;

/// Which part of the Response carries the signature: JumpCloud's "Sign" setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[non_exhaustive]
pub enum SignMode {
    /// The Assertion only (JumpCloud: "Assertion").
    Assertion,
    /// The Response only, covering its assertion (JumpCloud: "Response", its default).
    Response,
    /// The Assertion, then the Response over it (JumpCloud: "Assertion and Response").
    Both,
}

/// The test IdP: its names and URLs, the SP it serves, its users and its key.
#[derive(Debug)]
pub(crate) struct Idp {
    /// `http://host:port`, no trailing slash.
    pub(crate) base_url: String,
    /// The path segment after `/saml2/`.
    pub(crate) app: String,
    /// The IdP entity ID (JumpCloud: "IdP Entity ID").
    pub(crate) entity_id: String,
    pub(crate) sp: SpConfig,
    pub(crate) users: Vec<User>,
    pub(crate) sign: SignMode,
    pub(crate) key: SigningKey,
    pub(crate) certificate_der: Vec<u8>,
}

/// Why the IdP refused a request: a stable code and a message for the developer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused {
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

pub(super) fn refused(code: &'static str, message: impl Into<String>) -> Refused {
    Refused {
        code,
        message: message.into(),
    }
}

/// The `name=value` pairs of a query string or urlencoded form, still encoded. A name given
/// twice is refused (which one would count?).
pub(crate) fn split_pairs(query: &str) -> Result<Vec<(&str, &str)>, Refused> {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if pairs.iter().any(|(n, _)| *n == name) {
            return Err(refused(
                "duplicate_parameter",
                format!("the parameter {:?} appears twice", percent_decode(name)),
            ));
        }
        pairs.push((name, value));
    }
    Ok(pairs)
}

/// The decoded value of `name` among `pairs`.
pub(crate) fn field(pairs: &[(&str, &str)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| percent_decode(v))
}

pub(super) fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `_` and 40 hex digits from 20 random bytes (fedkit-saml's message IDs).
pub(crate) use fedkit_saml::request::message_id as id_from;

/// [`ID_RANDOM_BYTES`](fedkit_saml::request::ID_RANDOM_BYTES) bytes from the operating
/// system's CSPRNG.
pub(crate) fn random_bytes() -> [u8; fedkit_saml::request::ID_RANDOM_BYTES] {
    use rand_core::RngCore as _;
    let mut bytes = [0u8; fedkit_saml::request::ID_RANDOM_BYTES];
    rand_core::OsRng.fill_bytes(&mut bytes);
    bytes
}

impl Idp {
    /// The SSO URL (JumpCloud: "IDP URL"), for both bindings.
    pub(crate) fn sso_url(&self) -> String {
        format!("{}{}", self.base_url, self.sso_path())
    }

    /// The path of the SSO URL.
    pub(crate) fn sso_path(&self) -> String {
        format!("/saml2/{}", self.app)
    }

    /// The Single Logout URL, for both bindings.
    pub(crate) fn slo_url(&self) -> String {
        format!("{}{}/slo", self.base_url, self.sso_path())
    }

    /// Where the login page's buttons post (a path, so the page works under any host name).
    pub(crate) fn login_path(&self) -> String {
        format!("{}/login", self.sso_path())
    }

    /// The metadata URL.
    pub(crate) fn metadata_url(&self) -> String {
        format!("{}/metadata", self.base_url)
    }

    /// The IdP metadata document, shaped like JumpCloud's "Export Metadata": entity ID, the
    /// signing certificate, SLO and SSO endpoints for HTTP-Redirect and HTTP-POST, and the
    /// emailAddress NameID format.
    pub(crate) fn metadata_xml(&self) -> String {
        let certificate = base64::engine::general_purpose::STANDARD.encode(&self.certificate_der);
        let sso = xml_escape(&self.sso_url());
        let slo = xml_escape(&self.slo_url());
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <md:EntityDescriptor xmlns:md=\"{MD_NS}\" entityID=\"{}\">\n\
             \x20 <md:IDPSSODescriptor WantAuthnRequestsSigned=\"false\" protocolSupportEnumeration=\"{SAMLP_NS}\">\n\
             \x20   <md:KeyDescriptor use=\"signing\"><ds:KeyInfo xmlns:ds=\"{DS_NS}\"><ds:X509Data>\
             <ds:X509Certificate>{certificate}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>\n\
             \x20   <md:SingleLogoutService Binding=\"{BINDING_REDIRECT}\" Location=\"{slo}\"/>\n\
             \x20   <md:SingleLogoutService Binding=\"{BINDING_POST}\" Location=\"{slo}\"/>\n\
             \x20   <md:NameIDFormat>{NAME_ID_EMAIL}</md:NameIDFormat>\n\
             \x20   <md:SingleSignOnService Binding=\"{BINDING_REDIRECT}\" Location=\"{sso}\"/>\n\
             \x20   <md:SingleSignOnService Binding=\"{BINDING_POST}\" Location=\"{sso}\"/>\n\
             \x20 </md:IDPSSODescriptor>\n\
             </md:EntityDescriptor>\n",
            xml_escape(&self.entity_id),
        )
    }

    /// The user with this email (exact match), if listed.
    pub(crate) fn user(&self, email: &str) -> Option<&User> {
        self.users.iter().find(|u| u.email == email)
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    #[test]
    fn the_metadata_imports_with_fedkit_metadata() {
        use fedkit_metadata::{Binding, IdpMetadata, ImportSettings, SignaturePolicy};
        let idp = idp(SignMode::Response, None, None);
        let options = ImportSettings::new(SignaturePolicy::NotRequired).dangerous_allow_http_endpoints();
        let imported = IdpMetadata::from_xml(idp.metadata_xml().as_bytes(), &options, now());
        let Ok(imported) = imported else {
            unreachable!("{imported:?}")
        };
        assert_eq!(imported.entity_id(), idp.entity_id);
        assert_eq!(
            imported
                .sso_endpoint(&Binding::HttpRedirect)
                .map(|e| e.location.clone()),
            Some(idp.sso_url())
        );
        assert_eq!(
            imported
                .sso_endpoint(&Binding::HttpPost)
                .map(|e| e.location.clone()),
            Some(idp.sso_url())
        );
        assert_eq!(imported.slo().len(), 2);
        assert_eq!(imported.name_id_formats(), &[NAME_ID_EMAIL.to_owned()]);
        assert_eq!(
            imported
                .signing_certificates()
                .map(|c| c.der().to_vec())
                .collect::<Vec<_>>(),
            vec![idp.certificate_der.clone()]
        );
    }

    #[test]
    fn pairs_skip_empty_parts_and_keep_values_encoded() {
        let pairs = split_pairs("a=1&&b=&c").unwrap_or_default();
        assert_eq!(pairs, vec![("a", "1"), ("b", ""), ("c", "")]);
    }
}
