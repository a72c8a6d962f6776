//! The builder of the shared state: [`SsoBuilder`], the route [`Paths`] derived from the ACS URL,
//! and the form limit.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use fedkit_saml::crypto::{default_provider, CryptoProvider};
use fedkit_saml::logout::LogoutValidator;
use fedkit_saml::request::safe_redirect;
use fedkit_saml::sp_metadata::SpMetadata;
use fedkit_saml::{
    ConfigError, InMemoryReplayCache, InMemoryRequestStore, LoginFlow, ReplayCache, RequestStore, SigningKey,
};
use fedkit_scim_service::auth::TenantId;

use super::{Inner, Logout, Sso, SsoHost, DEFAULT_STORE_CAPACITY};
use crate::scim::Scim;

/// Where the routes are mounted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Paths {
    /// `GET`: starts an SP-initiated login (`?next=/local/path` to come back to).
    pub login: String,
    /// `POST`: the Assertion Consumer Service (the ACS URL's path).
    pub acs: String,
    /// `GET`: the SP metadata document.
    pub metadata: String,
    /// `POST`: the user logs out (locally, then at the IdP when Single Logout is on).
    pub logout: String,
    /// `GET` and `POST`: the IdP's Single Logout messages (the SP SLO URL's path), when
    /// Single Logout is on.
    pub slo: Option<String>,
}

/// The path of an absolute URL (`/` when it has none).
fn path_of(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme
        .find('/')
        .and_then(|i| after_scheme.get(i..))
        .unwrap_or_default()
        .split(['?', '#'])
        .next()
        .unwrap_or_default();
    if path.is_empty() {
        "/".to_owned()
    } else {
        path.to_owned()
    }
}

/// The largest urlencoded form carrying a base64 message of at most `max_xml` bytes: base64
/// is a third larger than the XML, and percent-encoding may triple it (`+`, `/` and `=`
/// become `%2B`, `%2F`, `%3D`), plus room for the RelayState and the field names.
fn form_limit(max_xml: usize) -> usize {
    let base64 = max_xml.div_ceil(3).saturating_mul(4);
    base64.saturating_mul(3).saturating_add(8 * 1024)
}

/// Builds an [`Sso`]. See [`Sso::builder`].
#[must_use]
pub struct SsoBuilder {
    flow: LoginFlow,
    stores: Option<(Arc<dyn RequestStore>, Arc<dyn ReplayCache>)>,
    single_logout: Option<(String, String)>,
    signing: Option<(SigningKey, String, &'static dyn CryptoProvider)>,
    after_login: String,
    after_logout: String,
    directory: Option<(Scim, TenantId)>,
}

impl std::fmt::Debug for SsoBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoBuilder")
            .field("flow", &self.flow)
            .field("custom_stores", &self.stores.is_some())
            .field("single_logout", &self.single_logout)
            .field("signing", &self.signing.is_some())
            .field("after_login", &self.after_login)
            .field("after_logout", &self.after_logout)
            .field("directory", &self.directory)
            .finish()
    }
}

impl Sso {
    /// Starts building the routes over `flow` (e.g. [`SsoSetup::into_flow`](fedkit_saml::setup::SsoSetup::into_flow)).
    ///
    /// The routes are derived from the flow's ACS URL: with `https://app.example.com/saml/acs`
    /// they are `/saml/acs` (ACS), `/saml/login`, `/saml/metadata` and `/saml/logout` (see
    /// [`Paths`]).
    pub fn builder(flow: LoginFlow) -> SsoBuilder {
        SsoBuilder {
            flow,
            stores: None,
            single_logout: None,
            signing: None,
            after_login: "/".to_owned(),
            after_logout: "/".to_owned(),
            directory: None,
        }
    }
}

impl SsoBuilder {
    /// Uses these stores instead of the in-memory ones (e.g. fedkit-postgres's, shared by
    /// several processes). The in-memory default holds [`DEFAULT_STORE_CAPACITY`] entries
    /// each and serves one process.
    pub fn with_stores(mut self, requests: Arc<dyn RequestStore>, replay: Arc<dyn ReplayCache>) -> Self {
        self.stores = Some((requests, replay));
        self
    }

    /// Turns Single Logout on: this SP's SLO URL (where the IdP sends LogoutRequests and
    /// LogoutResponses, listed in the SP metadata) and the IdP's SLO URL (HTTP-Redirect:
    /// where this SP sends its own).
    pub fn with_single_logout(mut self, sp_slo_url: &str, idp_slo_url: &str) -> Self {
        self.single_logout = Some((sp_slo_url.to_owned(), idp_slo_url.to_owned()));
        self
    }

    /// Signs the logout messages this SP sends (most IdPs require it) and the AuthnRequests
    /// with `key`, whose certificate (`certificate_pem`) the SP metadata then lists (with
    /// `AuthnRequestsSigned="true"`).
    pub fn with_signing_key(mut self, key: SigningKey, certificate_pem: &str) -> Self {
        self.signing = Some((key, certificate_pem.to_owned(), default_provider()));
        self
    }

    /// Refuses the login of a user the SCIM directory does not have as active in `tenant`
    /// ([`Scim::check_login`]: the NameID as the SCIM `userName`), before
    /// [`SsoHost::check`]: a user the IdP deactivated or deprovisioned through SCIM cannot
    /// log in with an assertion issued before (or despite) that. The refusal's code is
    /// `user_deactivated` or `user_not_provisioned`. For another mapping (e.g. by
    /// `externalId`), call [`Scim::check_user`] from [`SsoHost::check`] instead.
    pub fn with_directory(mut self, scim: &Scim, tenant: TenantId) -> Self {
        self.directory = Some((scim.clone(), tenant));
        self
    }

    /// Where the browser goes after a login that names no return path (IdP-initiated, or
    /// started without `next`; default `/`).
    pub fn with_after_login(mut self, path: &str) -> Self {
        path.clone_into(&mut self.after_login);
        self
    }

    /// Where the browser goes after a logout (default `/`).
    pub fn with_after_logout(mut self, path: &str) -> Self {
        path.clone_into(&mut self.after_logout);
        self
    }

    /// The shared state, calling `host` back. Build it once (see [`Sso`]).
    pub fn build(self, host: impl SsoHost) -> Result<Sso, ConfigError> {
        let validator = self.flow.validator().clone();
        let sp = validator.service_provider().clone();
        let acs_url = sp.acs_urls().first().cloned().unwrap_or_default();
        let acs = path_of(&acs_url);
        let base = acs.rsplit_once('/').map_or("", |(base, _)| base).to_owned();
        for (field, path) in [
            ("after-login path", &self.after_login),
            ("after-logout path", &self.after_logout),
        ] {
            if safe_redirect(path, &[]).is_none() {
                return Err(ConfigError::Invalid {
                    field,
                    value: path.clone(),
                    expected: "a path on this site, starting with a single '/'",
                });
            }
        }
        let mut metadata = SpMetadata::new(&sp);
        let mut flow = self.flow;
        let mut signing = None;
        if let Some((key, certificate_pem, provider)) = self.signing {
            metadata =
                metadata
                    .signing_certificates(&certificate_pem)
                    .map_err(|e| ConfigError::Certificate {
                        index: 0,
                        reason: e.to_string(),
                    })?;
            let der = fedkit_saml::fedkit_xmldsig::TrustedKey::from_pem(&certificate_pem)
                .ok()
                .and_then(|keys| keys.first().and_then(|k| k.certificate_der().map(<[u8]>::to_vec)));
            flow = flow.with_signing_key(key.clone(), der, provider);
            signing = Some((key, provider));
        }
        let mut slo = None;
        let logout = match self.single_logout {
            Some((sp_slo_url, idp_slo_url)) => {
                for (field, url) in [
                    ("SP Single Logout URL", &sp_slo_url),
                    ("IdP Single Logout URL", &idp_slo_url),
                ] {
                    if !(url.starts_with("https://") || url.starts_with("http://")) {
                        return Err(ConfigError::Url {
                            field,
                            value: url.clone(),
                        });
                    }
                }
                metadata = metadata.single_logout(&sp_slo_url);
                slo = Some(path_of(&sp_slo_url));
                Some(Logout {
                    validator: LogoutValidator::new(
                        sp.clone(),
                        validator.identity_provider().clone(),
                        &sp_slo_url,
                        validator.settings().clone(),
                    ),
                    sp,
                    idp_slo_url,
                    signing,
                })
            }
            None => None,
        };
        let in_memory = self.stores.is_none();
        let (requests, replay) = self.stores.unwrap_or_else(|| {
            (
                Arc::new(InMemoryRequestStore::new(DEFAULT_STORE_CAPACITY)),
                Arc::new(InMemoryReplayCache::new(DEFAULT_STORE_CAPACITY)),
            )
        });
        let form_limit = form_limit(validator.settings().max_message_bytes());
        Ok(Sso(Arc::new(Inner {
            flow,
            requests,
            replay,
            host: Arc::new(host),
            logout,
            metadata_xml: metadata.to_xml(),
            paths: Paths {
                login: format!("{base}/login"),
                acs,
                metadata: format!("{base}/metadata"),
                logout: format!("{base}/logout"),
                slo,
            },
            after_login: self.after_login,
            after_logout: self.after_logout,
            form_limit,
            directory: self.directory,
            in_memory,
            split: AtomicBool::new(false),
        })))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::{HttpRequest, HttpResponseBuilder};
    use fedkit_saml::logout::LogoutRequest;
    use fedkit_saml::{Login, ServiceProvider};

    use super::*;
    use crate::saml::LoggedOut;

    struct Nobody;

    impl SsoHost for Nobody {
        fn logged_in(&self, _: &HttpRequest, _: Login, _: &mut HttpResponseBuilder) {}
        fn logout(&self, _: &HttpRequest, _: &mut HttpResponseBuilder) -> Option<LoggedOut> {
            None
        }
        fn idp_logout(&self, _: &LogoutRequest) {}
    }

    fn flow(acs: &str) -> LoginFlow {
        let sp = ServiceProvider::new("https://app.example.com/sp", [acs]).unwrap();
        let idp = fedkit_saml::IdentityProvider::from_pasted(
            "https://idp.example.org",
            &[include_str!("../../../saml/tests/data/keys/idp.crt.pem")],
        )
        .unwrap();
        let validator = fedkit_saml::ResponseValidator::new(sp, idp);
        LoginFlow::new(validator, "https://idp.example.org/sso").unwrap()
    }

    #[test]
    fn the_routes_follow_the_acs_url() {
        let sso = Sso::builder(flow("https://app.example.com/auth/saml/acs"))
            .build(Nobody)
            .unwrap();
        assert_eq!(
            sso.paths(),
            &Paths {
                login: "/auth/saml/login".to_owned(),
                acs: "/auth/saml/acs".to_owned(),
                metadata: "/auth/saml/metadata".to_owned(),
                logout: "/auth/saml/logout".to_owned(),
                slo: None,
            }
        );
        assert!(!sso.metadata_xml().contains("SingleLogoutService"));
        let sso = Sso::builder(flow("https://app.example.com/acs"))
            .with_single_logout("https://app.example.com/slo", "https://idp.example.org/slo")
            .build(Nobody)
            .unwrap();
        assert_eq!(sso.paths().login, "/login");
        assert_eq!(sso.paths().slo.as_deref(), Some("/slo"));
        assert!(sso
            .metadata_xml()
            .contains("Location=\"https://app.example.com/slo\""));
    }

    #[test]
    fn bad_settings_are_refused_by_name() {
        let flow = || flow("https://app.example.com/saml/acs");
        let err = Sso::builder(flow())
            .with_after_logout("https://evil.example/")
            .build(Nobody)
            .unwrap_err();
        assert_eq!(err.code(), "setting_invalid");
        assert!(err.to_string().contains("after-logout path"), "{err}");
        let err = Sso::builder(flow())
            .with_after_login("//evil.example")
            .build(Nobody)
            .unwrap_err();
        assert!(err.to_string().contains("after-login path"), "{err}");
        let err = Sso::builder(flow())
            .with_single_logout("/saml/slo", "https://idp.example.org/slo")
            .build(Nobody)
            .unwrap_err();
        assert_eq!(err.code(), "bad_url");
    }

    #[test]
    fn paths_of_urls() {
        assert_eq!(path_of("https://app.example.com/saml/acs"), "/saml/acs");
        assert_eq!(path_of("https://app.example.com/saml/slo?x#y"), "/saml/slo");
        assert_eq!(path_of("https://app.example.com"), "/");
    }

    #[test]
    fn the_form_limit_holds_the_largest_message_percent_encoded() {
        let limit = form_limit(256 * 1024);
        assert!(limit >= 256 * 1024 * 4 / 3 * 3, "{limit}");
        assert!(limit < 2 * 1024 * 1024, "{limit}");
        assert!(form_limit(usize::MAX) == usize::MAX);
    }
}
