//! Showing a refused login safely: a short message for the end user, the admin message for
//! whoever configures the connection, and an HTML fragment with every value escaped.
//!
//! **Admin messages quote what arrived**: the Issuer, Audience, Destination, InResponseTo,
//! the IdP's StatusMessage, element names. Those values come from the posted Response, that
//! is from anyone who can make a browser post a form to the ACS, so an admin message is
//! attacker-controlled text: log it, show it to admins, but never put it in a page without
//! HTML-escaping it (rendering it raw is cross-site scripting). [`error_html`] escapes
//! everything it writes; the end-user messages ([`Refusal::user_message`]) quote nothing.
//!
//! ```
//! use fedkit_saml::render::{error_html, Detail};
//! use fedkit_saml::{Error, SignedPart};
//! let err = Error::Issuer {
//!     part: SignedPart::Response,
//!     expected: "https://idp.example".to_owned(),
//!     found: Some("<script>alert(1)</script>".to_owned()),
//! };
//! let page = error_html(&err, Detail::Admin);
//! assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
//! assert!(!page.contains("<script>"));
//! // For end users: the short message and the code, no value from the Response.
//! let page = error_html(&err, Detail::EndUser);
//! assert!(page.contains("Ask your administrator"));
//! assert!(page.contains("issuer_mismatch"));
//! assert!(!page.contains("script"));
//! ```

use crate::bindings::escape;
use crate::error::Error;
use crate::flow::StartError;

/// The end-user message for refusals an administrator must look into (configuration,
/// certificates, a misbehaving IdP, a forged or broken Response).
pub const ASK_ADMIN: &str = "Your sign-in could not be completed. Ask your administrator to check the single sign-on setup, and give them the error code below.";

/// The end-user message for a sign-in that took too long, was already used, or no longer
/// matches a login in progress.
pub const START_AGAIN: &str =
    "This sign-in has expired or was already used. Go back to the application and sign in again.";

/// The end-user message for a Response posted by a browser that did not start the login.
pub const NOT_STARTED_HERE: &str = "This sign-in was not started in this browser, or its sign-in cookie was lost. Go back to the application and sign in again from this browser.";

/// The end-user message when the IdP itself refused to authenticate the user.
pub const IDP_REFUSED: &str = "The identity provider did not sign you in. Try again, or ask your administrator whether you have access to this application.";

/// The end-user message when the SP's own stores cannot answer (an outage, or full).
pub const TRY_AGAIN_LATER: &str = "Sign-in is temporarily unavailable. Try again in a few minutes.";

/// The end-user message when the SP's and the IdP's clocks disagree.
pub const CLOCKS: &str = "Your sign-in could not be completed because the clocks of this application and the identity provider disagree. Ask your administrator, and give them the error code below.";

/// A refusal that can be shown: a stable code, a short end-user message that quotes
/// nothing, and (its `Display`) the admin message, which may quote attacker-controlled
/// values.
pub trait Refusal: core::fmt::Display {
    /// The stable `snake_case` code.
    fn code(&self) -> &'static str;
    /// A short message for the end user: what to do, no value from the request.
    fn user_message(&self) -> &'static str;
}

impl Refusal for Error {
    fn code(&self) -> &'static str {
        Error::code(self)
    }

    fn user_message(&self) -> &'static str {
        Error::user_message(self)
    }
}

impl Refusal for StartError {
    fn code(&self) -> &'static str {
        StartError::code(self)
    }

    fn user_message(&self) -> &'static str {
        StartError::user_message(self)
    }
}

impl Error {
    /// A short message for the end user (one of this module's constants): what to do next,
    /// quoting no value from the Response. Log the admin message (`to_string()`) and the
    /// [`code`](Error::code) beside it.
    ///
    /// ```
    /// let err = fedkit_saml::Error::Replay { id: "<b>x</b>".to_owned() };
    /// assert_eq!(err.user_message(), fedkit_saml::render::START_AGAIN);
    /// ```
    pub fn user_message(&self) -> &'static str {
        match self {
            Error::Status { .. } => IDP_REFUSED,
            Error::LoginNotStartedHere { .. } => NOT_STARTED_HERE,
            Error::Replay { .. }
            | Error::RequestNotOutstanding { .. }
            | Error::RequestAlreadyAnswered { .. }
            | Error::InResponseTo { .. }
            | Error::Expired { .. }
            | Error::MessageTooOld { .. } => START_AGAIN,
            Error::ReplayCacheFull { .. }
            | Error::RequestStoreFull { .. }
            | Error::ReplayStoreUnavailable { .. }
            | Error::RequestStoreUnavailable { .. } => TRY_AGAIN_LATER,
            Error::NotYetValid { .. } | Error::IssuedInTheFuture { .. } => CLOCKS,
            _ => ASK_ADMIN,
        }
    }
}

/// How much an [`error_html`] fragment says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Detail {
    /// The end-user message and the code: for everyone.
    EndUser,
    /// Also the admin message (which quotes values from the Response, escaped here): for
    /// pages only administrators see, such as a connection test page.
    Admin,
}

/// An HTML fragment (a `<div class="fedkit-error">`) describing `error`, every value
/// HTML-escaped with [`bindings::escape`](crate::bindings::escape), ready to put in the
/// host's page: the end-user message, the code, and with [`Detail::Admin`] the admin
/// message.
pub fn error_html(error: &dyn Refusal, detail: Detail) -> String {
    let mut html = format!(
        "<div class=\"fedkit-error\" data-code=\"{code}\"><p class=\"fedkit-error-message\">{message}</p>\
         <p class=\"fedkit-error-code\">Error code: <code>{code}</code></p>",
        code = escape(error.code()),
        message = escape(error.user_message()),
    );
    if detail == Detail::Admin {
        html.push_str(&format!(
            "<p class=\"fedkit-error-detail\">{}</p>",
            escape(&error.to_string())
        ));
    }
    html.push_str("</div>");
    html
}
