//! What the host's HTTP server does around [`ScimService::handle`](crate::ScimService::handle),
//! as framework-free functions: find the SCIM path under the base path
//! ([`strip_base_path`]), cap the body before reading it
//! ([`ScimSettings::max_request_bytes`](crate::ScimSettings::max_request_bytes)), answer a
//! request that failed authentication ([`auth_error_response`], with the `WWW-Authenticate`
//! challenge of RFC 6750 §3) and any other failure found before the service is called
//! ([`crate::error_response`]).
//!
//! ```
//! use fedkit_scim_service::auth::TokenRegistry;
//! use fedkit_scim_service::host::{auth_error_response, strip_base_path};
//!
//! let tokens = TokenRegistry::new();
//! let path = strip_base_path("/scim/v2", "/scim/v2/Users").ok_or("not SCIM")?;
//! assert_eq!(path, "/Users");
//! let refused = tokens.authenticate(None).unwrap_err();
//! let response = auth_error_response(&refused, "SCIM");
//! assert_eq!(response.status, 401);
//! assert_eq!(response.header("WWW-Authenticate"), Some(r#"Bearer realm="SCIM""#));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use fedkit_scim::error::ScimError;

use crate::auth::AuthError;
use crate::handler::{error_response, ScimResponse};

/// The part of `path` after `base_path` (`/Users` for `/scim/v2/Users` under `/scim/v2`;
/// `""` for the base path itself), or `None` when `path` is not under it: not a SCIM
/// request, the host routes it elsewhere (or answers 404). `base_path` may end in `/`; `""`
/// or `/` is the root. Segments are compared exactly: `/scim/v2x` is not under `/scim/v2`.
pub fn strip_base_path<'p>(base_path: &str, path: &'p str) -> Option<&'p str> {
    let base = base_path.trim_end_matches('/');
    let rest = path.strip_prefix(base)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
}

/// The `WWW-Authenticate` value of a 401 (RFC 6750 §3): `Bearer realm="…"`, with
/// `error="invalid_token"` when `error` is a token that was presented but is not valid
/// (RFC 6750 §3.1; a request without credentials gets no error code). The realm is a
/// quoted-string: `"` and `\` are escaped, control characters dropped.
pub fn bearer_challenge(realm: &str, error: Option<&AuthError>) -> String {
    let mut quoted = String::with_capacity(realm.len());
    for c in realm.chars().filter(|c| !c.is_control()) {
        if c == '"' || c == '\\' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    match error {
        Some(AuthError::InvalidToken | AuthError::EmptyToken) => {
            format!("Bearer realm=\"{quoted}\", error=\"invalid_token\"")
        }
        _ => format!("Bearer realm=\"{quoted}\""),
    }
}

/// `response` with a `WWW-Authenticate: Bearer realm="…"` challenge when it is a 401 without
/// one (RFC 6750 §3: a 401 must say how to authenticate). Other responses are unchanged.
pub fn with_bearer_challenge(mut response: ScimResponse, realm: &str) -> ScimResponse {
    if response.status == 401 && response.header("WWW-Authenticate").is_none() {
        response
            .headers
            .push(("WWW-Authenticate", bearer_challenge(realm, None)));
    }
    response
}

/// The SCIM Error response (RFC 7644 §3.12) for a request that failed authentication: the
/// status of [`AuthError::status`] (401, or 400 for a configuration error), the error's
/// message for the administrator, and on a 401 the `WWW-Authenticate` challenge of
/// [`bearer_challenge`].
pub fn auth_error_response(error: &AuthError, realm: &str) -> ScimResponse {
    let mut response = error_response(&ScimError::from(error.clone()));
    if response.status == 401 {
        response
            .headers
            .push(("WWW-Authenticate", bearer_challenge(realm, Some(error))));
    }
    response
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::handler::SCIM_CONTENT_TYPE;

    #[test]
    fn base_paths() {
        assert_eq!(strip_base_path("/scim/v2", "/scim/v2/Users"), Some("/Users"));
        assert_eq!(strip_base_path("/scim/v2/", "/scim/v2/Users/1"), Some("/Users/1"));
        assert_eq!(strip_base_path("/scim/v2", "/scim/v2"), Some(""));
        assert_eq!(strip_base_path("", "/Users"), Some("/Users"));
        assert_eq!(strip_base_path("/", "/Users"), Some("/Users"));
        assert_eq!(strip_base_path("/scim/v2", "/scim/v2x/Users"), None);
        assert_eq!(strip_base_path("/scim/v2", "/scim"), None);
        assert_eq!(strip_base_path("/scim/v2", "/Users"), None);
    }

    #[test]
    fn challenges_quote_the_realm_and_name_invalid_tokens() {
        assert_eq!(bearer_challenge("SCIM", None), r#"Bearer realm="SCIM""#);
        assert_eq!(
            bearer_challenge("a \"b\" \\c\r\n", Some(&AuthError::InvalidToken)),
            r#"Bearer realm="a \"b\" \\c", error="invalid_token""#
        );
        assert_eq!(
            bearer_challenge("SCIM", Some(&AuthError::MissingHeader)),
            r#"Bearer realm="SCIM""#
        );
    }

    #[test]
    fn a_401_gets_one_challenge_and_other_responses_none() {
        let unauthenticated = error_response(&ScimError::new(401, None, "no token"));
        let challenged = with_bearer_challenge(unauthenticated, "SCIM");
        assert_eq!(
            challenged.header("WWW-Authenticate"),
            Some(r#"Bearer realm="SCIM""#)
        );
        let again = with_bearer_challenge(challenged.clone(), "other");
        assert_eq!(again, challenged);
        let not_found = error_response(&ScimError::not_found("no such user"));
        assert_eq!(with_bearer_challenge(not_found.clone(), "SCIM"), not_found);
    }

    #[test]
    fn auth_errors_are_scim_errors_with_a_challenge_on_401_only() {
        let r = auth_error_response(&AuthError::InvalidToken, "acme");
        assert_eq!(r.status, 401);
        assert_eq!(r.header("Content-Type"), Some(SCIM_CONTENT_TYPE));
        assert_eq!(
            r.header("WWW-Authenticate"),
            Some(r#"Bearer realm="acme", error="invalid_token""#)
        );
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
        assert_eq!(body["status"], "401");
        let config = auth_error_response(&AuthError::TokenNotOneWord, "acme");
        assert_eq!(config.status, 400);
        assert_eq!(config.header("WWW-Authenticate"), None);
    }
}
