//! Stable identities: the key an IdP login is stored under, and the NameID-format pin.
//!
//! A key is `saml:<connection_id>:<unique id>` (the form Prelude keeps after a connection is
//! deleted). It holds neither the IdP's certificate nor its entity ID, so a certificate
//! rotation changes no key, and a deleted connection's keys remain valid strings in the
//! host's audit trail: a connection ID is never reused (the host's duty), so they can never
//! be claimed by another IdP.
//!
//! ```
//! use fedkit_tenancy::identity::IdentityKey;
//! let key = IdentityKey::saml("acme", "jane@acme.com")?;
//! assert_eq!(key.to_string(), "saml:acme:jane@acme.com");
//! assert_eq!(IdentityKey::parse("saml:acme:jane@acme.com")?, key);
//! # Ok::<(), fedkit_tenancy::identity::IdentityError>(())
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

/// The Pulumi guide's warning, quoted in the refusal.
pub const NAME_ID_FORMAT_WARNING: &str = "Do not change the SAMLSubject NameID Format after users have already signed in via SAML SSO. Changing it will break existing user sessions.";

/// Why an identity key is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// Not `saml:<connection>:<id>` with a valid connection ID and a non-empty ID.
    #[error("{value:?} is not an identity key of the form saml:<connection id>:<unique id> (connection id: 1–64 of a-z, 0-9, '-', '_'; unique id not empty)")]
    Malformed {
        /// What was given.
        value: String,
    },
}

impl IdentityError {
    /// A stable `snake_case` code.
    pub fn code(&self) -> &'static str {
        match self {
            IdentityError::Malformed { .. } => "identity_key_malformed",
        }
    }
}

fn connection_id_ok(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// The key of one IdP identity: the connection it came through and the IdP's unique ID for
/// the user (the NameID, or the attribute the mapping names). Two IdPs issuing the same
/// NameID give different keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdentityKey {
    connection: String,
    unique_id: String,
}

impl IdentityKey {
    /// The key of `unique_id` on connection `connection_id` (IDs are compared exactly, as
    /// SAML compares NameIDs).
    pub fn saml(connection_id: &str, unique_id: &str) -> Result<Self, IdentityError> {
        if !connection_id_ok(connection_id) || unique_id.is_empty() {
            return Err(IdentityError::Malformed {
                value: format!("saml:{connection_id}:{unique_id}"),
            });
        }
        Ok(Self {
            connection: connection_id.to_owned(),
            unique_id: unique_id.to_owned(),
        })
    }

    /// Reads the string form (the unique ID may itself contain `:`).
    pub fn parse(value: &str) -> Result<Self, IdentityError> {
        let malformed = || IdentityError::Malformed {
            value: value.to_owned(),
        };
        let rest = value.strip_prefix("saml:").ok_or_else(malformed)?;
        let (connection, unique_id) = rest.split_once(':').ok_or_else(malformed)?;
        Self::saml(connection, unique_id).map_err(|_| malformed())
    }

    /// The connection ID.
    pub fn connection(&self) -> &str {
        &self.connection
    }

    /// The IdP's unique ID for the user.
    pub fn unique_id(&self) -> &str {
        &self.unique_id
    }
}

impl fmt::Display for IdentityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "saml:{}:{}", self.connection, self.unique_id)
    }
}

impl TryFrom<String> for IdentityKey {
    type Error = IdentityError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<IdentityKey> for String {
    fn from(k: IdentityKey) -> Self {
        k.to_string()
    }
}

impl TryFrom<&fedkit_saml::connection::UserKey> for IdentityKey {
    type Error = IdentityError;
    fn try_from(k: &fedkit_saml::connection::UserKey) -> Result<Self, Self::Error> {
        Self::saml(&k.connection, &k.name_id)
    }
}

/// What comparing an arriving NameID format with the connection's pinned one found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormatCheck {
    /// Same format as pinned.
    Unchanged,
    /// Nothing pinned yet: the host stores this format (the first login on the connection).
    Pin(Option<String>),
    /// The format changed: the login must be refused.
    Changed {
        /// The pinned format.
        pinned: Option<String>,
        /// The arriving one.
        arrived: Option<String>,
    },
}

/// The format as stored: `None` when absent (SAML's `unspecified`), so an absent format and
/// an explicit `unspecified` compare equal.
fn normal_format(format: Option<&str>) -> Option<String> {
    match format.map(str::trim) {
        None | Some("") | Some("urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified") => None,
        Some(f) => Some(f.to_owned()),
    }
}

/// Compares an arriving NameID format with the pinned one (`pinned`: `None` = nothing pinned;
/// `Some(None)` = pinned as absent/unspecified).
///
/// ```
/// use fedkit_tenancy::identity::{check_name_id_format, FormatCheck};
/// const EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
/// const PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
/// assert_eq!(check_name_id_format(None, Some(EMAIL)), FormatCheck::Pin(Some(EMAIL.into())));
/// assert_eq!(check_name_id_format(Some(Some(EMAIL)), Some(EMAIL)), FormatCheck::Unchanged);
/// assert!(matches!(check_name_id_format(Some(Some(EMAIL)), Some(PERSISTENT)), FormatCheck::Changed { .. }));
/// ```
pub fn check_name_id_format(pinned: Option<Option<&str>>, arrived: Option<&str>) -> FormatCheck {
    let arrived = normal_format(arrived);
    match pinned {
        None => FormatCheck::Pin(arrived),
        Some(p) => {
            let pinned = normal_format(p);
            if pinned == arrived {
                FormatCheck::Unchanged
            } else {
                FormatCheck::Changed { pinned, arrived }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn malformed_keys_are_refused() {
        for bad in [
            "",
            "saml:",
            "saml:acme:",
            "saml::x",
            "oidc:acme:x",
            "saml:ACME:x",
            "saml:acme",
        ] {
            assert_eq!(
                IdentityKey::parse(bad).unwrap_err().code(),
                "identity_key_malformed",
                "{bad}"
            );
        }
        let k = IdentityKey::parse("saml:acme:urn:x:1").unwrap();
        assert_eq!(k.unique_id(), "urn:x:1");
        assert_eq!(k.connection(), "acme");
    }

    #[test]
    fn from_fedkit_saml_user_key() {
        let k = fedkit_saml::connection::UserKey {
            connection: "acme".into(),
            name_id: "u-1".into(),
        };
        assert_eq!(IdentityKey::try_from(&k).unwrap().to_string(), "saml:acme:u-1");
    }

    #[test]
    fn unspecified_equals_absent() {
        assert_eq!(
            check_name_id_format(
                Some(None),
                Some("urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified")
            ),
            FormatCheck::Unchanged
        );
    }

    proptest! {
        #[test]
        fn key_round_trips(conn in "[a-z0-9_-]{1,64}", id in ".{1,80}") {
            let k = IdentityKey::saml(&conn, &id).unwrap();
            prop_assert_eq!(IdentityKey::parse(&k.to_string()).unwrap(), k);
        }
    }
}
