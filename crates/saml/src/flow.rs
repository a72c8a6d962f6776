//! The browser-bound login flow: SP-initiated and IdP-initiated Web SSO in two calls, with
//! the request store, the browser binding, replay protection and every Response check in
//! one place.
//!
//! 1. [`LoginFlow::start`] builds the AuthnRequest (an HTTP-Redirect URL, or an HTTP-POST
//!    form for IdPs that want POST), remembers it in the [`RequestStore`] together with the
//!    digest of a fresh **binding value** and the RelayState the host chose, and returns the
//!    redirect or form plus a [`LoginCookie`] carrying that value. The host sends both: the
//!    `Set-Cookie` header from [`LoginCookie::set_cookie_header`], and the redirect or page.
//! 2. At the Assertion Consumer Service, [`LoginFlow::finish`] takes the posted
//!    `SAMLResponse` and `RelayState` and the value of the login cookie (if the browser sent
//!    it), and accepts the login only when every check of
//!    [`ResponseValidator`] passes, the Response answers an outstanding request of this SP
//!    (consumed once), the cookie proves this browser started that request, and the assertion
//!    was not used before. The host then clears the cookie
//!    ([`LoginFlow::clear_cookie_header`]) whatever the outcome.
//!
//! Refusals that concern the flow itself: [`Error::LoginNotStartedHere`]
//! (`login_not_started_here`: another browser's Response, or the cookie was lost),
//! [`Error::Replay`] (`replay`: the Response already logged in),
//! [`Error::RequestNotOutstanding`] (`request_not_outstanding`: unknown or expired request).
//!
//! **IdP-initiated logins** (no `InResponseTo`) go through [`LoginFlow::finish`] too when the
//! validator's [`Settings`](crate::Settings) allow them; no cookie is needed or checked. The
//! SAML profile makes them unsolicited, so nothing ties them to a browser: anyone who can
//! make the IdP issue a Response for their own account can log a victim's browser into it.
//! Allow them only when the IdP requires it.
//!
//! **RelayState**: for an SP-initiated login, [`Login::relay_state`] is the value the host
//! passed to `start` (kept in the store; nothing is sent to the IdP, and the posted value is
//! ignored). For an IdP-initiated login the posted RelayState is whatever the IdP (or an
//! attacker who crafted the IdP-initiated link) put there:
//! [`Login::unsolicited_relay_state`] returns it as such, and [`Login::redirect_target`]
//! returns a redirect target only when [`safe_redirect`] accepts it (a path on this site or
//! an allowed origin), never an open redirect.
//!
//! The flow is sans-IO like the rest of the crate: the host passes `now` and bytes from its
//! CSPRNG, and the stores.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use fedkit_saml::flow::{LoginFlow, Outgoing};
//! use fedkit_saml::{IdentityProvider, InMemoryReplayCache, InMemoryRequestStore, ResponseValidator, ServiceProvider};
//!
//! let sp = ServiceProvider::new("https://app.example.com/saml/metadata", ["https://app.example.com/saml/acs"])?;
//! let idp = IdentityProvider::from_pasted(
//!     "https://sso.jumpcloud.com/saml2/fedkit-test",
//!     &[include_str!("../tests/data/keys/idp.crt.pem")],
//! )?;
//! let sso_url = "https://sso.jumpcloud.com/saml2/fedkit-test";
//! let flow = LoginFlow::new(ResponseValidator::new(sp, idp), sso_url)?;
//! let requests = InMemoryRequestStore::new(100_000); // shared by every process of the host
//! let replay = InMemoryReplayCache::new(100_000);
//! let now = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap();
//!
//! // GET /saml/login?next=/dashboard: 20 + 32 bytes from the host's CSPRNG (e.g. getrandom).
//! let started = flow.start(Some("/dashboard"), [1; 20], [2; 32], now, &requests)?;
//! let Outgoing::Redirect(location) = started.outgoing() else { unreachable!() };
//! assert!(location.starts_with("https://sso.jumpcloud.com/saml2/fedkit-test?SAMLRequest="));
//! assert_eq!(
//!     started.cookie().set_cookie_header(),
//!     format!("fedkit_saml_login={}; Max-Age=600; Path=/saml/acs; HttpOnly; Secure; SameSite=None", started.cookie().value()),
//! );
//! // Answer 303 See Other with `Location: {location}` and `Set-Cookie: {set_cookie_header}`.
//!
//! // POST /saml/acs: the form's SAMLResponse and RelayState, and the login cookie's value.
//! // (Here: a Response the IdP signed for another request, not the one started above.)
//! let xml = include_str!("../tests/data/signed/both-signed.xml");
//! let saml_response = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, xml);
//! let cookie = Some(started.cookie().value());
//! let now = Utc.with_ymd_and_hms(2026, 11, 22, 10, 1, 0).unwrap();
//! match flow.finish(&saml_response, None, cookie, now, &requests, &replay) {
//!     Ok(login) => {
//!         // Log `login.assertion().name_id()` in; go to `login.redirect_target(&origins)`.
//!     }
//!     Err(e) => {
//!         // Log `e.code()` and `e` (the admin message); show `fedkit_saml::render::error_html`.
//!         assert_eq!(e.code(), "request_not_outstanding");
//!     }
//! }
//! // Either way, answer with `Set-Cookie: {clear_cookie_header}`.
//! assert_eq!(flow.clear_cookie_header(), "fedkit_saml_login=; Max-Age=0; Path=/saml/acs; HttpOnly; Secure; SameSite=None");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use fedkit_xmldsig::crypto::CryptoProvider;
use fedkit_xmldsig::{DigestAlgorithm, SigningKey};
use subtle::ConstantTimeEq as _;

use crate::assertion::VerifiedAssertion;
use crate::error::{ConfigError, CookieProblem, Error};
use crate::replay::{PendingLogin, ReplayCache, RequestStore};
use crate::request::{safe_redirect, AuthnRequest, SignError, ID_RANDOM_BYTES};
use crate::response::ResponseValidator;

/// The default name of the login cookie.
pub const DEFAULT_COOKIE_NAME: &str = "fedkit_saml_login";

/// How long a started login may take by default (the request's lifetime in the store and
/// the cookie's `Max-Age`): ten minutes, time enough for a password and a second factor.
pub const DEFAULT_LOGIN_LIFETIME: Duration = Duration::from_secs(600);

/// The longest login lifetime [`LoginFlow::with_login_lifetime`] accepts: one hour.
pub const MAX_LOGIN_LIFETIME: Duration = Duration::from_secs(3600);

/// Bytes of the binding value (256 bits from the host's CSPRNG).
const BINDING_BYTES: usize = 32;

/// How the AuthnRequest travels to the IdP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RequestBinding {
    /// HTTP-Redirect (SAML Bindings §3.4): a `303` to the IdP's SSO URL with the request in
    /// the query. What most IdPs expect (the default).
    #[default]
    Redirect,
    /// HTTP-POST (SAML Bindings §3.5): an HTML page that posts the request to the IdP.
    Post,
}

/// SP-initiated and IdP-initiated login for one SP and one IdP, bound to the browser. See
/// the [module docs](self).
#[derive(Debug, Clone)]
pub struct LoginFlow {
    validator: ResponseValidator,
    sso_url: String,
    binding: RequestBinding,
    lifetime: Duration,
    cookie_name: String,
    cookie_path: String,
    name_id_format: Option<String>,
    force_authn: bool,
    signing: Option<RequestSigning>,
}

/// The SP key that signs AuthnRequests, for IdPs that want them signed.
#[derive(Debug, Clone)]
struct RequestSigning {
    key: SigningKey,
    certificate_der: Option<Vec<u8>>,
    provider: &'static dyn CryptoProvider,
}

/// The path of an absolute URL (`/` when it has none), for the cookie's `Path`.
fn path_of(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path_and_more = after_scheme
        .find('/')
        .and_then(|i| after_scheme.get(i..))
        .unwrap_or_default();
    let path = path_and_more.split(['?', '#']).next().unwrap_or_default();
    if path.is_empty() {
        "/".to_owned()
    } else {
        path.to_owned()
    }
}

/// Whether `value` may appear in a `Set-Cookie` header as a cookie name (an RFC 6265 token).
fn is_token(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

impl LoginFlow {
    /// A flow for `validator`'s SP and IdP, sending AuthnRequests to `sso_url` (the IdP's SSO
    /// URL; JumpCloud's "IDP URL"). The cookie's `Path` is the path of the SP's first ACS URL
    /// (where AuthnRequests ask the IdP to post); the lifetime is
    /// [`DEFAULT_LOGIN_LIFETIME`].
    pub fn new(validator: ResponseValidator, sso_url: &str) -> Result<Self, ConfigError> {
        crate::config::check_url("IdP SSO URL", sso_url)?;
        let acs = validator
            .service_provider()
            .acs_urls()
            .first()
            .cloned()
            .unwrap_or_default();
        Ok(Self {
            cookie_path: path_of(&acs),
            validator,
            sso_url: sso_url.to_owned(),
            binding: RequestBinding::default(),
            lifetime: DEFAULT_LOGIN_LIFETIME,
            cookie_name: DEFAULT_COOKIE_NAME.to_owned(),
            name_id_format: None,
            force_authn: false,
            signing: None,
        })
    }

    /// Sends AuthnRequests with this binding. Default: [`RequestBinding::Redirect`].
    #[must_use]
    pub fn with_request_binding(mut self, binding: RequestBinding) -> Self {
        self.binding = binding;
        self
    }

    /// How long a started login may take: the request's lifetime in the store and the
    /// cookie's `Max-Age`. Default [`DEFAULT_LOGIN_LIFETIME`]; zero or more than
    /// [`MAX_LOGIN_LIFETIME`] is [`ConfigError::OutOfRange`].
    pub fn with_login_lifetime(mut self, lifetime: Duration) -> Result<Self, ConfigError> {
        if lifetime.is_zero() || lifetime > MAX_LOGIN_LIFETIME {
            return Err(ConfigError::OutOfRange {
                field: "login lifetime",
                value: format!("{} s", lifetime.as_secs()),
                max: format!("{} s (and more than 0 s)", MAX_LOGIN_LIFETIME.as_secs()),
            });
        }
        self.lifetime = lifetime;
        Ok(self)
    }

    /// Names the login cookie (default [`DEFAULT_COOKIE_NAME`]); the name must be an RFC 6265
    /// token. A name starting with `__Host-` makes the cookie's `Path` `/` (browsers require
    /// it for that prefix, which in turn stops a sibling subdomain from planting the cookie:
    /// worth it when other subdomains of the site are not trusted).
    pub fn with_cookie_name(mut self, name: &str) -> Result<Self, ConfigError> {
        if !is_token(name) {
            return Err(ConfigError::Invalid {
                field: "login cookie name",
                value: name.to_owned(),
                expected: "an RFC 6265 token: letters, digits and !#$%&'*+-.^_`|~, not empty",
            });
        }
        if name.starts_with("__Host-") {
            self.cookie_path = "/".to_owned();
        }
        self.cookie_name = name.to_owned();
        Ok(self)
    }

    /// Asks for a NameID in this format (see [`AuthnRequest::with_name_id_format`]).
    #[must_use]
    pub fn with_name_id_format(mut self, format: &str) -> Self {
        self.name_id_format = Some(format.to_owned());
        self
    }

    /// Asks the IdP to authenticate the user again (`ForceAuthn`).
    #[must_use]
    pub fn with_force_authn(mut self) -> Self {
        self.force_authn = true;
        self
    }

    /// Signs AuthnRequests with the SP's key (for IdPs that want signed requests): the
    /// query-string signature with [`RequestBinding::Redirect`], an enveloped XML signature
    /// (with `certificate_der` in its KeyInfo when given) with [`RequestBinding::Post`].
    #[must_use]
    pub fn with_signing_key(
        mut self,
        key: SigningKey,
        certificate_der: Option<Vec<u8>>,
        provider: &'static dyn CryptoProvider,
    ) -> Self {
        self.signing = Some(RequestSigning {
            key,
            certificate_der,
            provider,
        });
        self
    }

    /// The validator every Response goes through.
    pub fn validator(&self) -> &ResponseValidator {
        &self.validator
    }

    /// The IdP's SSO URL.
    pub fn sso_url(&self) -> &str {
        &self.sso_url
    }

    /// The login cookie's name: read its value from the request at the ACS.
    pub fn cookie_name(&self) -> &str {
        &self.cookie_name
    }

    /// The `Set-Cookie` header value that deletes the login cookie: send it with the ACS
    /// answer, whatever the outcome (the cookie serves one login).
    pub fn clear_cookie_header(&self) -> String {
        cookie_header(&self.cookie_name, "", 0, &self.cookie_path)
    }

    /// Starts an SP-initiated login: builds the AuthnRequest, remembers it in `requests`
    /// (until `now` plus the login lifetime) with the SHA-256 digest of the binding value and
    /// `relay_state` (where the host wants the user afterwards; returned by
    /// [`Login::relay_state`], never sent to the IdP), and returns the redirect or form and
    /// the cookie.
    ///
    /// `request_random` (the request ID) and `binding_random` (the cookie value) must come
    /// from a cryptographically secure generator, each fresh: the binding value is what
    /// proves, at the ACS, that the browser posting the Response started the login.
    pub fn start(
        &self,
        relay_state: Option<&str>,
        request_random: [u8; ID_RANDOM_BYTES],
        binding_random: [u8; BINDING_BYTES],
        now: DateTime<Utc>,
        requests: &dyn RequestStore,
    ) -> Result<Started, StartError> {
        let mut request = AuthnRequest::new(
            self.validator.service_provider(),
            &self.sso_url,
            request_random,
            now,
        );
        if let Some(format) = &self.name_id_format {
            request = request.with_name_id_format(format);
        }
        if self.force_authn {
            request = request.with_force_authn();
        }
        let outgoing = match (&self.binding, &self.signing) {
            (RequestBinding::Redirect, None) => Outgoing::Redirect(request.redirect_url(None)),
            (RequestBinding::Redirect, Some(s)) => {
                Outgoing::Redirect(request.signed_redirect_url(None, &s.key, s.provider)?)
            }
            (RequestBinding::Post, None) => Outgoing::PostForm(request.post_form(None)),
            (RequestBinding::Post, Some(s)) => Outgoing::PostForm(request.signed_post_form(
                None,
                &s.key,
                s.certificate_der.as_deref(),
                s.provider,
            )?),
        };
        let value = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(binding_random);
        let login = PendingLogin::new(self.digest(&binding_random), relay_state.map(str::to_owned));
        let lifetime = chrono::Duration::from_std(self.lifetime).unwrap_or(chrono::Duration::zero());
        let expires = crate::time::later(now, lifetime);
        requests
            .remember_login(request.id(), &login, expires, now)
            .map_err(|e| match e {
                crate::replay::StoreError::Full { capacity } => StartError::RequestStoreFull { capacity },
                crate::replay::StoreError::Unavailable { detail } => {
                    StartError::RequestStoreUnavailable { detail }
                }
            })?;
        Ok(Started {
            request_id: request.id().to_owned(),
            outgoing,
            cookie: LoginCookie {
                name: self.cookie_name.clone(),
                value,
                path: self.cookie_path.clone(),
                max_age: self.lifetime.as_secs(),
            },
        })
    }

    /// Completes a login at the ACS: `saml_response` and `relay_state` are the posted form
    /// values, `cookie` the value of the login cookie ([`cookie_name`](Self::cookie_name))
    /// when the browser sent it.
    ///
    /// In order: every check of [`ResponseValidator`] (nothing recorded yet); for an
    /// SP-initiated Response, its request must be outstanding (else [`Error::Replay`] when
    /// this assertion was already used, [`Error::RequestNotOutstanding`] otherwise) and the
    /// cookie must be the one issued for that request (else
    /// [`Error::LoginNotStartedHere`], and neither the request nor the assertion is spent,
    /// so the genuine browser can still finish); then the assertion ID is recorded
    /// ([`Error::Replay`]) and the request consumed ([`Error::RequestAlreadyAnswered`] when
    /// another Response won the race). IdP-initiated Responses skip the request and cookie
    /// steps (refused with `unsolicited` unless the settings allow them).
    pub fn finish(
        &self,
        saml_response: &str,
        relay_state: Option<&str>,
        cookie: Option<&str>,
        now: DateTime<Utc>,
        requests: &dyn RequestStore,
        replay: &dyn ReplayCache,
    ) -> Result<Login, Error> {
        let xml = self.validator.decode_post(saml_response)?;
        let checked = self.validator.check_for_store(&xml, now)?;
        let Some(request) = checked.assertion.in_response_to().map(str::to_owned) else {
            // IdP-initiated: the validator has already refused it unless allowed.
            let assertion = self.validator.accept_for_store(checked, requests, now, replay)?;
            return Ok(Login {
                assertion,
                relay_state: relay_state.map(str::to_owned),
                idp_initiated: true,
            });
        };
        let Some(pending) = requests
            .pending_login(&request, now)
            .map_err(Error::request_store)?
        else {
            if requests
                .is_outstanding(&request, now)
                .map_err(Error::request_store)?
            {
                return Err(Error::LoginNotStartedHere {
                    request,
                    cookie: CookieProblem::RequestNotBound,
                });
            }
            return Err(self.validator.not_outstanding(&checked, &request, now, replay));
        };
        if let Some(problem) = self.binding_problem(cookie, &pending) {
            return Err(Error::LoginNotStartedHere {
                request,
                cookie: problem,
            });
        }
        let assertion = self.validator.accept_for_store(checked, requests, now, replay)?;
        Ok(Login {
            assertion,
            relay_state: pending.relay_state().map(str::to_owned),
            idp_initiated: false,
        })
    }

    /// Why `cookie` does not prove that this browser started `pending`, or `None` when it
    /// does. The value is decoded to its 32 bytes first (anything else is malformed, whatever
    /// its length), and the digests are compared in constant time.
    fn binding_problem(&self, cookie: Option<&str>, pending: &PendingLogin) -> Option<CookieProblem> {
        let Some(value) = cookie.map(str::trim) else {
            return Some(CookieProblem::Missing);
        };
        if value.is_empty() {
            return Some(CookieProblem::Missing);
        }
        let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(value)
            .ok()
            .and_then(|bytes| <[u8; BINDING_BYTES]>::try_from(bytes).ok());
        let Some(bytes) = decoded else {
            return Some(CookieProblem::Malformed);
        };
        let digest = self.digest(&bytes);
        if bool::from(digest.ct_eq(pending.binding_digest())) {
            None
        } else {
            Some(CookieProblem::OtherLogin)
        }
    }

    /// SHA-256 of the binding value's bytes.
    fn digest(&self, binding: &[u8; BINDING_BYTES]) -> [u8; 32] {
        let digest = self.validator.provider().digest(DigestAlgorithm::Sha256, binding);
        let mut out = [0u8; 32];
        for (o, d) in out.iter_mut().zip(digest) {
            *o = d;
        }
        out
    }
}

fn cookie_header(name: &str, value: &str, max_age: u64, path: &str) -> String {
    format!("{name}={value}; Max-Age={max_age}; Path={path}; HttpOnly; Secure; SameSite=None")
}

/// Why [`LoginFlow::start`] could not start a login.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The request store is full of outstanding requests.
    #[error("the store of outstanding login requests is full ({capacity} requests); the login cannot start until some complete or expire")]
    RequestStoreFull {
        /// The store's capacity.
        capacity: usize,
    },
    /// The request store could not be reached, or cannot keep browser-bound logins.
    #[error("the store of outstanding login requests could not remember the login ({detail}); logins cannot start until it works again")]
    RequestStoreUnavailable {
        /// What failed.
        detail: String,
    },
    /// The AuthnRequest could not be signed.
    #[error("the AuthnRequest could not be signed: {0}")]
    Signing(#[from] SignError),
}

impl StartError {
    /// A stable `snake_case` code for logs, metrics and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            StartError::RequestStoreFull { .. } => "request_store_full",
            StartError::RequestStoreUnavailable { .. } => "request_store_unavailable",
            StartError::Signing(e) => e.code(),
        }
    }

    /// A short message for the end user, quoting nothing.
    pub fn user_message(&self) -> &'static str {
        match self {
            StartError::RequestStoreFull { .. } | StartError::RequestStoreUnavailable { .. } => {
                crate::render::TRY_AGAIN_LATER
            }
            StartError::Signing(_) => crate::render::ASK_ADMIN,
        }
    }
}

/// What to send the browser to start a login.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outgoing {
    /// Answer `303 See Other` with this `Location`.
    Redirect(String),
    /// Answer `200 OK` with this HTML page (`Content-Type: text/html; charset=utf-8`), which
    /// posts the request to the IdP as it loads.
    PostForm(String),
}

/// A started login: what to send the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    request_id: String,
    outgoing: Outgoing,
    cookie: LoginCookie,
}

impl Started {
    /// The AuthnRequest ID (for logs; the flow keeps it in the store).
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// The redirect or the form.
    pub fn outgoing(&self) -> &Outgoing {
        &self.outgoing
    }

    /// The login cookie to set with the same answer.
    pub fn cookie(&self) -> &LoginCookie {
        &self.cookie
    }
}

/// The login cookie: an opaque, unguessable value (256 bits from the host's CSPRNG,
/// base64url) that proves at the ACS that the browser posting a Response is the one that
/// started its login. The store keeps only its SHA-256 digest.
///
/// Set it exactly as [`set_cookie_header`](Self::set_cookie_header) formats it:
///
/// * `HttpOnly`: no script needs it, so none may read it.
/// * `Secure`: over https only (browsers also treat `http://localhost` as secure).
/// * `SameSite=None`: the IdP's POST to the ACS is a cross-site request, and browsers do not
///   send `Lax` or `Strict` cookies with it; `None` requires `Secure`.
/// * `Path=` the ACS path: the cookie goes to the ACS and nowhere else.
/// * `Max-Age=` the login lifetime (ten minutes by default): a login not finished by then
///   must start again.
///
/// No `Domain`: the cookie stays on the host that started the login, which must be the ACS
/// URL's host.
#[derive(Clone, PartialEq, Eq)]
pub struct LoginCookie {
    name: String,
    value: String,
    path: String,
    max_age: u64,
}

impl core::fmt::Debug for LoginCookie {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LoginCookie")
            .field("name", &self.name)
            .field("value", &"(secret)")
            .field("path", &self.path)
            .field("max_age", &self.max_age)
            .finish()
    }
}

impl LoginCookie {
    /// The cookie's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cookie's value (43 base64url characters), for hosts with a cookie API of their own.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The cookie's `Path`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The cookie's `Max-Age` in seconds.
    pub fn max_age(&self) -> u64 {
        self.max_age
    }

    /// The whole `Set-Cookie` header value:
    /// `name=value; Max-Age=600; Path=/saml/acs; HttpOnly; Secure; SameSite=None`.
    pub fn set_cookie_header(&self) -> String {
        cookie_header(&self.name, &self.value, self.max_age, &self.path)
    }

    /// The `Set-Cookie` header value that deletes this cookie (same name and path,
    /// `Max-Age=0`).
    pub fn clear_header(&self) -> String {
        cookie_header(&self.name, "", 0, &self.path)
    }
}

/// An accepted login.
#[derive(Debug, Clone, PartialEq)]
pub struct Login {
    assertion: VerifiedAssertion,
    relay_state: Option<String>,
    idp_initiated: bool,
}

impl Login {
    /// The verified assertion: who logged in.
    pub fn assertion(&self) -> &VerifiedAssertion {
        &self.assertion
    }

    /// The verified assertion, owned.
    pub fn into_assertion(self) -> VerifiedAssertion {
        self.assertion
    }

    /// Whether the login is IdP-initiated (unsolicited, not bound to the browser).
    pub fn is_idp_initiated(&self) -> bool {
        self.idp_initiated
    }

    /// SP-initiated: the RelayState the host passed to [`LoginFlow::start`], verbatim (pass
    /// it through [`redirect_target`](Self::redirect_target) when it came from a `next=`
    /// parameter). IdP-initiated: `None` (see
    /// [`unsolicited_relay_state`](Self::unsolicited_relay_state)).
    pub fn relay_state(&self) -> Option<&str> {
        if self.idp_initiated {
            None
        } else {
            self.relay_state.as_deref()
        }
    }

    /// IdP-initiated: the posted RelayState, as the IdP (or whoever crafted the IdP-initiated
    /// link) set it: untrusted input, never a redirect target as such. SP-initiated: `None`.
    pub fn unsolicited_relay_state(&self) -> Option<&str> {
        if self.idp_initiated {
            self.relay_state.as_deref()
        } else {
            None
        }
    }

    /// Where to send the user now: the RelayState (the host's, or an IdP-initiated one) when
    /// [`safe_redirect`] accepts it (a path on this site, or an `https` URL of one of
    /// `allowed_origins`), else `None` (send the user to the default page).
    pub fn redirect_target<'a>(&'a self, allowed_origins: &[&str]) -> Option<&'a str> {
        safe_redirect(self.relay_state.as_deref()?, allowed_origins)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_path_is_the_acs_path() {
        assert_eq!(path_of("https://app.example.com/saml/acs"), "/saml/acs");
        assert_eq!(path_of("https://app.example.com/saml/acs?x=1#y"), "/saml/acs");
        assert_eq!(path_of("https://app.example.com"), "/");
        assert_eq!(path_of("https://app.example.com?x"), "/");
    }

    #[test]
    fn cookie_names_are_tokens() {
        assert!(is_token("fedkit_saml_login"));
        assert!(is_token("__Host-login"));
        assert!(!is_token(""));
        assert!(!is_token("a b"));
        assert!(!is_token("a=b"));
        assert!(!is_token("a;b"));
    }
}
