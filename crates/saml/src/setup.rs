//! One-call setup: from the IdP's metadata (or what an admin pasted: entity ID, SSO URL,
//! certificate) and this SP's entity ID and ACS URL, everything a login needs: the
//! [`ServiceProvider`], the [`IdentityProvider`], the [`ResponseValidator`], the
//! [`LoginFlow`] and the SP metadata document to give the IdP. A thin layer over those
//! types: each stays available for what the setup does not cover.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use fedkit_saml::fedkit_metadata::{ImportSettings, SignaturePolicy};
//! use fedkit_saml::setup::SsoSetup;
//! use fedkit_saml::Settings;
//!
//! let xml = include_bytes!("../../../examples/data/metadata-jumpcloud.xml");
//! let now = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap();
//! let sso = SsoSetup::from_idp_metadata(
//!     xml,
//!     &ImportSettings::new(SignaturePolicy::NotRequired), // or pin the metadata signer
//!     "https://app.example.com/saml/metadata",
//!     "https://app.example.com/saml/acs",
//!     now,
//! )?
//! .with_settings(Settings::default().with_idp_initiated(false));
//!
//! let flow = sso.flow(); // start() at /saml/login, finish() at /saml/acs
//! assert!(flow.sso_url().starts_with("https://sso.jumpcloud.com/saml2/"));
//! assert_eq!(sso.validator().identity_provider().entity_id(), sso.identity_provider().entity_id());
//! // Serve at the SP entity ID URL, or upload to the IdP.
//! assert!(sso.sp_metadata_xml().contains("entityID=\"https://app.example.com/saml/metadata\""));
//!
//! // Or from what the admin pasted from the IdP's console.
//! let sso = SsoSetup::from_pasted(
//!     "https://sso.jumpcloud.com/saml2/acme",
//!     "https://sso.jumpcloud.com/saml2/acme",
//!     &[include_str!("../tests/data/keys/idp.crt.pem")],
//!     "https://app.example.com/saml/metadata",
//!     "https://app.example.com/saml/acs",
//! )?;
//! assert_eq!(sso.service_provider().acs_urls(), ["https://app.example.com/saml/acs"]);
//! # Ok::<(), fedkit_saml::setup::SetupError>(())
//! ```

use chrono::{DateTime, Utc};
use fedkit_metadata::{Binding, IdpMetadata, ImportSettings};
use fedkit_xmldsig::crypto::CryptoProvider;

use crate::config::{IdentityProvider, ServiceProvider, Settings};
use crate::error::ConfigError;
use crate::flow::{LoginFlow, RequestBinding};
use crate::response::ResponseValidator;
use crate::sp_metadata::SpMetadata;

/// Why [`SsoSetup`] could not set up a connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The IdP metadata could not be imported.
    #[error("the IdP metadata cannot be used: {0}")]
    Metadata(fedkit_metadata::Error),
    /// The IdP metadata offers no SSO endpoint with the HTTP-Redirect or HTTP-POST binding.
    #[error("the IdP {entity_id:?} offers no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding in its metadata, so there is nowhere to send a login request; check that the metadata is the IdP's SAML 2.0 metadata")]
    NoSsoEndpoint {
        /// The IdP entity ID.
        entity_id: String,
    },
    /// A value (entity ID, URL, certificate) was refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl SetupError {
    /// A stable `snake_case` code for logs, metrics and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            SetupError::Metadata(e) => e.code(),
            SetupError::NoSsoEndpoint { .. } => "no_sso_endpoint",
            SetupError::Config(e) => e.code(),
        }
    }
}

/// The pieces of one SP-to-IdP connection, built in one call. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct SsoSetup {
    sp: ServiceProvider,
    idp: IdentityProvider,
    sso_url: String,
    binding: RequestBinding,
    settings: Settings,
    provider: Option<&'static dyn CryptoProvider>,
    validator: ResponseValidator,
    flow: LoginFlow,
}

impl SsoSetup {
    /// From the IdP's metadata XML, imported with `options` (which say whether its signature
    /// is required, and with which crypto provider) at `now`: its entity ID, its signing
    /// certificates, and its SSO URL (HTTP-Redirect when offered, else HTTP-POST).
    pub fn from_idp_metadata(
        idp_metadata_xml: &[u8],
        options: &ImportSettings,
        sp_entity_id: &str,
        acs_url: &str,
        now: DateTime<Utc>,
    ) -> Result<Self, SetupError> {
        let metadata = IdpMetadata::from_xml(idp_metadata_xml, options, now).map_err(SetupError::Metadata)?;
        let (binding, endpoint) = match (
            metadata.sso_endpoint(&Binding::HttpRedirect),
            metadata.sso_endpoint(&Binding::HttpPost),
        ) {
            (Some(e), _) => (RequestBinding::Redirect, e),
            (None, Some(e)) => (RequestBinding::Post, e),
            (None, None) => {
                return Err(SetupError::NoSsoEndpoint {
                    entity_id: metadata.entity_id().to_owned(),
                })
            }
        };
        let sso_url = endpoint.location.clone();
        let sp = ServiceProvider::new(sp_entity_id, [acs_url])?;
        Self::assemble(sp, IdentityProvider::from_metadata(&metadata), sso_url, binding)
    }

    /// From what an admin pasted from the IdP's console: its entity ID, SSO URL (sent
    /// AuthnRequests with HTTP-Redirect) and signing certificate(s), each with or without
    /// the BEGIN/END lines.
    pub fn from_pasted(
        idp_entity_id: &str,
        sso_url: &str,
        certificates: &[&str],
        sp_entity_id: &str,
        acs_url: &str,
    ) -> Result<Self, SetupError> {
        let idp = IdentityProvider::from_pasted(idp_entity_id, certificates)?;
        let sp = ServiceProvider::new(sp_entity_id, [acs_url])?;
        Self::assemble(sp, idp, sso_url.to_owned(), RequestBinding::Redirect)
    }

    fn assemble(
        sp: ServiceProvider,
        idp: IdentityProvider,
        sso_url: String,
        binding: RequestBinding,
    ) -> Result<Self, SetupError> {
        let validator = ResponseValidator::new(sp.clone(), idp.clone());
        let flow = LoginFlow::new(validator.clone(), &sso_url)?.with_request_binding(binding);
        Ok(Self {
            sp,
            idp,
            sso_url,
            binding,
            settings: Settings::default(),
            provider: None,
            validator,
            flow,
        })
    }

    /// Rebuilds the validator and the flow (keeping the flow's binding, default lifetime and
    /// cookie) with the current settings and provider.
    fn rebuild(mut self) -> Self {
        let mut validator =
            ResponseValidator::with_settings(self.sp.clone(), self.idp.clone(), self.settings.clone());
        if let Some(provider) = self.provider {
            validator = validator.with_provider(provider);
        }
        // The URL was accepted when the setup was made; only the validator changes.
        if let Ok(flow) = LoginFlow::new(validator.clone(), &self.sso_url) {
            self.flow = flow.with_request_binding(self.binding);
        }
        self.validator = validator;
        self
    }

    /// Uses these [`Settings`] (signing requirement, IdP-initiated logins, clock skew...).
    #[must_use]
    pub fn with_settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self.rebuild()
    }

    /// Verifies with this crypto provider (e.g. `fedkit_xmldsig::crypto::AwsLcRs`).
    #[must_use]
    pub fn with_provider(mut self, provider: &'static dyn CryptoProvider) -> Self {
        self.provider = Some(provider);
        self.rebuild()
    }

    /// The SP.
    pub fn service_provider(&self) -> &ServiceProvider {
        &self.sp
    }

    /// The IdP.
    pub fn identity_provider(&self) -> &IdentityProvider {
        &self.idp
    }

    /// The validator (for the older calls, or logout).
    pub fn validator(&self) -> &ResponseValidator {
        &self.validator
    }

    /// The browser-bound login flow. Adjust it with its `with_*` methods on a clone
    /// ([`into_flow`](Self::into_flow) to own it).
    pub fn flow(&self) -> &LoginFlow {
        &self.flow
    }

    /// The login flow, owned.
    pub fn into_flow(self) -> LoginFlow {
        self.flow
    }

    /// The SP metadata builder, to add certificates or a Single Logout URL before
    /// [`SpMetadata::to_xml`].
    pub fn sp_metadata(&self) -> SpMetadata {
        SpMetadata::new(&self.sp)
    }

    /// The SP metadata document: entity ID and ACS URL (HTTP-POST), asking for signed
    /// assertions.
    pub fn sp_metadata_xml(&self) -> String {
        self.sp_metadata().to_xml()
    }
}
