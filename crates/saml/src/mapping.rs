//! From a verified assertion to the user profile an application stores: unique ID, email,
//! names, groups — with the attribute names JumpCloud, Okta and Entra ID send by default,
//! and an email-domain allowlist.

use crate::assertion::VerifiedAssertion;

const EMAIL_FORMAT: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
const ENTRA_CLAIMS: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/";

/// Where the stable user identifier comes from (TrueFoundry's "Unique ID Claim").
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UniqueId {
    /// The `NameID` value (the default: JumpCloud, Okta and Entra ID all send one).
    NameId,
    /// The first value of this attribute (e.g. Entra's `objectidentifier` claim).
    Attribute(String),
}

/// Which attribute names carry which profile field. Each field lists names tried in order;
/// the first attribute present (by `Name` or `FriendlyName`) wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeMapping {
    /// The stable identifier.
    pub unique_id: UniqueId,
    /// Email attribute names. When none is present and the NameID format is emailAddress,
    /// the NameID is the email.
    pub email: Vec<String>,
    /// Given-name attribute names.
    pub first_name: Vec<String>,
    /// Family-name attribute names.
    pub last_name: Vec<String>,
    /// Display-name attribute names.
    pub display_name: Vec<String>,
    /// Group-membership attribute names (all values are kept).
    pub groups: Vec<String>,
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

impl Default for AttributeMapping {
    /// The names used by JumpCloud's and Okta's templates and by Entra ID's default claims,
    /// together: an SP can accept any of the three without configuration.
    fn default() -> Self {
        let claim = |c: &str| format!("{ENTRA_CLAIMS}{c}");
        let mut email = names(&["email", "Email", "mail", "emailAddress"]);
        email.push(claim("emailaddress"));
        let mut first_name = names(&["firstName", "firstname", "givenName", "given_name"]);
        first_name.push(claim("givenname"));
        let mut last_name = names(&["lastName", "lastname", "surname", "sn", "family_name"]);
        last_name.push(claim("surname"));
        let mut display_name = names(&["displayName", "displayname", "name"]);
        display_name.push("http://schemas.microsoft.com/identity/claims/displayname".to_owned());
        let groups = vec![
            "groups".to_owned(),
            "memberOf".to_owned(),
            "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups".to_owned(),
        ];
        Self {
            unique_id: UniqueId::NameId,
            email,
            first_name,
            last_name,
            display_name,
            groups,
        }
    }
}

/// The profile fields an application needs from a login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserProfile {
    /// The stable identifier from the IdP. Combine it with the connection (tenant) it came
    /// from before using it as a key: two IdPs may issue the same NameID.
    pub unique_id: String,
    /// The email address, if one arrived.
    pub email: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Display name (falls back to "first last" when both are present).
    pub display_name: Option<String>,
    /// Group names, in the order they arrived, without duplicates.
    pub groups: Vec<String>,
}

/// Why a profile could not be built, or is not allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MappingError {
    /// The unique-ID attribute is absent or empty.
    #[error("the unique ID attribute {expected:?} did not arrive; the assertion carries {}; map it in the IdP's attribute settings or change the Unique ID claim", list(arrived))]
    MissingUniqueId {
        /// The configured attribute name.
        expected: String,
        /// The attribute names that did arrive.
        arrived: Vec<String>,
    },
    /// An email is required and none arrived.
    #[error("no email arrived: looked for {} and an emailAddress NameID; the assertion carries {}; add an email attribute in the IdP's attribute mapping (JumpCloud: Service Provider Attribute \"email\" → JumpCloud Attribute \"email\")", list(tried), list(arrived))]
    MissingEmail {
        /// The attribute names looked for.
        tried: Vec<String>,
        /// The attribute names that did arrive.
        arrived: Vec<String>,
    },
    /// The email's domain is not in the connection's allowlist.
    #[error(
        "the email domain {domain:?} is not allowed for this connection (allowed: {})",
        list(allowed)
    )]
    DomainNotAllowed {
        /// The domain of the email that arrived.
        domain: String,
        /// The allowed domains.
        allowed: Vec<String>,
    },
}

impl MappingError {
    /// A stable `snake_case` code for logs, metrics and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            MappingError::MissingUniqueId { .. } => "unique_id_missing",
            MappingError::MissingEmail { .. } => "email_missing",
            MappingError::DomainNotAllowed { .. } => "domain_not_allowed",
        }
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "nothing".to_owned()
    } else {
        items
            .iter()
            .map(|i| format!("{i:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn first<'a>(a: &'a VerifiedAssertion, names: &[String]) -> Option<&'a str> {
    names
        .iter()
        .find_map(|n| a.first_value(n))
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

impl AttributeMapping {
    /// Builds the profile. An email is not required here (see
    /// [`profile_with_email`](Self::profile_with_email)).
    pub fn profile(&self, a: &VerifiedAssertion) -> Result<UserProfile, MappingError> {
        let arrived = || a.attributes().iter().map(|x| x.name.clone()).collect::<Vec<_>>();
        let unique_id = match &self.unique_id {
            UniqueId::NameId => a.name_id().value.clone(),
            UniqueId::Attribute(name) => first(a, std::slice::from_ref(name))
                .ok_or_else(|| MappingError::MissingUniqueId {
                    expected: name.clone(),
                    arrived: arrived(),
                })?
                .to_owned(),
        };
        let email = first(a, &self.email).map(str::to_owned).or_else(|| {
            (a.name_id().format.as_deref() == Some(EMAIL_FORMAT) && a.name_id().value.contains('@'))
                .then(|| a.name_id().value.clone())
        });
        let first_name = first(a, &self.first_name).map(str::to_owned);
        let last_name = first(a, &self.last_name).map(str::to_owned);
        let display_name =
            first(a, &self.display_name)
                .map(str::to_owned)
                .or_else(|| match (&first_name, &last_name) {
                    (Some(f), Some(l)) => Some(format!("{f} {l}")),
                    _ => None,
                });
        let mut groups: Vec<String> = Vec::new();
        if let Some(values) = self.groups.iter().find_map(|g| a.attribute(g)) {
            for v in values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
                if !groups.iter().any(|g| g == v) {
                    groups.push(v.to_owned());
                }
            }
        }
        Ok(UserProfile {
            unique_id,
            email,
            first_name,
            last_name,
            display_name,
            groups,
        })
    }

    /// Like [`profile`](Self::profile), but fails with [`MappingError::MissingEmail`] (naming
    /// the attributes that did arrive) when no email arrived.
    pub fn profile_with_email(&self, a: &VerifiedAssertion) -> Result<UserProfile, MappingError> {
        let profile = self.profile(a)?;
        if profile.email.is_none() {
            return Err(MappingError::MissingEmail {
                tried: self.email.clone(),
                arrived: a.attributes().iter().map(|x| x.name.clone()).collect(),
            });
        }
        Ok(profile)
    }
}

/// The email domains a connection covers (Prelude's `email_domain_allowlist`, CRA Evidence's
/// verified domains). Matching is case-insensitive and exact: `acme.com` does not cover
/// `sub.acme.com` or `evilacme.com` unless listed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EmailDomainAllowlist {
    domains: Vec<String>,
}

impl EmailDomainAllowlist {
    /// An allowlist of these domains (an empty list allows no email at all).
    ///
    /// ```
    /// use fedkit_saml::mapping::EmailDomainAllowlist;
    /// let allow = EmailDomainAllowlist::new(["acme.com", "Acme.co.uk"]);
    /// assert!(allow.check("Jane@ACME.com").is_ok());
    /// assert!(allow.check("jane@evilacme.com").is_err());
    /// assert!(allow.check("jane@acme.com@evil.com").is_err());
    /// ```
    pub fn new<I, S>(domains: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self {
            domains: domains
                .into_iter()
                .map(|d| d.as_ref().trim().trim_start_matches('@').to_ascii_lowercase())
                .filter(|d| !d.is_empty())
                .collect(),
        }
    }

    /// The domains.
    pub fn domains(&self) -> &[String] {
        &self.domains
    }

    /// Whether `email` (exactly one `@`, a non-empty local part) belongs to an allowed domain.
    pub fn check(&self, email: &str) -> Result<(), MappingError> {
        let email = email.trim();
        let domain = match email.split_once('@') {
            Some((local, domain)) if !local.is_empty() && !domain.contains('@') => {
                domain.to_ascii_lowercase()
            }
            _ => {
                return Err(MappingError::DomainNotAllowed {
                    domain: email.to_owned(),
                    allowed: self.domains.clone(),
                })
            }
        };
        if self.domains.contains(&domain) {
            Ok(())
        } else {
            Err(MappingError::DomainNotAllowed {
                domain,
                allowed: self.domains.clone(),
            })
        }
    }
}
