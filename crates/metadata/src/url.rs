//! Checks on URLs read from metadata: endpoints a browser or the SP will be sent to.

/// What is wrong with a URL from the metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlProblem {
    /// Empty (or whitespace only).
    #[error("it is empty")]
    Empty,
    /// Not an absolute URL (`/saml/sso`, `sso.example.com/saml`).
    #[error("it is not an absolute URL; endpoints must start with https://")]
    NotAbsolute,
    /// A scheme that can carry script or local content (`javascript:`, `data:`, `file:`,
    /// `vbscript:`, ...), or any other scheme than `https` (and `http` when allowed).
    #[error(
        "its scheme is not https; only https:// URLs (and http:// when explicitly allowed) are accepted"
    )]
    SchemeNotAllowed,
    /// `http://` while plain-HTTP endpoints are not allowed.
    #[error("it uses plain http://, which sends SAML messages unencrypted; ask the IdP for its https:// URL (or allow http explicitly for a test IdP)")]
    PlainHttp,
    /// `https://` with nothing or something unusable where the host name belongs.
    #[error("it has no valid host name")]
    BadHost,
    /// User name or password in the URL (`https://user:pass@host/`).
    #[error("it carries credentials (user@host), which endpoint URLs never need")]
    Credentials,
    /// Whitespace, control characters or a backslash, which browsers and servers parse
    /// differently.
    #[error("it contains whitespace, a control character or a backslash")]
    BadCharacter,
}

/// Checks an endpoint URL: absolute `https://` (or `http://` when `allow_http`) with a host,
/// no credentials, no characters that parsers disagree on.
pub(crate) fn check_endpoint(url: &str, allow_http: bool) -> Result<(), UrlProblem> {
    if url.trim().is_empty() {
        return Err(UrlProblem::Empty);
    }
    // ASCII bytes are checked directly; the rare non-ASCII URL character by character.
    let bad_ascii = |b: u8| b.is_ascii_whitespace() || b.is_ascii_control() || b == b'\\';
    if url.bytes().any(bad_ascii)
        || (!url.is_ascii() && url.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        return Err(UrlProblem::BadCharacter);
    }
    let Some((scheme, rest)) = url.split_once(':') else {
        return Err(UrlProblem::NotAbsolute);
    };
    let scheme_ok = scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return Err(UrlProblem::NotAbsolute);
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => {}
        "http" if allow_http => {}
        "http" => return Err(UrlProblem::PlainHttp),
        _ => return Err(UrlProblem::SchemeNotAllowed),
    }
    let Some(after) = rest.strip_prefix("//") else {
        return Err(UrlProblem::NotAbsolute);
    };
    let authority = after.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(UrlProblem::Credentials);
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let Some((inside, tail)) = v6.split_once(']') else {
            return Err(UrlProblem::BadHost);
        };
        if inside.is_empty()
            || !inside
                .chars()
                .all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '.'))
        {
            return Err(UrlProblem::BadHost);
        }
        match tail {
            "" => (inside, None),
            t => (inside, Some(t.strip_prefix(':').ok_or(UrlProblem::BadHost)?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let host_char = |c: char| c.is_alphanumeric() || matches!(c, '-' | '.' | '_' | '%');
    let host_ok = !host.is_empty()
        && (authority.starts_with('[')
            || host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'%'))
            || (!host.is_ascii() && host.chars().all(host_char)));
    if !host_ok {
        return Err(UrlProblem::BadHost);
    }
    if let Some(port) = port {
        if !port.bytes().all(|c| c.is_ascii_digit()) || port.parse::<u16>().is_err() {
            return Err(UrlProblem::BadHost);
        }
    }
    Ok(())
}

/// Checks a URL that is only displayed or linked (mdui `Logo`, `InformationURL`,
/// `OrganizationURL`): `https`/`http`, or for logos a `data:image/` URL as the mdui
/// specification allows. Such a URL that fails is dropped with a warning, never fatal.
pub(crate) fn check_display(url: &str, logo: bool) -> Result<(), UrlProblem> {
    if logo {
        let lower = url.get(..11).map(str::to_ascii_lowercase);
        if lower.as_deref() == Some("data:image/") {
            // Script-capable image types are not images a logo needs.
            let media = url.get(11..).unwrap_or_default().to_ascii_lowercase();
            if media.starts_with("svg") {
                return Err(UrlProblem::SchemeNotAllowed);
            }
            if url.chars().any(|c| c.is_control() || c == '\\') {
                return Err(UrlProblem::BadCharacter);
            }
            return Ok(());
        }
    }
    check_endpoint(url, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls() {
        for ok in [
            "https://sso.jumpcloud.com/saml2/acme",
            "HTTPS://idp.example.org:8443/idp/profile/SAML2/SOAP/ArtifactResolution",
            "https://login.microsoftonline.com/3f2a1c9e/saml2?x=1#f",
            "https://[2001:db8::1]:443/sso",
            "https://idp.example.org",
            "https://bücher.example/sso",
        ] {
            assert_eq!(check_endpoint(ok, false), Ok(()), "{ok}");
        }
        let cases = [
            ("", UrlProblem::Empty),
            ("  ", UrlProblem::Empty),
            ("javascript:alert(1)", UrlProblem::SchemeNotAllowed),
            ("JavaScript://%0aalert(1)", UrlProblem::SchemeNotAllowed),
            ("data:text/html,<script>", UrlProblem::SchemeNotAllowed),
            ("file:///etc/passwd", UrlProblem::SchemeNotAllowed),
            ("vbscript:msgbox", UrlProblem::SchemeNotAllowed),
            ("ftp://idp.example.org/sso", UrlProblem::SchemeNotAllowed),
            ("http://idp.example.org/sso", UrlProblem::PlainHttp),
            ("/saml/sso", UrlProblem::NotAbsolute),
            ("sso.example.com/saml", UrlProblem::NotAbsolute),
            ("https:sso.example.com", UrlProblem::NotAbsolute),
            ("https:///path", UrlProblem::BadHost),
            ("https://", UrlProblem::BadHost),
            ("https://a b/", UrlProblem::BadCharacter),
            ("https://host/\npath", UrlProblem::BadCharacter),
            ("https://host\\@evil/", UrlProblem::BadCharacter),
            ("https://user:pw@idp.example.org/", UrlProblem::Credentials),
            ("https://idp.example.org:99999/", UrlProblem::BadHost),
            ("https://idp.example.org:/", UrlProblem::BadHost),
            ("https://[::1/", UrlProblem::BadHost),
            ("https://<script>/", UrlProblem::BadHost),
        ];
        for (url, problem) in cases {
            assert_eq!(check_endpoint(url, false), Err(problem), "{url}");
        }
        assert_eq!(check_endpoint("http://localhost:8080/sso", true), Ok(()));
        assert_eq!(
            check_endpoint("javascript:alert(1)", true),
            Err(UrlProblem::SchemeNotAllowed)
        );
    }

    #[test]
    fn display_urls() {
        assert_eq!(check_display("data:image/png;base64,iVBORw0KGgo=", true), Ok(()));
        assert_eq!(
            check_display("data:image/svg+xml,<svg onload=alert(1)>", true),
            Err(UrlProblem::SchemeNotAllowed)
        );
        assert_eq!(
            check_display("data:image/png;base64,AAAA", false),
            Err(UrlProblem::SchemeNotAllowed)
        );
        assert_eq!(check_display("http://www.example.org/logo.png", true), Ok(()));
        assert_eq!(
            check_display("javascript:alert(1)", true),
            Err(UrlProblem::SchemeNotAllowed)
        );
    }
}
