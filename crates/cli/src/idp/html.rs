//! The HTML pages of the test IdP. Every value placed into a page — user names and emails
//! from users.json, RelayState, IDs and URLs from requests — goes through [`escape`].

use super::protocol::Fault;
use super::users::User;

/// Escapes text for HTML element content and double- or single-quoted attribute values:
/// `& < > " '` become character references, so a value can neither end an attribute nor
/// open a tag (fedkit-saml's escaping, shared by every HTML and XML writer).
pub(crate) use fedkit_saml::bindings::escape;

/// The inline script of the auto-submitting pages (the server allows exactly this script,
/// by its hash, in its Content-Security-Policy).
pub(crate) const AUTO_SUBMIT_SCRIPT: &str = "document.forms[0].submit();";

/// The warning every page carries.
pub(crate) const BANNER: &str = "fedkit test IdP — a development tool. Anyone who can reach it can log in \
                                 as any listed user. Never use it in production.";

const STYLE: &str =
    "body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}\
.banner{background:#fff3cd;border:1px solid #e0b400;padding:.6rem .9rem;border-radius:4px}\
.error{background:#fde2e1;border:1px solid #c9302c;padding:.6rem .9rem;border-radius:4px}\
code{background:#f3f3f3;padding:0 .2rem}button{font-size:1rem;padding:.4rem .9rem;cursor:pointer}\
ul.users{list-style:none;padding:0}ul.users li{margin:.5rem 0}.muted{color:#666;font-size:.9rem}";

/// A complete page: title, banner, body (already escaped HTML).
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"robots\" content=\"noindex\"><title>{}</title><style>{STYLE}</style></head>\
         <body><p class=\"banner\" role=\"alert\"><strong>{}</strong></p><h1>{}</h1>{body}</body></html>\n",
        escape(title),
        escape(BANNER),
        escape(title),
    )
}

/// What the login page's buttons post back: the request being answered (none for an
/// IdP-initiated login), where the Response goes and the RelayState to return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LoginContext {
    pub(crate) request_id: Option<String>,
    pub(crate) acs_url: String,
    pub(crate) relay_state: Option<String>,
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        escape(name),
        escape(value)
    )
}

/// The login page: one button per user, each posting the choice and the context to
/// `login_url`.
pub(crate) fn login_page(
    sp_entity_id: &str,
    users: &[User],
    context: &LoginContext,
    login_url: &str,
) -> String {
    let mut body = String::new();
    match &context.request_id {
        Some(id) => body.push_str(&format!(
            "<p>The service provider <code>{}</code> asks for a login (AuthnRequest <code>{}</code>). \
             Pick a user; the Response goes to <code>{}</code>.</p>",
            escape(sp_entity_id),
            escape(id),
            escape(&context.acs_url)
        )),
        None => body.push_str(&format!(
            "<p>IdP-initiated login to <code>{}</code> (no AuthnRequest, like a tile in JumpCloud's \
             user console). Pick a user; the Response goes to <code>{}</code>.</p>",
            escape(sp_entity_id),
            escape(&context.acs_url)
        )),
    }
    if let Some(relay) = &context.relay_state {
        body.push_str(&format!(
            "<p class=\"muted\">RelayState: <code>{}</code></p>",
            escape(relay)
        ));
    }
    body.push_str("<ul class=\"users\">");
    for user in users {
        let mut fields = hidden("user", &user.email);
        fields.push_str(&hidden("acs", &context.acs_url));
        if let Some(id) = &context.request_id {
            fields.push_str(&hidden("request_id", id));
        }
        if let Some(relay) = &context.relay_state {
            fields.push_str(&hidden("RelayState", relay));
        }
        let groups = if user.groups.is_empty() {
            String::new()
        } else {
            format!(
                " <span class=\"muted\">groups: {}</span>",
                escape(&user.groups.join(", "))
            )
        };
        body.push_str(&format!(
            "<li><form method=\"post\" action=\"{}\">{fields}<button type=\"submit\">Log in as {} {}</button> \
             <code>{}</code>{groups} <label class=\"muted\">sending {}</label></form></li>",
            escape(login_url),
            escape(&user.first_name),
            escape(&user.last_name),
            escape(&user.email),
            fault_select(),
        ));
    }
    body.push_str("</ul>");
    page("Log in — fedkit test IdP", &body)
}

/// The per-user choice of [`Fault`]: a correct Response unless the developer asks for a
/// broken one to see how their SP refuses it.
fn fault_select() -> String {
    let options: String = Fault::ALL
        .iter()
        .map(|f| {
            format!(
                "<option value=\"{}\"{}>{}</option>",
                escape(f.name()),
                if *f == Fault::None { " selected" } else { "" },
                escape(f.label())
            )
        })
        .collect();
    format!("<select name=\"fault\">{options}</select>")
}

/// A page whose form posts `fields` to `action` as soon as it loads (the SAML HTTP-POST
/// binding), with a button for browsers without JavaScript.
pub(crate) fn auto_post(action: &str, fields: &[(&str, &str)], what: &str) -> String {
    let inputs: String = fields.iter().map(|(n, v)| hidden(n, v)).collect();
    page(
        "Sending you back to the service provider",
        &format!(
            "<p>Posting the {} to <code>{}</code>.</p>\
             <form method=\"post\" action=\"{}\">{inputs}<button type=\"submit\">Continue</button></form>\
             <script>{AUTO_SUBMIT_SCRIPT}</script>",
            escape(what),
            escape(action),
            escape(action),
        ),
    )
}

/// An error page: what went wrong, for the developer wiring up an SP.
pub(crate) fn error_page(code: &str, message: &str) -> String {
    page(
        "The test IdP refused this request",
        &format!(
            "<p class=\"error\"><strong>[{}]</strong> {}</p>",
            escape(code),
            escape(message)
        ),
    )
}

/// A page with one paragraph of text.
pub(crate) fn message_page(title: &str, text: &str) -> String {
    page(title, &format!("<p>{}</p>", escape(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralizes_every_markup_character() {
        assert_eq!(
            escape(r#"<script>alert("x's")</script> & more"#),
            "&lt;script&gt;alert(&quot;x&#39;s&quot;)&lt;/script&gt; &amp; more"
        );
        assert_eq!(escape("plain ünïcödé"), "plain ünïcödé");
        assert_eq!(escape(""), "");
        // Already-escaped text is escaped again (no double-decoding surprises).
        assert_eq!(escape("&amp;"), "&amp;amp;");
    }

    #[test]
    fn escaped_values_cannot_leave_an_attribute() {
        let evil = "\"><img src=x onerror=alert(1)>";
        let html = hidden("RelayState", evil);
        assert_eq!(
            html,
            "<input type=\"hidden\" name=\"RelayState\" value=\"&quot;&gt;&lt;img src=x onerror=alert(1)&gt;\">"
        );
        assert_eq!(html.matches('"').count(), 6);
        assert!(!html.contains("<img"));
    }

    #[test]
    fn login_page_escapes_user_values_and_relay_state() {
        let users = vec![User {
            email: "a<b>@example.com".to_owned(),
            first_name: "<i>Eve</i>".to_owned(),
            last_name: "O'Neil & co".to_owned(),
            groups: vec!["<admins>".to_owned()],
        }];
        let context = LoginContext {
            request_id: Some("_\"id".to_owned()),
            acs_url: "http://sp.test/acs?a=1&b=2".to_owned(),
            relay_state: Some("</code><script>x()</script>".to_owned()),
        };
        let html = login_page("sp<1>", &users, &context, "/saml2/app/login");
        assert!(!html.contains("<script>x()"));
        assert!(!html.contains("<i>"));
        assert!(!html.contains("<admins>"));
        assert!(!html.contains("sp<1>"));
        assert!(html.contains("O&#39;Neil &amp; co"));
        assert!(html.contains("value=\"http://sp.test/acs?a=1&amp;b=2\""));
        assert!(html.contains("value=\"_&quot;id\""));
        assert!(html.contains(BANNER.split(' ').next().unwrap_or_default()));
    }

    #[test]
    fn every_page_carries_the_development_banner() {
        for html in [
            error_page("x", "y"),
            message_page("t", "u"),
            auto_post("http://sp.test/acs", &[("SAMLResponse", "abc")], "Response"),
        ] {
            assert!(html.contains("Never use it in production."), "{html}");
        }
    }

    #[test]
    fn auto_post_carries_the_fields_and_submits_itself() {
        let html = auto_post(
            "http://sp.test/acs",
            &[("SAMLResponse", "PD94+/="), ("RelayState", "/a?b=1&c=\"2\"")],
            "SAML Response",
        );
        assert!(html.contains("<form method=\"post\" action=\"http://sp.test/acs\">"));
        assert!(html.contains("name=\"SAMLResponse\" value=\"PD94+/=\""));
        assert!(html.contains("name=\"RelayState\" value=\"/a?b=1&amp;c=&quot;2&quot;\""));
        assert!(html.contains("document.forms[0].submit()"));
    }
}
