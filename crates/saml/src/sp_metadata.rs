//! SP metadata: the XML an admin gives the IdP (CRA Evidence's "SP metadata URL"), or
//! copies field by field into its console.

use base64::Engine as _;
use fedkit_xmldsig::{KeyError, TrustedKey};

use crate::bindings::escape as xml_escape;
use crate::config::ServiceProvider;

/// NameID format: email address.
pub const NAME_ID_EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";

/// Builds an `md:EntityDescriptor` for this SP.
///
/// ```
/// use fedkit_saml::{sp_metadata::{SpMetadata, NAME_ID_EMAIL}, ServiceProvider};
/// let sp = ServiceProvider::new("https://app.example.com/saml/metadata", ["https://app.example.com/saml/acs"])?;
/// let xml = SpMetadata::new(&sp)
///     .name_id_format(NAME_ID_EMAIL)
///     .single_logout("https://app.example.com/saml/slo")
///     .to_xml();
/// assert!(xml.contains(r#"entityID="https://app.example.com/saml/metadata""#));
/// assert!(xml.contains(r#"WantAssertionsSigned="true""#));
/// # Ok::<(), fedkit_saml::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct SpMetadata {
    entity_id: String,
    acs_urls: Vec<String>,
    slo_url: Option<String>,
    name_id_formats: Vec<String>,
    signing_certificates: Vec<Vec<u8>>,
    encryption_certificates: Vec<Vec<u8>>,
    authn_requests_signed: bool,
    want_assertions_signed: bool,
}

fn certificates(pem: &str) -> Result<Vec<Vec<u8>>, KeyError> {
    TrustedKey::from_pem(pem)?
        .iter()
        .map(|k| {
            k.certificate_der()
                .map(<[u8]>::to_vec)
                .ok_or(KeyError::BadCertificate {
                    reason: "SP metadata needs certificates (BEGIN CERTIFICATE), not bare public keys"
                        .to_owned(),
                })
        })
        .collect()
}

impl SpMetadata {
    /// Metadata with the SP's entity ID and ACS URLs (HTTP-POST), asking for signed
    /// assertions.
    pub fn new(sp: &ServiceProvider) -> Self {
        Self {
            entity_id: sp.entity_id().to_owned(),
            acs_urls: sp.acs_urls().to_vec(),
            slo_url: None,
            name_id_formats: Vec::new(),
            signing_certificates: Vec::new(),
            encryption_certificates: Vec::new(),
            authn_requests_signed: false,
            want_assertions_signed: true,
        }
    }

    /// Adds a requested NameID format.
    pub fn name_id_format(mut self, format: &str) -> Self {
        self.name_id_formats.push(format.to_owned());
        self
    }

    /// The Single Logout URL (HTTP-Redirect and HTTP-POST).
    pub fn single_logout(mut self, url: &str) -> Self {
        self.slo_url = Some(url.to_owned());
        self
    }

    /// The SP's request-signing certificate(s), PEM; also sets `AuthnRequestsSigned`.
    pub fn signing_certificates(mut self, pem: &str) -> Result<Self, KeyError> {
        self.signing_certificates = certificates(pem)?;
        self.authn_requests_signed = !self.signing_certificates.is_empty();
        Ok(self)
    }

    /// The SP's encryption certificate(s), PEM, for IdPs that encrypt assertions.
    pub fn encryption_certificates(mut self, pem: &str) -> Result<Self, KeyError> {
        self.encryption_certificates = certificates(pem)?;
        Ok(self)
    }

    /// Whether the SP wants signed assertions (default: yes).
    pub fn want_assertions_signed(mut self, want: bool) -> Self {
        self.want_assertions_signed = want;
        self
    }

    /// The metadata document.
    pub fn to_xml(&self) -> String {
        let mut x = String::new();
        x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        x.push_str(&format!(
            "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" \
             xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" entityID=\"{}\">\n",
            xml_escape(&self.entity_id)
        ));
        x.push_str(&format!(
            "  <md:SPSSODescriptor AuthnRequestsSigned=\"{}\" WantAssertionsSigned=\"{}\" \
             protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\n",
            self.authn_requests_signed, self.want_assertions_signed
        ));
        for (use_, certs) in [
            ("signing", &self.signing_certificates),
            ("encryption", &self.encryption_certificates),
        ] {
            for der in certs.iter() {
                x.push_str(&format!(
                    "    <md:KeyDescriptor use=\"{use_}\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}\
                     </ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>\n",
                    base64::engine::general_purpose::STANDARD.encode(der)
                ));
            }
        }
        if let Some(slo) = &self.slo_url {
            for binding in ["HTTP-Redirect", "HTTP-POST"] {
                x.push_str(&format!(
                    "    <md:SingleLogoutService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:{binding}\" \
                     Location=\"{}\"/>\n",
                    xml_escape(slo)
                ));
            }
        }
        for format in &self.name_id_formats {
            x.push_str(&format!(
                "    <md:NameIDFormat>{}</md:NameIDFormat>\n",
                xml_escape(format)
            ));
        }
        for (index, acs) in self.acs_urls.iter().enumerate() {
            x.push_str(&format!(
                "    <md:AssertionConsumerService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" \
                 Location=\"{}\" index=\"{index}\"{}/>\n",
                xml_escape(acs),
                if index == 0 { " isDefault=\"true\"" } else { "" }
            ));
        }
        x.push_str("  </md:SPSSODescriptor>\n</md:EntityDescriptor>\n");
        x
    }
}
