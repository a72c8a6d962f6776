//! The HTML pages: plain strings, every value escaped.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// Escapes text for HTML element content and quoted attribute values (fedkit-saml's
/// escaping, shared with the SAML bindings).
pub(crate) use fedkit_saml::bindings::escape;

/// A whole page around `body` (already HTML).
pub(crate) fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title} · fedkit example app</title>\
         <style>body{{font-family:sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}}\
         .error{{border:2px solid #b00;padding:1rem}} code{{background:#eee}} td,th{{text-align:left;padding:.2rem .6rem}}</style>\
         </head><body><p><a href=\"/\">fedkit example app</a></p><h1>{title}</h1>{body}</body></html>",
        title = escape(title),
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            // No scripts at all, and no framing (clickjacking of the logout and admin forms).
            // No form-action: browsers apply it to the redirect to the IdP after logout.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
            ),
            (header::X_FRAME_OPTIONS, "DENY"),
        ],
        html,
    )
        .into_response()
}

/// An error page: the HTTP status, fedkit's admin-facing message (the `Display` of the error)
/// and its stable code, and what the user can do.
pub(crate) fn error_page(status: StatusCode, title: &str, message: &str, code: &str) -> Response {
    let body = format!(
        "<div class=\"error\"><p><strong>HTTP {status}</strong> · error code <code id=\"code\">{code}</code></p>\
         <p id=\"message\">{message}</p></div>\
         <p>If you are the administrator setting up single sign-on, the message above says what was \
         expected and what arrived. Otherwise, send it to your administrator.</p>\
         <p><a href=\"/\">Back to the start page</a></p>",
        status = status.as_u16(),
        code = escape(code),
        message = escape(message),
    );
    page(status, title, &body)
}

/// A refused request: rendered by [`error_page`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) status: StatusCode,
    pub(crate) title: &'static str,
    /// The admin-facing message: the `Display` of fedkit's error.
    pub(crate) message: String,
    /// The stable error code.
    pub(crate) code: String,
}

impl Failure {
    pub(crate) fn new(
        status: StatusCode,
        title: &'static str,
        message: impl Into<String>,
        code: &str,
    ) -> Self {
        Self {
            status,
            title,
            message: message.into(),
            code: code.to_owned(),
        }
    }

    /// A login the app refuses (403).
    pub(crate) fn login(message: impl std::fmt::Display, code: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Login refused", message.to_string(), code)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        error_page(self.status, self.title, &self.message, &self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("jane.doe@example.com"), "jane.doe@example.com");
    }
}
