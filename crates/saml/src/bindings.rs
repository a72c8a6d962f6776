//! The SAML 2.0 bindings that carry messages through a browser, in one place: HTTP-Redirect
//! (SAML Bindings §3.4: raw DEFLATE, base64, URL-encoding, and the query-string signature of
//! §3.4.4.1) and HTTP-POST (§3.5: base64 in an auto-submitting HTML form), plus the text
//! helpers they need (percent-encoding, XML/HTML escaping).
//!
//! AuthnRequests ([`crate::request`]), Single Logout ([`crate::logout`]) and the fedkit CLI's
//! test IdP all go through this module, so the Redirect-binding signature check exists once:
//! [`RedirectMessage::verify`] checks the signature over the octets exactly as they arrived
//! in the query (`SAMLRequest=…&RelayState=…&SigAlg=…`, §3.4.4.1), never over a re-encoding.
//!
//! ```
//! use fedkit_saml::bindings::{self, RedirectMessage};
//! let bye = bindings::RelayState::new("/bye")?;
//! let url = bindings::redirect_url("https://idp.example/slo", "SAMLRequest", "<samlp:LogoutRequest/>", Some(bye));
//! let (_, query) = url.split_once('?').unwrap();
//! let message = RedirectMessage::parse(query)?;
//! assert_eq!(message.parameter(), "SAMLRequest");
//! assert_eq!(message.relay_state().as_deref(), Some("/bye"));
//! assert_eq!(message.inflate(1 << 16)?, b"<samlp:LogoutRequest/>");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use base64::Engine as _;
use fedkit_xmldsig::crypto::CryptoProvider;
use fedkit_xmldsig::{Fingerprint, SignatureScheme, SigningKey, Verifier, VerifyError};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

use crate::request::{InflateError, SignError};

/// The HTTP-Redirect binding's DEFLATE encoding, the one `SAMLEncoding` it accepts (SAML
/// Bindings §3.4.4.1; an absent `SAMLEncoding` means this one).
pub const DEFLATE_ENCODING: &str = "urn:oasis:names:tc:SAML:2.0:bindings:URL-Encoding:DEFLATE";

/// The most bytes a `RelayState` may carry (SAML Bindings §3.4.3 for HTTP-Redirect, §3.5.3
/// for HTTP-POST: "MUST NOT exceed 80 bytes in length").
pub const RELAY_STATE_MAX_BYTES: usize = 80;

/// A `RelayState` to send with a SAML message: the only form the encoders here take, so a
/// message this library builds never carries more than the 80 bytes SAML Bindings §3.4.3 and
/// §3.5.3 allow. Keep a long return address on the server and send a short key to it (as
/// [`LoginFlow`](crate::LoginFlow) does: it keeps the host's RelayState in the request store
/// and sends none).
///
/// [`echo`](Self::echo) is the one way around the limit, for the answer to a request: the
/// responder MUST return exactly the RelayState the request came with (§3.4.3, §3.5.3), even
/// when the requester sent more than it should.
///
/// ```
/// use fedkit_saml::bindings::RelayState;
/// assert_eq!(RelayState::new("/dashboard")?.as_str(), "/dashboard");
/// let long = "/reports?".to_owned() + &"x".repeat(80);
/// let refused = RelayState::new(&long).unwrap_err();
/// assert_eq!((refused.code(), refused.length()), ("relay_state_too_long", 89));
/// assert_eq!(RelayState::echo(&long).as_str(), long);
/// # Ok::<(), fedkit_saml::bindings::RelayStateTooLong>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayState<'a>(&'a str);

impl<'a> RelayState<'a> {
    /// A RelayState this side originates (an AuthnRequest's, an SP-initiated
    /// LogoutRequest's): at most [`RELAY_STATE_MAX_BYTES`] bytes.
    pub fn new(value: &'a str) -> Result<Self, RelayStateTooLong> {
        if value.len() > RELAY_STATE_MAX_BYTES {
            return Err(RelayStateTooLong { length: value.len() });
        }
        Ok(Self(value))
    }

    /// The RelayState a request arrived with, returned unchanged with the answer to it
    /// (SAML Bindings §3.4.3, §3.5.3: "exact RelayState data it received"), whatever its
    /// length.
    pub fn echo(received: &'a str) -> Self {
        Self(received)
    }

    /// The value, as it is sent (before URL or HTML encoding).
    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

impl<'a> TryFrom<&'a str> for RelayState<'a> {
    type Error = RelayStateTooLong;

    fn try_from(value: &'a str) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

/// A RelayState longer than SAML Bindings §3.4.3 / §3.5.3 allow for a message this side
/// originates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the RelayState is {length} bytes; SAML Bindings §3.4.3 and §3.5.3 allow at most {RELAY_STATE_MAX_BYTES}, \
     and IdPs may cut or refuse a longer one: keep the return address on the server and send a short key to it"
)]
pub struct RelayStateTooLong {
    length: usize,
}

impl RelayStateTooLong {
    /// The RelayState's length in bytes.
    pub fn length(&self) -> usize {
        self.length
    }

    /// A stable `snake_case` code for logs, metrics and API answers: `relay_state_too_long`.
    pub fn code(&self) -> &'static str {
        "relay_state_too_long"
    }
}

/// What [`percent_encode`] escapes: everything but RFC 3986's unreserved characters.
const QUERY_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a query component: RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`)
/// stay, every other byte of the UTF-8 text becomes `%XX` (upper-case hex).
///
/// ```
/// assert_eq!(fedkit_saml::bindings::percent_encode("a b/+=ü"), "a%20b%2F%2B%3D%C3%BC");
/// ```
pub fn percent_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, QUERY_COMPONENT).to_string()
}

/// Decodes a query or `application/x-www-form-urlencoded` component: `+` is a space, `%XX` a
/// byte; an invalid escape stays as it is, and bytes that are not UTF-8 become U+FFFD.
///
/// ```
/// assert_eq!(fedkit_saml::bindings::percent_decode("a%20b+c%2Fd%zz%"), "a b c/d%zz%");
/// ```
pub fn percent_decode(s: &str) -> String {
    // `+` first, so that an encoded plus (`%2B`) stays a plus.
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// Escapes text for XML or HTML element content and for single- or double-quoted attribute
/// values: `& < > " '` become character references, and so do tab, line feed and carriage
/// return (so attribute-value normalization keeps them).
///
/// ```
/// assert_eq!(fedkit_saml::bindings::escape("<a href='x'>\"&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt;");
/// ```
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            c => out.push(c),
        }
    }
    out
}

/// The value of `SAMLRequest`/`SAMLResponse` in the HTTP-Redirect binding before URL-encoding:
/// the message raw-DEFLATE-compressed (RFC 1951), then base64 (SAML Bindings §3.4.4.1).
pub fn deflate_encode(xml: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(miniz_oxide::deflate::compress_to_vec(xml.as_bytes(), 8))
}

/// Decodes a `SAMLRequest`/`SAMLResponse` value of the HTTP-Redirect binding (already
/// URL-decoded): base64 (white space ignored), then raw DEFLATE, stopping at `max` bytes of
/// output so that a compression bomb costs nothing.
pub fn inflate(value: &str, max: usize) -> Result<Vec<u8>, InflateError> {
    let compact: Vec<u8> = value.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let deflated = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|e| InflateError::Base64(e.to_string()))?;
    miniz_oxide::inflate::decompress_to_vec_with_limit(&deflated, max).map_err(|e| match e.status {
        miniz_oxide::inflate::TINFLStatus::HasMoreOutput => InflateError::TooLarge { max },
        _ => InflateError::Deflate,
    })
}

/// The HTTP-Redirect binding URL for `xml` as `parameter` (`SAMLRequest` or `SAMLResponse`):
/// [`deflate_encode`]d and URL-encoded, then `RelayState` when given; unsigned.
pub fn redirect_url(
    destination: &str,
    parameter: &str,
    xml: &str,
    relay_state: Option<RelayState<'_>>,
) -> String {
    let separator = if destination.contains('?') { '&' } else { '?' };
    format!(
        "{destination}{separator}{}",
        unsigned_query(parameter, xml, relay_state)
    )
}

fn unsigned_query(parameter: &str, xml: &str, relay_state: Option<RelayState<'_>>) -> String {
    let mut query = format!("{parameter}={}", percent_encode(&deflate_encode(xml)));
    if let Some(state) = relay_state {
        query.push_str("&RelayState=");
        query.push_str(&percent_encode(state.as_str()));
    }
    query
}

/// [`redirect_url`] with the query-string signature (SAML Bindings §3.4.4.1): `SigAlg` (the
/// key's default algorithm: RSA-SHA256 for an RSA key, ECDSA-SHA256/384 for an EC key) is
/// appended, the octets `parameter=…[&RelayState=…]&SigAlg=…` exactly as they stand in the
/// query are signed, and the base64 signature follows as `Signature`.
pub fn signed_redirect_url(
    destination: &str,
    parameter: &str,
    xml: &str,
    relay_state: Option<RelayState<'_>>,
    key: &SigningKey,
    provider: &dyn CryptoProvider,
) -> Result<String, SignError> {
    let mut signed = unsigned_query(parameter, xml, relay_state);
    let algorithm = key.default_algorithm();
    signed.push_str("&SigAlg=");
    signed.push_str(&percent_encode(algorithm.uri()));
    let signature = match algorithm.scheme() {
        SignatureScheme::Ecdsa => provider.ecdsa_sign(algorithm, key, signed.as_bytes()),
        _ => provider.rsa_sign(algorithm, key, signed.as_bytes()),
    }
    .map_err(SignError::from_crypto)?;
    let separator = if destination.contains('?') { '&' } else { '?' };
    Ok(format!(
        "{destination}{separator}{signed}&Signature={}",
        percent_encode(&base64::engine::general_purpose::STANDARD.encode(signature))
    ))
}

/// Why an HTTP-Redirect or HTTP-POST binding value could not be taken apart.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BindingError {
    /// A binding parameter appears more than once in the query: which one would count?
    #[error("the query parameter {name} appears more than once; a SAML HTTP-Redirect URL carries each parameter once (check how the IdP or a proxy builds the URL)")]
    DuplicateParameter {
        /// The parameter's name.
        name: &'static str,
    },
    /// The query carries both `SAMLRequest` and `SAMLResponse`.
    #[error(
        "the query carries both SAMLRequest and SAMLResponse; an HTTP-Redirect URL carries one SAML message"
    )]
    BothMessages,
    /// The query carries no SAML message.
    #[error("the query has no SAMLRequest or SAMLResponse parameter: this is not a SAML HTTP-Redirect URL")]
    MissingMessage,
    /// The query carries neither `SigAlg` nor `Signature`.
    #[error("the {parameter} arrived over HTTP-Redirect without a query signature (no SigAlg and Signature parameters); turn on signing of these messages at the sender")]
    Unsigned {
        /// `SAMLRequest` or `SAMLResponse`.
        parameter: &'static str,
    },
    /// The query carries only one of `SigAlg` and `Signature`.
    #[error("the query has {present} but no {missing}: a signed HTTP-Redirect message needs both")]
    HalfSigned {
        /// The parameter given.
        present: &'static str,
        /// The parameter missing.
        missing: &'static str,
    },
    /// The `Signature` parameter is not base64.
    #[error(
        "the Signature parameter is not base64 ({reason}); it must be the URL-encoded base64 signature value"
    )]
    SignatureBase64 {
        /// What is wrong.
        reason: String,
    },
    /// The query signature does not verify.
    #[error("the query signature does not verify: {0}")]
    Signature(VerifyError),
    /// `SAMLEncoding` names an encoding other than DEFLATE.
    #[error("SAMLEncoding {found:?} is not supported, only DEFLATE ({DEFLATE_ENCODING})")]
    Encoding {
        /// The encoding named.
        found: String,
    },
    /// The message value could not be decoded.
    #[error("{parameter}: {source}")]
    Inflate {
        /// `SAMLRequest` or `SAMLResponse`.
        parameter: &'static str,
        /// Why.
        source: InflateError,
    },
    /// An HTTP-POST value is larger than allowed.
    #[error(
        "the {parameter} value is about {actual} bytes once decoded, more than the limit of {max} bytes"
    )]
    TooLarge {
        /// `SAMLRequest` or `SAMLResponse`.
        parameter: &'static str,
        /// The limit.
        max: usize,
        /// The size (estimated from the base64 length, before decoding).
        actual: usize,
    },
    /// An HTTP-POST value is not base64.
    #[error("the {parameter} value is not valid base64 ({reason}); HTTP-POST carries the message base64-encoded, not compressed")]
    Base64 {
        /// `SAMLRequest` or `SAMLResponse`.
        parameter: &'static str,
        /// What is wrong.
        reason: String,
    },
}

impl BindingError {
    /// A stable `snake_case` code for logs, metrics and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            BindingError::DuplicateParameter { .. } => "duplicate_parameter",
            BindingError::BothMessages => "both_messages",
            BindingError::MissingMessage => "missing_parameter",
            BindingError::Unsigned { .. } => "unsigned",
            BindingError::HalfSigned { .. } => "half_signed",
            BindingError::SignatureBase64 { .. } => "bad_base64",
            BindingError::Signature(source) => source.code(),
            BindingError::Encoding { .. } => "unsupported_encoding",
            BindingError::Inflate { source, .. } => source.code(),
            BindingError::TooLarge { .. } => "too_large",
            BindingError::Base64 { .. } => "bad_base64",
        }
    }
}

/// An HTTP-Redirect binding message as received: the binding's parameters of a raw query
/// string (everything after `?`, still URL-encoded), each kept exactly as it arrived so that
/// the query signature is checked over the received octets (SAML Bindings §3.4.4.1). Other
/// parameters are ignored; a binding parameter given twice is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectMessage<'q> {
    parameter: &'static str,
    value: &'q str,
    relay_state: Option<&'q str>,
    sig_alg: Option<&'q str>,
    signature: Option<&'q str>,
    encoding: Option<&'q str>,
}

impl<'q> RedirectMessage<'q> {
    /// Takes the binding's parameters out of `query`.
    pub fn parse(query: &'q str) -> Result<Self, BindingError> {
        let mut message: Option<(&'static str, &'q str)> = None;
        let mut relay_state = None;
        let mut sig_alg = None;
        let mut signature = None;
        let mut encoding = None;
        for pair in query.split('&') {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let (name, slot): (&'static str, &mut Option<&'q str>) = match name {
                "SAMLRequest" | "SAMLResponse" => {
                    let name = if name == "SAMLRequest" {
                        "SAMLRequest"
                    } else {
                        "SAMLResponse"
                    };
                    match message {
                        Some((first, _)) if first == name => {
                            return Err(BindingError::DuplicateParameter { name })
                        }
                        Some(_) => return Err(BindingError::BothMessages),
                        None => message = Some((name, value)),
                    }
                    continue;
                }
                "RelayState" => ("RelayState", &mut relay_state),
                "SigAlg" => ("SigAlg", &mut sig_alg),
                "Signature" => ("Signature", &mut signature),
                "SAMLEncoding" => ("SAMLEncoding", &mut encoding),
                _ => continue,
            };
            if slot.is_some() {
                return Err(BindingError::DuplicateParameter { name });
            }
            *slot = Some(value);
        }
        let (parameter, value) = message.ok_or(BindingError::MissingMessage)?;
        Ok(Self {
            parameter,
            value,
            relay_state,
            sig_alg,
            signature,
            encoding,
        })
    }

    /// `SAMLRequest` or `SAMLResponse`.
    pub fn parameter(&self) -> &'static str {
        self.parameter
    }

    /// The `RelayState`, URL-decoded, when given.
    pub fn relay_state(&self) -> Option<String> {
        self.relay_state.map(percent_decode)
    }

    /// Which of the signature parameters the query carries: (`SigAlg`, `Signature`).
    pub fn signature_parameters(&self) -> (bool, bool) {
        (self.sig_alg.is_some(), self.signature.is_some())
    }

    /// The `SigAlg`, URL-decoded, when given.
    pub fn sig_alg(&self) -> Option<String> {
        self.sig_alg.map(percent_decode)
    }

    /// The octets the query signature covers, exactly as received (SAML Bindings §3.4.4.1):
    /// `SAMLRequest=…` (or `SAMLResponse=…`), then `&RelayState=…` when present, then
    /// `&SigAlg=…`; `None` without `SigAlg`.
    pub fn signed_octets(&self) -> Option<String> {
        let alg = self.sig_alg?;
        let mut signed = format!("{}={}", self.parameter, self.value);
        if let Some(relay) = self.relay_state {
            signed.push_str("&RelayState=");
            signed.push_str(relay);
        }
        signed.push_str("&SigAlg=");
        signed.push_str(alg);
        Some(signed)
    }

    /// Verifies the query signature with `verifier`'s pinned keys and algorithm policy, over
    /// [`signed_octets`](Self::signed_octets); returns the key that verified it.
    pub fn verify(&self, verifier: &Verifier) -> Result<Fingerprint, BindingError> {
        let (alg, signature) = match (self.sig_alg, self.signature) {
            (Some(alg), Some(signature)) => (alg, signature),
            (None, None) => {
                return Err(BindingError::Unsigned {
                    parameter: self.parameter,
                })
            }
            (Some(_), None) => {
                return Err(BindingError::HalfSigned {
                    present: "SigAlg",
                    missing: "Signature",
                })
            }
            (None, Some(_)) => {
                return Err(BindingError::HalfSigned {
                    present: "Signature",
                    missing: "SigAlg",
                })
            }
        };
        let signature = base64::engine::general_purpose::STANDARD
            .decode(percent_decode(signature).as_bytes())
            .map_err(|e| BindingError::SignatureBase64 {
                reason: e.to_string(),
            })?;
        let signed = self.signed_octets().unwrap_or_default();
        verifier
            .verify_detached(&percent_decode(alg), signed.as_bytes(), &signature)
            .map_err(BindingError::Signature)
    }

    /// The message: `SAMLEncoding` checked (absent or DEFLATE), then URL-decoded and
    /// [`inflate`]d with at most `max` bytes of output. The XML is unverified until
    /// [`verify`](Self::verify) succeeded.
    pub fn inflate(&self, max: usize) -> Result<Vec<u8>, BindingError> {
        if let Some(encoding) = self.encoding {
            let found = percent_decode(encoding);
            if found != DEFLATE_ENCODING {
                return Err(BindingError::Encoding { found });
            }
        }
        inflate(&percent_decode(self.value), max).map_err(|source| BindingError::Inflate {
            parameter: self.parameter,
            source,
        })
    }
}

/// Decodes the `SAMLRequest`/`SAMLResponse` value of an HTTP-POST form (already URL-decoded):
/// base64 with white space ignored (SAML Bindings §3.5.4), refused before decoding when it
/// would exceed `max` bytes.
pub fn decode_post(parameter: &'static str, value: &str, max: usize) -> Result<Vec<u8>, BindingError> {
    let compact: Vec<u8> = value.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let actual = compact.len() / 4 * 3;
    if actual > max {
        return Err(BindingError::TooLarge {
            parameter,
            max,
            actual,
        });
    }
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|e| BindingError::Base64 {
            parameter,
            reason: e.to_string(),
        })
}

/// The HTTP-POST binding (SAML Bindings §3.5.4): an HTML page whose form posts `xml`
/// base64-encoded (not compressed) as `parameter`, and `RelayState` when given, to
/// `destination` as soon as it loads (a button when scripts are off).
pub fn post_form(
    destination: &str,
    parameter: &str,
    xml: &str,
    relay_state: Option<RelayState<'_>>,
) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(xml);
    let relay = relay_state
        .map(|r| {
            format!(
                "<input type=\"hidden\" name=\"RelayState\" value=\"{}\"/>",
                escape(r.as_str())
            )
        })
        .unwrap_or_default();
    format!(
        "<!DOCTYPE html><html><body onload=\"document.forms[0].submit()\">\
         <form method=\"post\" action=\"{}\">\
         <input type=\"hidden\" name=\"{}\" value=\"{encoded}\"/>{relay}\
         <noscript><button type=\"submit\">Continue</button></noscript></form></body></html>",
        escape(destination),
        escape(parameter),
    )
}
