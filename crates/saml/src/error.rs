//! Why a SAML Response was refused: one variant per check, each with a stable
//! [`code`](Error::code) and a message for the administrator who configured the connection.

use chrono::{DateTime, Utc};
use fedkit_xmldsig::xmlenc::XmlEncError;
use fedkit_xmldsig::{Fingerprint, ParseError, VerifyError};

use crate::time::show;

/// Which signed element a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignedPart {
    /// The `samlp:Response` element.
    Response,
    /// The `saml:Assertion` element.
    Assertion,
    /// A `samlp:LogoutRequest` from the IdP.
    LogoutRequest,
    /// A `samlp:LogoutResponse` from the IdP.
    LogoutResponse,
}

impl core::fmt::Display for SignedPart {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            SignedPart::Response => "Response",
            SignedPart::Assertion => "Assertion",
            SignedPart::LogoutRequest => "LogoutRequest",
            SignedPart::LogoutResponse => "LogoutResponse",
        })
    }
}

/// Which signatures the SP requires (JumpCloud offers "Sign Assertion", "Sign Response" and
/// both; other IdPs have the same three settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SigningRequirement {
    /// The assertion must be covered by a signature: its own, or the Response's (the default).
    #[default]
    Either,
    /// The Assertion element must carry its own signature.
    Assertion,
    /// The Response element must be signed.
    Response,
    /// Both the Response and the Assertion must be signed.
    Both,
}

impl core::fmt::Display for SigningRequirement {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            SigningRequirement::Either => "a signed Assertion or a signed Response",
            SigningRequirement::Assertion => "a signed Assertion",
            SigningRequirement::Response => "a signed Response",
            SigningRequirement::Both => "a signed Response and a signed Assertion",
        })
    }
}

fn fingerprints(list: &[Fingerprint]) -> String {
    list.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn or_absent(value: &Option<String>) -> String {
    value
        .as_ref()
        .map_or_else(|| "(absent)".to_owned(), |v| format!("{v:?}"))
}

/// Why a SAML Response was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The `SAMLResponse` form value is not base64.
    #[error("the SAMLResponse form value is not valid base64 ({reason}); the IdP must post it with the HTTP-POST binding")]
    Base64 {
        /// What is wrong.
        reason: String,
    },
    /// The message is larger than the configured limit.
    #[error("the SAML message is {actual} bytes, more than the limit of {max} bytes")]
    TooLarge {
        /// The limit.
        max: usize,
        /// The size received.
        actual: usize,
    },
    /// The XML could not be parsed (or was refused by the hardened parser).
    #[error("the SAML Response is not acceptable XML: {0}")]
    Xml(ParseError),
    /// The root element is not a SAML 2.0 `samlp:Response`.
    #[error("expected a SAML 2.0 samlp:Response, found {found}")]
    NotAResponse {
        /// What the root element is.
        found: String,
    },
    /// A required element or attribute is missing or malformed.
    #[error("malformed SAML {element}: {reason}")]
    Malformed {
        /// Where.
        element: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The IdP reported that authentication failed.
    #[error("the IdP did not authenticate the user: status {status}{}{}", second_level.as_deref().map(|s| format!(" / {s}")).unwrap_or_default(), message.as_deref().map(|m| format!(" ({m:?})")).unwrap_or_default())]
    Status {
        /// The top-level status code URI.
        status: String,
        /// The second-level status code URI, when given (e.g. `...:status:AuthnFailed`).
        second_level: Option<String>,
        /// The IdP's `StatusMessage`, when given (e.g. "User is not assigned to this application").
        message: Option<String>,
    },
    /// The Response does not contain exactly one assertion.
    #[error("the Response must contain exactly one Assertion, it contains {found} (assertions inside other elements included)")]
    AssertionCount {
        /// How many were found.
        found: usize,
    },
    /// The assertion is encrypted and no SP decryption key is configured.
    #[error("the assertion is encrypted (EncryptedAssertion) but this SP has no decryption key: configure the SP's encryption key (ResponseValidator::with_decryption_key), or turn off assertion encryption in the IdP's application settings")]
    EncryptedAssertion,
    /// The NameID is encrypted (`EncryptedID`) and no decryption key is configured.
    #[error("the NameID is encrypted (EncryptedID) but this SP has no decryption key: configure the SP's encryption key (with_decryption_key on the ResponseValidator or LogoutValidator that refused it), or turn off NameID encryption in the IdP's application settings")]
    EncryptedNameId,
    /// The encrypted assertion could not be decrypted.
    #[error("the encrypted content (EncryptedAssertion or EncryptedID) cannot be used: {0}")]
    Decryption(XmlEncError),
    /// A signature is present but does not verify.
    #[error("the {part} signature is not valid: {source}")]
    Signature {
        /// Which element's signature.
        part: SignedPart,
        /// Why it failed (which key signed vs which are pinned, the algorithm, the digest...).
        source: VerifyError,
    },
    /// The signatures the SP requires are absent.
    #[error("the SP requires {required}, but the Response {}; enable signing in the IdP's application settings (JumpCloud: \"Sign Assertion\" / \"Sign Response\")", unsigned_found(*required, *response_signed, *assertion_signed))]
    Unsigned {
        /// What the SP requires.
        required: SigningRequirement,
        /// Whether the Response carried a (valid) signature.
        response_signed: bool,
        /// Whether the Assertion carried a (valid) signature.
        assertion_signed: bool,
    },
    /// The Issuer is not the configured IdP entity ID.
    #[error("the {part} Issuer is {}, but this connection expects the IdP entity ID {expected:?}; check the IdP Entity ID copied from the IdP's console", or_absent(found))]
    Issuer {
        /// Which element's Issuer.
        part: SignedPart,
        /// The configured IdP entity ID.
        expected: String,
        /// What arrived.
        found: Option<String>,
    },
    /// `Destination` is not one of this SP's ACS URLs.
    #[error("the Response was sent to {}, but this SP's ACS URL is {}; set the ACS URL in the IdP's application settings to this SP's ACS URL", or_absent(found), expected.join(" or "))]
    Destination {
        /// This SP's ACS URLs.
        expected: Vec<String>,
        /// The Response's `Destination` (absent on a signed Response, which requires one).
        found: Option<String>,
    },
    /// `InResponseTo` does not match the request this login started with.
    #[error(
        "the Response answers request {}, but this login started with request {}",
        or_absent(found),
        or_absent(expected)
    )]
    InResponseTo {
        /// The request ID the SP sent (`None` for an IdP-initiated login).
        expected: Option<String>,
        /// What the Response (or its SubjectConfirmationData) carries.
        found: Option<String>,
    },
    /// An IdP-initiated (unsolicited) Response arrived, and they are not allowed.
    #[error("the Response is IdP-initiated (no InResponseTo), and this connection does not allow IdP-initiated logins; start the login from the SP, or allow unsolicited responses")]
    Unsolicited,
    /// No bearer `SubjectConfirmation` satisfied the checks.
    #[error("no bearer SubjectConfirmation is acceptable: {}", reasons.join("; "))]
    SubjectConfirmation {
        /// Why each candidate was refused.
        reasons: Vec<String>,
    },
    /// The assertion is not valid yet.
    #[error("the assertion is not valid before {} and it is now {} (clock skew allowed: {skew_seconds} s); check the clocks of the SP and the IdP", show(*not_before), show(*now))]
    NotYetValid {
        /// `Conditions/@NotBefore`.
        not_before: DateTime<Utc>,
        /// The time the caller passed.
        now: DateTime<Utc>,
        /// The allowed skew.
        skew_seconds: i64,
    },
    /// The assertion (or its subject confirmation, or its session) has expired.
    #[error("the {what} expired at {} and it is now {} (clock skew allowed: {skew_seconds} s); it arrived too late (the browser took too long, or the message was held back) or the clocks of the SP and the IdP differ", show(*not_on_or_after), show(*now))]
    Expired {
        /// What expired.
        what: &'static str,
        /// The expiry.
        not_on_or_after: DateTime<Utc>,
        /// The time the caller passed.
        now: DateTime<Utc>,
        /// The allowed skew.
        skew_seconds: i64,
    },
    /// The audience restriction does not name this SP.
    #[error("the assertion is meant for {}, but this SP's entity ID is {expected:?}; set the SP Entity ID (Audience) in the IdP's application settings to this SP's entity ID", if found.is_empty() { "no audience".to_owned() } else { found.iter().map(|a| format!("{a:?}")).collect::<Vec<_>>().join(", ") })]
    Audience {
        /// This SP's entity ID.
        expected: String,
        /// The audiences of the failing `AudienceRestriction`.
        found: Vec<String>,
    },
    /// The signing certificate is outside its validity period, and the SP enforces validity.
    #[error("the IdP signing certificate {fingerprint} is valid from {} to {}, and it is now {}; pin the IdP's current certificate", show(*not_before), show(*not_after), show(*now))]
    CertificateOutsideValidity {
        /// The certificate.
        fingerprint: Fingerprint,
        /// Validity start.
        not_before: DateTime<Utc>,
        /// Validity end.
        not_after: DateTime<Utc>,
        /// The time the caller passed.
        now: DateTime<Utc>,
    },
    /// The request this Response answers was already answered by another accepted Response.
    #[error("request {id:?} was already answered by another Response; each login request completes once (start the login again)")]
    RequestAlreadyAnswered {
        /// The request ID.
        id: String,
    },
    /// The Response answers a login request that was not started in the browser that posted
    /// it: the login cookie of [`flow::LoginFlow`](crate::flow::LoginFlow) is missing,
    /// malformed, or belongs to another login. Refused so that nobody can log a user into
    /// someone else's account by making their browser post a Response (login CSRF, session
    /// swapping).
    #[error("the Response answers login request {request:?}, but {}; the login is refused because a Response is accepted only in the browser that started its login (otherwise anyone could make a victim's browser post a Response and log the victim into the attacker's account: login CSRF / session swapping). If real users see this, the login cookie did not come back with the IdP's POST: check that it is set exactly as fedkit_saml::flow::LoginCookie formats it (HttpOnly; Secure; SameSite=None, since the IdP's POST is cross-site; Path covering the ACS URL), that the site is served over https, that the login was started on the same host name as the ACS URL, and that the user finished within the cookie's Max-Age; a login started in another tab in the meantime replaces the cookie (start the login again)", cookie.describe())]
    LoginNotStartedHere {
        /// The request the Response answers (its signed `InResponseTo`).
        request: String,
        /// What was wrong with the login cookie.
        cookie: CookieProblem,
    },
    /// The assertion was already used.
    #[error("assertion {id:?} was already used (replay); each SAML assertion can log in only once")]
    Replay {
        /// The assertion ID.
        id: String,
    },
    /// The replay cache refused to store the assertion ID.
    #[error("the replay cache is full ({capacity} assertions); the login is refused rather than accepted unchecked")]
    ReplayCacheFull {
        /// The cache's capacity.
        capacity: usize,
    },
    /// The request-ID store refused to remember a new AuthnRequest.
    #[error("the store of outstanding login requests is full ({capacity} requests); the login cannot start until some complete or expire")]
    RequestStoreFull {
        /// The store's capacity.
        capacity: usize,
    },
    /// The shared replay cache (e.g. a database) could not be reached or failed; the login is
    /// refused rather than accepted without the replay check.
    #[error("the replay cache could not record the assertion ({detail}); logins are refused until it is reachable again, rather than accepted without the replay check: check the database the SP nodes share")]
    ReplayStoreUnavailable {
        /// What failed (the store's message, without credentials).
        detail: String,
    },
    /// The shared store of outstanding login requests could not be reached or failed.
    #[error("the store of outstanding login requests could not remember the request ({detail}); logins cannot start until it is reachable again: check the database the SP nodes share")]
    RequestStoreUnavailable {
        /// What failed (the store's message, without credentials).
        detail: String,
    },
    /// The Response names a request in its `InResponseTo`, but no signature covers that
    /// value (the Response is unsigned and the signed assertion's bearer
    /// `SubjectConfirmationData` carries no `InResponseTo`), and IdP-initiated logins are
    /// not allowed. SAML Profiles §4.1.4.2 / §4.1.4.3.
    #[error("the Response says it answers request {found:?}, but no signature covers that claim: the Response itself is unsigned and the signed assertion's SubjectConfirmationData has no InResponseTo, so nothing the IdP signed ties this login to a request the SP started. Such a Response is IdP-initiated, and this connection does not allow IdP-initiated logins; sign the Response in the IdP's application settings (JumpCloud: \"Sign Response\"), or use an IdP that puts InResponseTo in the signed assertion")]
    InResponseToNotSigned {
        /// The unsigned Response's `InResponseTo`.
        found: String,
    },
    /// The signed Response's `InResponseTo` and the signed assertion's bearer
    /// `SubjectConfirmationData/@InResponseTo` name different requests. SAML Profiles
    /// §4.1.4.2.
    #[error("the Response answers request {response:?} but its assertion's SubjectConfirmationData answers request {confirmation:?}; both must name the request this login started with (the IdP built the Response from two different logins)")]
    InResponseToDisagree {
        /// The signed Response's `InResponseTo`.
        response: String,
        /// The signed `SubjectConfirmationData/@InResponseTo`.
        confirmation: String,
    },
    /// The signed `InResponseTo` names no request that is outstanding in the
    /// [`RequestStore`](crate::RequestStore): it expired, was already answered, or was never
    /// started by this SP.
    #[error("the Response answers request {found:?}, which is not an outstanding login request of this SP (it expired, was already answered, or was started elsewhere); start the login again")]
    RequestNotOutstanding {
        /// The signed `InResponseTo`.
        found: String,
    },
    /// The assertion has no `AuthnStatement`. SAML Profiles §4.1.4.2: the bearer assertions
    /// of a Web SSO Response must say how the user authenticated.
    #[error("the assertion has no AuthnStatement, so it does not say that the user authenticated at the IdP; the Web Browser SSO profile requires one. The IdP sent an attribute-only assertion: check that the application in the IdP is a SAML SSO application")]
    NoAuthnStatement,
    /// The assertion has no `AudienceRestriction` (or no `Conditions` at all). SAML Profiles
    /// §4.1.4.2: a bearer assertion must be restricted to this SP.
    #[error("the assertion has no AudienceRestriction{}, so it is not restricted to this SP and could have been issued to any other application of the IdP; set the SP Entity ID (Audience) in the IdP's application settings to {expected:?}", if *conditions_present { "" } else { " (it has no Conditions at all)" })]
    NoAudienceRestriction {
        /// This SP's entity ID.
        expected: String,
        /// Whether the assertion had a `Conditions` element.
        conditions_present: bool,
    },
    /// An `Issuer` has a `Format` other than the entity format. SAML Profiles §4.1.4.2.
    #[error("the {part} Issuer has Format {format:?}; an IdP's Issuer must be its entity ID, with no Format or urn:oasis:names:tc:SAML:2.0:nameid-format:entity")]
    IssuerFormat {
        /// Which element's Issuer.
        part: SignedPart,
        /// The `Format` found.
        format: String,
    },
    /// The Response has no `Issuer` although it is signed or carries an encrypted assertion.
    /// SAML Profiles §4.1.4.2.
    #[error("the Response has no Issuer, but a {} must name its issuer; this connection expects the IdP entity ID {expected:?}", if *encrypted { "Response carrying an EncryptedAssertion" } else { "signed Response" })]
    ResponseIssuerMissing {
        /// The configured IdP entity ID.
        expected: String,
        /// `true` when the Issuer is required because the assertion is encrypted (else
        /// because the Response is signed).
        encrypted: bool,
    },
    /// The message or assertion is not SAML 2.0 (`Version` is not `"2.0"`). SAML Core §3.2.1,
    /// §2.3.3.
    #[error("the {element} has Version {}, but only SAML 2.0 (Version=\"2.0\") is supported; configure the IdP application for SAML 2.0", or_absent(found))]
    Version {
        /// `Response`, `Assertion`, `LogoutRequest` or `LogoutResponse`.
        element: &'static str,
        /// The `Version` found.
        found: Option<String>,
    },
    /// The assertion's `Conditions` hold a condition this SP does not understand, so the
    /// assertion's validity is Indeterminate. SAML Core §2.5.1.
    #[error("the assertion's Conditions contain {condition}, which this SP does not understand; SAML says such an assertion is not valid. Remove the extra condition from the IdP's application settings")]
    ConditionNotUnderstood {
        /// The condition, as `{namespace}name` (with its `xsi:type` for a generic `Condition`).
        condition: String,
    },
    /// The `IssueInstant` lies further in the future than the clock skew allows.
    #[error("the {part} was issued at {} but it is now {} (clock skew allowed: {skew_seconds} s); the IdP's clock is ahead of the SP's: check both clocks (NTP)", show(*issue_instant), show(*now))]
    IssuedInTheFuture {
        /// The message or the Assertion.
        part: SignedPart,
        /// Its `IssueInstant`.
        issue_instant: DateTime<Utc>,
        /// The time the caller passed.
        now: DateTime<Utc>,
        /// The allowed skew.
        skew_seconds: i64,
    },
    /// A logout message has no `Destination`, or one that is not this SP's Single Logout URL
    /// (SAML Core §3.2.1/§3.2.2; a signed message must carry it: Bindings §3.4.5.2, §3.5.5.2).
    #[error("{}", match found {
        None => format!("the signed {message} has no Destination attribute; SAML requires a signed logout message to name the URL it was sent to, here this SP's Single Logout URL {expected:?}: the IdP is not following the SAML bindings (check its Single Logout settings, or ask its vendor)"),
        Some(found) => format!("the {message} was sent to {found:?}, but this SP's Single Logout URL is {expected:?}; in the IdP's application settings, set the SP's Single Logout URL (the \"SLO URL\" or \"Single Logout URL\" field) to {expected:?}"),
    })]
    LogoutDestination {
        /// `LogoutRequest` or `LogoutResponse`.
        message: &'static str,
        /// This SP's Single Logout URL.
        expected: String,
        /// The message's `Destination`.
        found: Option<String>,
    },
    /// The `IssueInstant` is older than the message lifetime (plus the clock skew).
    #[error("the {part} was issued at {} and it is now {}: older than the message lifetime of {lifetime_seconds} s (clock skew allowed: {skew_seconds} s). A SAML message is used right after the IdP issues it: this one was replayed, held back, or the clocks differ", show(*issue_instant), show(*now))]
    MessageTooOld {
        /// The message or the Assertion.
        part: SignedPart,
        /// Its `IssueInstant`.
        issue_instant: DateTime<Utc>,
        /// The time the caller passed.
        now: DateTime<Utc>,
        /// [`Settings::with_message_lifetime`](crate::Settings::with_message_lifetime).
        lifetime_seconds: u32,
        /// The allowed skew.
        skew_seconds: i64,
    },
    /// A LogoutResponse arrived, but the SP has no LogoutRequest outstanding.
    #[error("a LogoutResponse arrived (answering request {}), but no logout started by this SP is waiting for an answer: the logout already completed, expired, or was never started here; start the logout from the SP again", or_absent(found))]
    UnexpectedLogoutResponse {
        /// The response's `InResponseTo`.
        found: Option<String>,
    },
    /// A LogoutResponse does not answer the SP's outstanding LogoutRequest.
    #[error("the LogoutResponse answers request {}, but this SP's logout is waiting for the answer to request {expected:?}; the answer belongs to another logout (start the logout again)", or_absent(found))]
    LogoutInResponseTo {
        /// The ID of the SP's outstanding LogoutRequest.
        expected: String,
        /// The response's `InResponseTo`.
        found: Option<String>,
    },
    /// A LogoutRequest does not name the user with exactly one `BaseID`, `NameID` or
    /// `EncryptedID` (SAML Core §3.7.1), or names them with a `BaseID`, which this SP does not
    /// support.
    #[error("{}", match found.as_slice() {
        [] => "the LogoutRequest does not say which user to log out: it must carry one NameID (or EncryptedID), and it carries none".to_owned(),
        [one] if one == "BaseID" => "the LogoutRequest names the user with a BaseID, which this SP does not support; configure the IdP to send a NameID (e.g. emailAddress or persistent format)".to_owned(),
        many => format!("the LogoutRequest must name the user with exactly one of BaseID, NameID or EncryptedID, and it carries {}", many.join(", ")),
    })]
    LogoutIdentifier {
        /// The identifier elements found (local names, in document order).
        found: Vec<String>,
    },
    /// A persistent NameID's `NameQualifier` or `SPNameQualifier` names another IdP or SP
    /// (SAML Core §8.3.7).
    #[error("the LogoutRequest's persistent NameID has {attribute} {found:?}, but this connection's {} is {expected:?}: the identifier was issued by or for another party, so it cannot name a user of this connection; check the IdP and SP entity IDs on both sides", if *attribute == "NameQualifier" { "IdP entity ID" } else { "SP entity ID" })]
    NameQualifier {
        /// `NameQualifier` or `SPNameQualifier`.
        attribute: &'static str,
        /// The IdP (for `NameQualifier`) or SP (for `SPNameQualifier`) entity ID.
        expected: String,
        /// What arrived.
        found: String,
    },
    /// An HTTP-Redirect logout message carries an XML signature inside the message, which the
    /// binding forbids (SAML Bindings §3.4.4.1: it must be removed; the query is signed).
    #[error("the {message} arrived over HTTP-Redirect with an XML signature inside the message; that binding signs the query string and the XML signature must be removed before encoding, so the message is refused rather than guessing which signature counts; the IdP is not following the SAML bindings (use its HTTP-POST binding for the SP's Single Logout URL)")]
    RedirectXmlSignature {
        /// `LogoutRequest` or `LogoutResponse`.
        message: &'static str,
    },
    /// A logout message's `SAMLRequest`/`SAMLResponse` (or its `Signature` query parameter)
    /// is not base64: [`Error::Base64`]'s condition, worded for the Single Logout URL.
    #[error("the logout message's {parameter} value is not valid base64 ({reason}); the IdP must base64-encode logout messages as its binding (HTTP-POST or HTTP-Redirect) requires")]
    LogoutBase64 {
        /// `SAMLRequest/SAMLResponse` or `Signature`.
        parameter: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A logout message is not acceptable XML: [`Error::Xml`]'s condition, worded for the
    /// Single Logout URL.
    #[error("the logout message is not acceptable XML: {0}")]
    LogoutXml(ParseError),
    /// What arrived at the Single Logout URL is not a `LogoutRequest` or `LogoutResponse`.
    #[error("expected a SAML 2.0 LogoutRequest or LogoutResponse at this SP's Single Logout URL, found {found}; only logout messages belong there (the IdP posts login Responses to the ACS URL): check the Single Logout URL in the IdP's application settings")]
    NotALogoutMessage {
        /// What the root element is.
        found: String,
    },
    /// A logout message arrived unsigned (SAML Profiles §4.4.4.1, §4.4.4.2).
    #[error("the {message} arrived over {binding} without a signature; this SP accepts only signed logout messages, since an unsigned one would let anyone end users' sessions: turn on signing of Single Logout messages in the IdP's application settings")]
    UnsignedLogout {
        /// `LogoutRequest`, `LogoutResponse`, or `logout message` when not known yet.
        message: &'static str,
        /// `HTTP-POST` or `HTTP-Redirect`.
        binding: &'static str,
    },
    /// The message is UTF-16 encoded: the decoded `SAMLResponse` (or the XML given), or the
    /// form value itself.
    #[error("{}, but SAML messages here must be UTF-8; {}", if *form_value { "the SAMLResponse form value is UTF-16 text (a NUL byte beside every character)" } else { "the SAML Response is UTF-16 encoded XML" }, if *form_value { "post (or save) the base64 value as UTF-8 text" } else { "have the IdP, or the tool that produced the file, encode the Response as UTF-8" })]
    Utf16Encoded {
        /// Whether the form value itself is UTF-16 text (else: the XML it decodes to).
        form_value: bool,
    },
    /// The `SAMLResponse` is DEFLATE-compressed, the HTTP-Redirect binding's encoding, but it
    /// arrived at the HTTP-POST Assertion Consumer Service.
    #[error("the SAMLResponse is DEFLATE-compressed: that is the HTTP-Redirect binding's encoding, but it was posted to this SP's HTTP-POST Assertion Consumer Service. The IdP's ACS binding is set to HTTP-Redirect, and SAML Responses must use HTTP-POST: set the ACS (SAML Response) binding to HTTP-POST in the IdP's application settings")]
    RedirectBindingEncoding,
    /// The signatures the SP requires are absent, and a `ds:Signature` sits where no
    /// signature may be (anywhere but as a direct child of the Response or the Assertion).
    #[error("the SP requires {required}, but the Response carries a ds:Signature inside {} ({path}), where no signature may be: signatures belong only as a direct child of the Response or of the Assertion, so this one was not checked and signs nothing; configure the IdP to sign the Response or the Assertion (JumpCloud: \"Sign Assertion\" / \"Sign Response\")", path.rsplit('/').next().unwrap_or_default())]
    MisplacedSignature {
        /// Where the stray signature is: the local names of its parent and that parent's
        /// ancestors, from the root (`/Response/Assertion/Subject`).
        path: String,
        /// What the SP requires.
        required: SigningRequirement,
    },
    /// A `ds:RetrievalMethod` of the `EncryptedAssertion` names its `EncryptedKey` somewhere
    /// other than beside the `EncryptedData` in the `EncryptedAssertion` (SAML Core §6.2):
    /// inside the Response's own signature (which covers nothing of itself), elsewhere in the
    /// document, nowhere, or ambiguously. SAML Profiles §4.1.3.5.
    #[error("the EncryptedAssertion's ds:RetrievalMethod URI {uri:?} {problem}; the key that decrypts the assertion must be an xenc:EncryptedKey inside the EncryptedAssertion (in the EncryptedData's KeyInfo, or beside the EncryptedData){}", if *response_signed { ", where the Response signature covers it" } else { "" })]
    EncryptedKeyReference {
        /// The `URI` of the `RetrievalMethod`, as written.
        uri: String,
        /// What the URI names, and why that is refused.
        problem: String,
        /// Whether the Response is signed.
        response_signed: bool,
    },
    /// The Response does not contain exactly one assertion, and some of those it contains
    /// are encrypted.
    #[error("the Response must contain exactly one assertion (an Assertion or an EncryptedAssertion), but it contains {} (assertions inside other elements included)", assertion_kinds(*assertions, *encrypted))]
    AssertionKinds {
        /// How many `Assertion` elements.
        assertions: usize,
        /// How many `EncryptedAssertion` elements.
        encrypted: usize,
    },
}

/// What was wrong with the login cookie, for [`Error::LoginNotStartedHere`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CookieProblem {
    /// The browser sent no login cookie with the Response.
    Missing,
    /// The cookie is not a value [`flow::LoginFlow::start`](crate::flow::LoginFlow::start)
    /// issues (wrong length or characters).
    Malformed,
    /// The cookie is one the flow issued, but for another login request.
    OtherLogin,
    /// The request was remembered without a browser binding (started with
    /// [`RequestStore::remember`](crate::RequestStore::remember), not by the flow).
    RequestNotBound,
}

impl CookieProblem {
    fn describe(self) -> &'static str {
        match self {
            CookieProblem::Missing => "the browser that posted it sent no login cookie",
            CookieProblem::Malformed => "the login cookie the browser sent is not one fedkit issued (malformed)",
            CookieProblem::OtherLogin => "the login cookie the browser sent belongs to another login request",
            CookieProblem::RequestNotBound => "that request was remembered without a browser binding (RequestStore::remember rather than LoginFlow::start), so no browser can prove it started it",
        }
    }
}

/// What the Response signs, for [`Error::Unsigned`]: "signs only the Response" is said only
/// when the SP asked for more than that, never beside "a signed Response" as the requirement.
fn unsigned_found(
    required: SigningRequirement,
    response_signed: bool,
    assertion_signed: bool,
) -> &'static str {
    match (response_signed, assertion_signed) {
        (false, false) => "is not signed at all (neither the Response nor the Assertion carries a signature)",
        (true, false)
            if matches!(
                required,
                SigningRequirement::Either | SigningRequirement::Response
            ) =>
        {
            "signature does not cover the assertion"
        }
        (true, false) => "signs only the Response, not the Assertion",
        (false, true) => "signs only the Assertion, not the Response",
        (true, true) => "signs both",
    }
}

/// "one Assertion and two EncryptedAssertion elements".
fn assertion_kinds(assertions: usize, encrypted: usize) -> String {
    fn count(n: usize, name: &str) -> Option<String> {
        let number = match n {
            0 => return None,
            1 => return Some(format!("one {name}")),
            2 => "two".to_owned(),
            3 => "three".to_owned(),
            n => n.to_string(),
        };
        Some(format!("{number} {name} elements"))
    }
    let parts: Vec<String> = [
        count(assertions, "Assertion"),
        count(encrypted, "EncryptedAssertion"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        "none".to_owned()
    } else {
        parts.join(" and ")
    }
}

impl Error {
    /// A [`ReplayCache`](crate::ReplayCache) that could not answer.
    pub(crate) fn replay_store(e: crate::replay::StoreError) -> Self {
        match e {
            crate::replay::StoreError::Full { capacity } => Error::ReplayCacheFull { capacity },
            crate::replay::StoreError::Unavailable { detail } => Error::ReplayStoreUnavailable { detail },
        }
    }

    /// A [`RequestStore`](crate::RequestStore) that could not answer.
    pub(crate) fn request_store(e: crate::replay::StoreError) -> Self {
        match e {
            crate::replay::StoreError::Full { capacity } => Error::RequestStoreFull { capacity },
            crate::replay::StoreError::Unavailable { detail } => Error::RequestStoreUnavailable { detail },
        }
    }
}

impl Error {
    /// A stable `snake_case` code for logs, metrics and API responses.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Base64 { .. } => "bad_base64",
            Error::TooLarge { .. } => "too_large",
            Error::Xml(e) => e.code(),
            Error::NotAResponse { .. } => "not_a_response",
            Error::Malformed { .. } => "malformed",
            Error::Status { .. } => "status_not_success",
            Error::AssertionCount { .. } => "assertion_count",
            Error::EncryptedAssertion | Error::EncryptedNameId => "no_decryption_key",
            // The signature and decryption layers own their codes: one spelling per
            // condition, whichever crate reports it.
            Error::Decryption(e) => e.code(),
            Error::Signature { source, .. } => source.code(),
            Error::Unsigned { .. } => "unsigned",
            Error::EncryptedKeyReference { .. } => "encrypted_key_reference",
            Error::Issuer { .. } => "issuer_mismatch",
            Error::Destination { .. } => "destination_mismatch",
            Error::InResponseTo { .. } => "in_response_to_mismatch",
            Error::Unsolicited => "unsolicited",
            Error::SubjectConfirmation { .. } => "subject_confirmation",
            Error::NotYetValid { .. } => "not_yet_valid",
            Error::Expired { .. } => "expired",
            Error::Audience { .. } => "audience_mismatch",
            Error::Replay { .. } => "replay",
            Error::LoginNotStartedHere { .. } => "login_not_started_here",
            Error::RequestAlreadyAnswered { .. } => "request_already_answered",
            Error::CertificateOutsideValidity { .. } => "certificate_outside_validity",
            Error::ReplayCacheFull { .. } => "replay_cache_full",
            Error::RequestStoreFull { .. } => "request_store_full",
            Error::ReplayStoreUnavailable { .. } => "replay_store_unavailable",
            Error::RequestStoreUnavailable { .. } => "request_store_unavailable",
            Error::InResponseToNotSigned { .. } => "in_response_to_unsigned",
            Error::InResponseToDisagree { .. } => "in_response_to_disagree",
            Error::RequestNotOutstanding { .. } => "request_not_outstanding",
            Error::NoAuthnStatement => "authn_statement_missing",
            Error::NoAudienceRestriction { .. } => "audience_restriction_missing",
            Error::IssuerFormat { .. } => "issuer_format",
            Error::ResponseIssuerMissing { .. } => "issuer_missing",
            Error::Version { .. } => "version_unsupported",
            Error::ConditionNotUnderstood { .. } => "condition_not_understood",
            Error::IssuedInTheFuture { .. } => "issued_in_the_future",
            Error::MessageTooOld { .. } => "message_too_old",
            Error::LogoutDestination { found: None, .. } => "destination_missing",
            Error::LogoutDestination { found: Some(_), .. } => "destination_mismatch",
            Error::UnexpectedLogoutResponse { .. } => "logout_response_unexpected",
            Error::LogoutInResponseTo { .. } => "in_response_to_mismatch",
            Error::LogoutIdentifier { .. } => "logout_identifier",
            Error::NameQualifier { .. } => "name_qualifier_mismatch",
            Error::RedirectXmlSignature { .. } => "redirect_xml_signature",
            Error::UnsignedLogout { .. } => "unsigned",
            // The same conditions as `Base64` and `Xml`: the same codes.
            Error::LogoutBase64 { .. } => "bad_base64",
            Error::LogoutXml(e) => e.code(),
            Error::NotALogoutMessage { .. } => "not_a_logout_message",
            Error::Utf16Encoded { .. } => "utf16_encoded",
            Error::RedirectBindingEncoding => "wrong_binding",
            Error::MisplacedSignature { .. } => "signature_misplaced",
            Error::AssertionKinds { .. } => "assertion_count",
        }
    }

    /// For [`Error::Signature`] failures by an unpinned key: the SHA-256 fingerprint of the
    /// certificate the Response carried and of every pinned one, for the admin to compare
    /// with the IdP console.
    pub fn fingerprints(&self) -> Option<(Option<Fingerprint>, String)> {
        match self {
            Error::Signature {
                source:
                    VerifyError::SignatureInvalid {
                        keyinfo_certificate,
                        pinned,
                        ..
                    },
                ..
            } => Some((*keyinfo_certificate, fingerprints(pinned))),
            _ => None,
        }
    }
}

/// Why a configuration value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required value is empty.
    #[error("{field} is empty")]
    Empty {
        /// The field.
        field: &'static str,
    },
    /// A pasted certificate cannot be used.
    #[error("certificate {index}: {reason}; paste the whole certificate as downloaded from the IdP (JumpCloud: SSO tab, \"Download certificate\")")]
    Certificate {
        /// Which one (1-based).
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// A setting is beyond the range fedkit accepts.
    #[error("the {field} is {value}, but fedkit accepts at most {max}")]
    OutOfRange {
        /// The setting.
        field: &'static str,
        /// What was asked.
        value: String,
        /// The most accepted.
        max: String,
    },
    /// A value does not have the form the setting needs.
    #[error("the {field} {value:?} cannot be used: it must be {expected}")]
    Invalid {
        /// The setting.
        field: &'static str,
        /// What was given.
        value: String,
        /// What it must be.
        expected: &'static str,
    },
    /// A URL is not an absolute `https` or `http` URL.
    #[error("{field} must be an absolute https:// (or http://) URL, got {value:?}")]
    Url {
        /// The field.
        field: &'static str,
        /// What was given.
        value: String,
    },
}

impl ConfigError {
    /// A stable `snake_case` code for logs, metrics and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            ConfigError::Empty { .. } => "config_empty",
            ConfigError::Certificate { .. } => "bad_certificate",
            ConfigError::Url { .. } => "bad_url",
            ConfigError::OutOfRange { .. } => "setting_out_of_range",
            ConfigError::Invalid { .. } => "setting_invalid",
        }
    }
}
