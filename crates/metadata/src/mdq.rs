//! The Metadata Query Protocol (MDQ, draft-young-md-query and its SAML profile
//! draft-young-md-query-saml): request paths for one entity, and the response handled as a
//! signed single entity.
//!
//! fedkit does no I/O: the host joins the path to the MDQ service's base URL, fetches it
//! (`Accept: application/samlmetadata+xml`), and hands the bytes to [`parse_response`].

use chrono::{DateTime, Utc};
use fedkit_xmldsig::{DigestAlgorithm, TrustedKeys};

use crate::error::Error;
use crate::metadata::{ImportSettings, Metadata, SignaturePolicy};
use crate::model::IdpMetadata;

/// RFC 3986 percent-encoding of everything but the unreserved characters, as MDQ requires
/// for the identifier path segment.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn percent_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, PATH_SEGMENT).to_string()
}

/// The request path (relative to the MDQ base URL, which should end with `/`) for an
/// entity ID: `entities/` and the percent-encoded ID.
///
/// ```
/// use fedkit_metadata::mdq;
/// assert_eq!(
///     mdq::request_path("https://idp.example.org/idp/shibboleth"),
///     "entities/https%3A%2F%2Fidp.example.org%2Fidp%2Fshibboleth"
/// );
/// ```
pub fn request_path(entity_id: &str) -> String {
    format!("entities/{}", percent_encode(entity_id))
}

/// The `{sha1}` transformed identifier of an entity ID (the SAML profile of MDQ, §2.2):
/// `{sha1}` followed by the lower-case hex SHA-1 of the entity ID's UTF-8 bytes.
///
/// ```
/// use fedkit_metadata::mdq;
/// assert_eq!(
///     mdq::sha1_identifier("https://idp.example.org/idp/shibboleth"),
///     "{sha1}1bec942a9ca29787c26924440ad4cb8208f9b9e4"
/// );
/// assert_eq!(mdq::sha1_hex("").len(), 40);
/// ```
pub fn sha1_identifier(entity_id: &str) -> String {
    format!("{{sha1}}{}", sha1_hex(entity_id))
}

/// The lower-case hex SHA-1 of an entity ID (an identifier, not a signature: computed by
/// fedkit-xmldsig's default crypto provider).
pub fn sha1_hex(entity_id: &str) -> String {
    let digest =
        fedkit_xmldsig::crypto::default_provider().digest(DigestAlgorithm::Sha1, entity_id.as_bytes());
    base16ct::lower::encode_string(&digest)
}

/// The request path for the `{sha1}` form: `entities/%7Bsha1%7D` and the hex digest.
pub fn sha1_request_path(entity_id: &str) -> String {
    format!("entities/{}", percent_encode(&sha1_identifier(entity_id)))
}

/// Whether `requested` (an entity ID, or its `{sha1}` form) names `entity_id`.
fn names(requested: &str, entity_id: &str) -> bool {
    match requested.strip_prefix("{sha1}") {
        Some(hex) => hex.eq_ignore_ascii_case(&sha1_hex(entity_id)),
        None => requested == entity_id,
    }
}

/// Handles an MDQ response for `requested` (an entity ID or its `{sha1}` form) as a signed
/// single entity: the signature by one of `keys` (the MDQ service's signing certificate) is
/// required, `validUntil` must not have passed, and the response must describe the entity
/// that was asked for.
pub fn parse_response(
    xml: &[u8],
    requested: &str,
    keys: TrustedKeys,
    now: DateTime<Utc>,
) -> Result<IdpMetadata, Error> {
    parse_response_with(
        xml,
        requested,
        &ImportSettings::new(SignaturePolicy::Required(keys)),
        now,
    )
}

/// [`parse_response`] with other options (limits, algorithms, provider). The signature
/// policy of `options` must be [`SignaturePolicy::Required`]: MDQ responses travel through
/// caches and proxies, and only their signature vouches for them.
pub fn parse_response_with(
    xml: &[u8],
    requested: &str,
    options: &ImportSettings,
    now: DateTime<Utc>,
) -> Result<IdpMetadata, Error> {
    if !matches!(options.signature(), SignaturePolicy::Required(_)) {
        return Err(Error::Unsigned);
    }
    let metadata = Metadata::parse(xml, options, now)?;
    let found: Vec<&str> = metadata.entity_ids().collect();
    match found.iter().copied().find(|id| names(requested, id)) {
        Some(id) => metadata.idp(id, now),
        None => Err(Error::MdqWrongEntity {
            requested: requested.to_owned(),
            received: found.iter().take(3).map(|s| (*s).to_owned()).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding_keeps_only_unreserved() {
        assert_eq!(percent_encode("aZ09-._~"), "aZ09-._~");
        assert_eq!(percent_encode("a b/c?d#e{f}"), "a%20b%2Fc%3Fd%23e%7Bf%7D");
        assert_eq!(percent_encode("é"), "%C3%A9");
    }

    #[test]
    fn sha1_forms() {
        // SHA-1("abc"), FIPS 180-2 appendix A.1.
        assert_eq!(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            sha1_identifier("abc"),
            "{sha1}a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            sha1_request_path("abc"),
            "entities/%7Bsha1%7Da9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert!(names("{sha1}A9993E364706816ABA3E25717850C26C9CD0D89D", "abc"));
        assert!(!names("{sha1}a9993e364706816aba3e25717850c26c9cd0d89d", "abd"));
        assert!(names("abc", "abc"));
        assert!(!names("abc", "ABC"));
    }
}
