//! Domain names and their ownership proof: normalisation, the DNS TXT challenge, the check of
//! what the host resolved, and the registry that lets at most one tenant hold a verified
//! domain at a time, re-checked on a schedule the host drives.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use fedkit_tenancy::domain::{AppName, DomainName, DomainRegistry, TenantId};
//!
//! let now = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
//! let app = AppName::new("craevidence")?;
//! let acme = TenantId::new("acme")?;
//! let mut domains = DomainRegistry::default();
//! // The host draws the random bytes (at least 16) from its CSPRNG.
//! let challenge = domains.claim(&acme, DomainName::parse("ACME.com.")?, &app, &[7u8; 16], now)?;
//! assert_eq!(challenge.record_name, "_craevidence-verification.acme.com");
//! // ... the admin publishes the record; the host resolves TXT at record_name ...
//! let resolved = vec![challenge.record_value.clone()];
//! domains.verify(&acme, &DomainName::parse("acme.com")?, &resolved, now)?;
//! assert_eq!(domains.verified_owner(&DomainName::parse("Acme.COM")?), Some(&acme));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The longest domain name DNS carries in presentation form, without the final dot.
const MAX_DOMAIN_LEN: usize = 253;
/// The longest label.
const MAX_LABEL_LEN: usize = 63;
/// The fewest random bytes a challenge token is made from (128 bits).
pub const MIN_TOKEN_BYTES: usize = 16;

/// Registry-controlled suffixes under which any registrant's name is one label below: a
/// cheap subset of the Public Suffix List (the ICANN two-label suffixes most often typed by
/// mistake, and the hosting platforms whose subdomains belong to different customers).
/// Anything not listed here is not detected: see [`DomainError::PublicSuffix`].
const KNOWN_PUBLIC_SUFFIXES: &[&str] = &[
    "co.uk",
    "org.uk",
    "ac.uk",
    "gov.uk",
    "ltd.uk",
    "plc.uk",
    "me.uk",
    "net.uk",
    "com.au",
    "net.au",
    "org.au",
    "edu.au",
    "gov.au",
    "co.nz",
    "org.nz",
    "co.jp",
    "ne.jp",
    "or.jp",
    "ac.jp",
    "co.kr",
    "co.in",
    "net.in",
    "org.in",
    "com.br",
    "net.br",
    "org.br",
    "com.cn",
    "net.cn",
    "org.cn",
    "com.mx",
    "com.ar",
    "com.tr",
    "com.tw",
    "com.hk",
    "com.sg",
    "com.my",
    "co.za",
    "co.il",
    "com.es",
    "com.pl",
    "co.id",
    "co.th",
    "com.ua",
    "com.ru",
    "eu.com",
    "us.com",
    "github.io",
    "gitlab.io",
    "herokuapp.com",
    "vercel.app",
    "netlify.app",
    "pages.dev",
    "workers.dev",
    "web.app",
    "firebaseapp.com",
    "appspot.com",
    "blogspot.com",
    "azurewebsites.net",
    "cloudfront.net",
    "amazonaws.com",
    "onmicrosoft.com",
    "fly.dev",
    "ngrok.io",
    "ngrok-free.app",
];

/// Why a string is not a domain a tenant can claim.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DomainError {
    /// Nothing was given.
    #[error("no domain was given; enter the domain of your users' email addresses, like \"acme.com\"")]
    Empty,
    /// The input is an email address or a URL, not a domain.
    #[error("{input:?} is not a bare domain name; enter only the domain, like \"acme.com\" (no \"@\", no scheme, no path, no port)")]
    NotBare {
        /// What was given.
        input: String,
    },
    /// The input is an IP address literal.
    #[error("{input:?} is an IP address; domain verification proves ownership of a domain name, like \"acme.com\"")]
    IpLiteral {
        /// What was given.
        input: String,
    },
    /// IDNA (UTS #46) processing refused the name.
    #[error(
        "{input:?} is not a valid domain name (IDNA processing refused it: {reason}); check the spelling"
    )]
    Idna {
        /// What was given.
        input: String,
        /// The IDNA library's description.
        reason: String,
    },
    /// The name or one of its labels is too long, or a label is empty.
    #[error("{input:?} is not a valid domain name: {reason}")]
    Malformed {
        /// What was given.
        input: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A single label: a top-level domain or an intranet name, which no one tenant owns.
    #[error("{domain:?} is a single label (a top-level domain or a local host name); claim your registered domain, like \"acme.com\"")]
    SingleLabel {
        /// The normalised input.
        domain: String,
    },
    /// A public suffix: many unrelated registrants sit one label below it. Only a short
    /// built-in list is known (e.g. `co.uk`, `com.au`, `github.io`); a suffix missing from it
    /// is not detected here, and the TXT proof is what stops a claim the claimant cannot
    /// publish under.
    #[error("{domain:?} is a public suffix shared by many unrelated owners; claim the domain you registered under it, like \"acme.{domain}\"")]
    PublicSuffix {
        /// The normalised input.
        domain: String,
    },
}

impl DomainError {
    /// A stable `snake_case` code for logs, metrics and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::Empty => "domain_empty",
            DomainError::NotBare { .. } => "domain_not_bare",
            DomainError::IpLiteral { .. } => "domain_ip_literal",
            DomainError::Idna { .. } => "domain_idna_invalid",
            DomainError::Malformed { .. } => "domain_malformed",
            DomainError::SingleLabel { .. } => "domain_single_label",
            DomainError::PublicSuffix { .. } => "domain_public_suffix",
        }
    }
}

/// A domain name in its one comparable form: ASCII (IDNA A-labels, UTS #46 mapping,
/// non-transitional), lower case, without the trailing dot. Two inputs naming the same
/// domain (`Bücher.example.`, `xn--bcher-kva.example`) give equal values.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DomainName(String);

impl DomainName {
    /// Normalises and checks what an admin typed (surrounding whitespace, one trailing dot,
    /// upper case and Unicode forms are accepted).
    ///
    /// Refused: empty input, emails and URLs, IP literals (v4 dotted, v6 bracketed or not),
    /// names IDNA rejects, over-long names or labels, single labels, and the public suffixes
    /// in a short built-in list ([`DomainError::PublicSuffix`] says what is not detected).
    ///
    /// ```
    /// use fedkit_tenancy::domain::DomainName;
    /// assert_eq!(DomainName::parse(" Bücher.Example. ")?.as_str(), "xn--bcher-kva.example");
    /// assert_eq!(DomainName::parse("192.0.2.1").unwrap_err().code(), "domain_ip_literal");
    /// assert_eq!(DomainName::parse("co.uk").unwrap_err().code(), "domain_public_suffix");
    /// # Ok::<(), fedkit_tenancy::domain::DomainError>(())
    /// ```
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(DomainError::Empty);
        }
        if trimmed.contains(['@', '/', ':', '?', '#', ' ', '\t'])
            && !(trimmed.starts_with('[') || trimmed.parse::<std::net::Ipv6Addr>().is_ok())
        {
            return Err(DomainError::NotBare {
                input: input.to_owned(),
            });
        }
        let unbracketed = trimmed.trim_start_matches('[').trim_end_matches(']');
        if unbracketed.parse::<std::net::IpAddr>().is_ok() {
            return Err(DomainError::IpLiteral {
                input: input.to_owned(),
            });
        }
        let without_dot = trimmed.strip_suffix('.').unwrap_or(trimmed);
        let ascii = idna::domain_to_ascii(without_dot).map_err(|e| DomainError::Idna {
            input: input.to_owned(),
            reason: e.to_string(),
        })?;
        let ascii = ascii.strip_suffix('.').unwrap_or(&ascii).to_owned();
        if ascii.is_empty() {
            return Err(DomainError::Empty);
        }
        // A dotted-quad written with full-width digits maps to ASCII digits under UTS #46.
        if ascii.parse::<std::net::IpAddr>().is_ok() {
            return Err(DomainError::IpLiteral {
                input: input.to_owned(),
            });
        }
        if ascii.len() > MAX_DOMAIN_LEN {
            return Err(DomainError::Malformed {
                input: input.to_owned(),
                reason: "longer than 253 characters",
            });
        }
        for label in ascii.split('.') {
            if label.is_empty() {
                return Err(DomainError::Malformed {
                    input: input.to_owned(),
                    reason: "it has an empty label (two dots in a row)",
                });
            }
            if label.len() > MAX_LABEL_LEN {
                return Err(DomainError::Malformed {
                    input: input.to_owned(),
                    reason: "a label is longer than 63 characters",
                });
            }
            if !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(DomainError::Malformed {
                    input: input.to_owned(),
                    reason: "a label has a character other than letters, digits, '-' and '_'",
                });
            }
        }
        if !ascii.contains('.') {
            return Err(DomainError::SingleLabel { domain: ascii });
        }
        if ascii
            .rsplit('.')
            .next()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(DomainError::Malformed {
                input: input.to_owned(),
                reason: "the top-level label is all digits",
            });
        }
        if KNOWN_PUBLIC_SUFFIXES.contains(&ascii.as_str()) {
            return Err(DomainError::PublicSuffix { domain: ascii });
        }
        Ok(Self(ascii))
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The domain part of an email address (`local@domain`, exactly one `@`, non-empty local
    /// part), normalised. `None` when `email` is not of that shape or its domain is not
    /// claimable.
    pub fn of_email(email: &str) -> Option<Self> {
        let (local, domain) = email.trim().split_once('@')?;
        if local.is_empty() || domain.contains('@') {
            return None;
        }
        Self::parse(domain).ok()
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for DomainName {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<DomainName> for String {
    fn from(d: DomainName) -> Self {
        d.0
    }
}

/// Why an application name or a verification token is refused (a [`TenantId`] is
/// fedkit-scim-service's, refused with its `AuthError`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// An application name that is not 1–40 characters of `a-z`, `0-9` and `-`.
    #[error("{what} {value:?} must be {rule}")]
    Invalid {
        /// Which kind of name.
        what: &'static str,
        /// What was given.
        value: String,
        /// The rule.
        rule: &'static str,
    },
    /// A challenge token needs at least [`MIN_TOKEN_BYTES`] random bytes.
    #[error(
        "a verification token needs at least {MIN_TOKEN_BYTES} random bytes from a CSPRNG; {got} were passed"
    )]
    TooFewRandomBytes {
        /// How many bytes were passed.
        got: usize,
    },
}

impl NameError {
    /// A stable `snake_case` code.
    pub fn code(&self) -> &'static str {
        match self {
            NameError::Invalid { .. } => "name_invalid",
            NameError::TooFewRandomBytes { .. } => "random_too_short",
        }
    }
}

/// A tenant (organisation): the same type as fedkit-scim-service's, so a SCIM token's tenant,
/// a verified domain's holder and a connection's owner are one value.
pub use fedkit_scim_service::auth::TenantId;

/// The application's name as it appears in the TXT record: `_<app>-verification.<domain>`
/// (CRA Evidence's `_craevidence-verification`). 1–40 of `a-z0-9-`, not starting or ending
/// with `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AppName(String);

impl AppName {
    /// Checks the name (lower-cased first).
    pub fn new(name: &str) -> Result<Self, NameError> {
        let lower = name.trim().to_ascii_lowercase();
        let ok = !lower.is_empty()
            && lower.len() <= 40
            && !lower.starts_with('-')
            && !lower.ends_with('-')
            && lower
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(lower))
        } else {
            Err(NameError::Invalid {
                what: "application name",
                value: name.to_owned(),
                rule: "1–40 characters of a-z, 0-9 and '-', not starting or ending with '-'",
            })
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AppName {
    type Error = NameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(&value)
    }
}

impl From<AppName> for String {
    fn from(a: AppName) -> Self {
        a.0
    }
}

/// What to publish to prove control of a domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainChallenge {
    /// The domain.
    pub domain: DomainName,
    /// The application name in the record.
    pub app: AppName,
    /// The token (lower-case hex of the random bytes).
    pub token: String,
    /// Where the TXT record goes: `_<app>-verification.<domain>`.
    pub record_name: String,
    /// The TXT record's value: `<app>-verification=<token>`.
    pub record_value: String,
}

impl DomainChallenge {
    /// A challenge for `domain` with a token made from `random` (at least
    /// [`MIN_TOKEN_BYTES`] bytes the host drew from a CSPRNG; the crate draws none).
    pub fn new(domain: DomainName, app: &AppName, random: &[u8]) -> Result<Self, NameError> {
        if random.len() < MIN_TOKEN_BYTES {
            return Err(NameError::TooFewRandomBytes { got: random.len() });
        }
        let token = base16ct::lower::encode_string(random);
        Ok(Self::with_token(domain, app, &token))
    }

    /// The challenge for a token issued earlier (e.g. `fedkit domain check --token`).
    pub fn with_token(domain: DomainName, app: &AppName, token: &str) -> Self {
        let token = token.trim().to_owned();
        Self {
            record_name: format!("_{}-verification.{}", app.as_str(), domain.as_str()),
            record_value: format!("{}-verification={token}", app.as_str()),
            domain,
            app: app.clone(),
            token,
        }
    }

    /// Compares the TXT strings the host resolved at [`record_name`](Self::record_name)
    /// (one entry per record, its character-strings concatenated) with the expected value.
    /// Surrounding whitespace and quotes are ignored; the prefix compares case-insensitively
    /// and the token exactly.
    pub fn check<S: AsRef<str>>(&self, resolved: &[S]) -> TxtCheck {
        let prefix = format!("{}-verification=", self.app.as_str());
        let mut findings = Vec::new();
        for record in resolved {
            let raw = record.as_ref();
            let value = raw.trim().trim_matches('"').trim();
            let finding = match value.get(..prefix.len()) {
                Some(head) if head.eq_ignore_ascii_case(&prefix) => {
                    let token = value.get(prefix.len()..).unwrap_or_default().trim();
                    if token == self.token {
                        return TxtCheck::Verified {
                            record: raw.to_owned(),
                        };
                    }
                    if token.eq_ignore_ascii_case(&self.token) {
                        TxtMismatch::TokenCase
                    } else if token.is_empty() {
                        TxtMismatch::EmptyToken
                    } else {
                        TxtMismatch::OtherToken
                    }
                }
                _ if value.contains(&self.token) => TxtMismatch::WrongPrefix,
                _ if value.to_ascii_lowercase().contains("-verification=") => TxtMismatch::OtherApplication,
                _ => TxtMismatch::Unrelated,
            };
            findings.push(TxtFinding {
                record: raw.to_owned(),
                mismatch: finding,
            });
        }
        if findings.is_empty() {
            TxtCheck::NoRecord
        } else {
            TxtCheck::Mismatch { findings }
        }
    }
}

/// Why one TXT record does not prove the challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TxtMismatch {
    /// The record is for this application but carries another token (an older challenge,
    /// or another tenant's).
    OtherToken,
    /// The token differs only in letter case (tokens are exact).
    TokenCase,
    /// The record has the prefix but no token.
    EmptyToken,
    /// The token is there but the `<app>-verification=` prefix is not.
    WrongPrefix,
    /// A verification record of another application.
    OtherApplication,
    /// Some other TXT record.
    Unrelated,
}

impl TxtMismatch {
    /// A sentence for the admin.
    pub fn explain(self) -> &'static str {
        match self {
            TxtMismatch::OtherToken => "a verification record for this application with a different token (an older challenge, or another organisation's): replace its value with the one shown",
            TxtMismatch::TokenCase => "the token differs in letter case: tokens are exact; paste the value again",
            TxtMismatch::EmptyToken => "the record has the prefix but no token: paste the whole value",
            TxtMismatch::WrongPrefix => "the token is there but the value must start with the prefix shown: paste the whole value, not only the token",
            TxtMismatch::OtherApplication => "a verification record of another application: it does not count here",
            TxtMismatch::Unrelated => "an unrelated TXT record",
        }
    }
}

/// One resolved record that did not match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxtFinding {
    /// The record as resolved.
    pub record: String,
    /// Why it does not match.
    pub mismatch: TxtMismatch,
}

/// The outcome of comparing resolved TXT records with a challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[non_exhaustive]
pub enum TxtCheck {
    /// A record carries the expected value.
    Verified {
        /// That record.
        record: String,
    },
    /// No TXT record at the name (not published yet, a typo in the record name, or DNS
    /// caches still holding the earlier answer).
    NoRecord,
    /// Records exist, none matches.
    Mismatch {
        /// Each record and why it does not match.
        findings: Vec<TxtFinding>,
    },
}

impl TxtCheck {
    /// Whether the domain is proven.
    pub fn is_verified(&self) -> bool {
        matches!(self, TxtCheck::Verified { .. })
    }
}

/// Where one tenant's claim on a domain stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClaimState {
    /// The challenge was issued; the record was not seen yet.
    Pending,
    /// The record was seen.
    Verified {
        /// When it was first seen.
        since: DateTime<Utc>,
        /// The last successful check.
        last_checked: DateTime<Utc>,
        /// Failed re-checks in a row since the last success.
        failures: u32,
    },
    /// Verification was lost: the record disappeared on re-check.
    Lost {
        /// When.
        at: DateTime<Utc>,
    },
}

/// One tenant's claim on one domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainClaim {
    /// The tenant.
    pub tenant: TenantId,
    /// The challenge it must keep published.
    pub challenge: DomainChallenge,
    /// When the claim was made.
    pub created: DateTime<Utc>,
    /// Its state.
    pub state: ClaimState,
}

impl DomainClaim {
    /// Whether the claim is verified now (routing, linking and enforcement use only those).
    pub fn is_verified(&self) -> bool {
        matches!(self.state, ClaimState::Verified { .. })
    }
}

/// Why a claim or a verification was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// Another tenant holds this domain verified. At most one tenant verifies a domain at a
    /// time: the other tenant's claim must be released, or lost on re-check (its record
    /// removed from DNS), before this one can verify.
    #[error("{domain} is verified by another organisation; if you own it, remove that organisation's _…-verification TXT record (its claim is lost on the next re-check) or ask support to release it, then verify again")]
    TakenByOther {
        /// The domain.
        domain: DomainName,
        /// The tenant holding it (for the operator; do not show it to the claimant).
        holder: TenantId,
    },
    /// This tenant has no claim on the domain: start with a challenge.
    #[error("no challenge was issued for {domain} to this organisation; claim the domain first to get the TXT record to publish")]
    NoClaim {
        /// The domain.
        domain: DomainName,
    },
    /// The TXT records do not prove the challenge.
    #[error("{domain}: {}", describe_check(check, record_name))]
    NotProven {
        /// The domain.
        domain: DomainName,
        /// Where the record was looked for.
        record_name: String,
        /// What was found.
        check: TxtCheck,
    },
    /// The challenge could not be made.
    #[error(transparent)]
    Name(#[from] NameError),
}

impl VerifyError {
    /// A stable `snake_case` code.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::TakenByOther { .. } => "domain_taken",
            VerifyError::NoClaim { .. } => "domain_not_claimed",
            VerifyError::NotProven { check, .. } => match check {
                TxtCheck::NoRecord => "txt_record_missing",
                _ => "txt_record_mismatch",
            },
            VerifyError::Name(e) => e.code(),
        }
    }
}

/// A sentence describing a check's outcome (used by messages and the CLI).
pub fn describe_check(check: &TxtCheck, record_name: &str) -> String {
    match check {
        TxtCheck::Verified { record } => format!("TXT {record_name} carries the expected value ({record:?})"),
        TxtCheck::NoRecord => format!(
            "no TXT record was found at {record_name}; publish it at exactly that name (some DNS consoles add the domain themselves: then enter only the part before the domain), and allow for the record's TTL"
        ),
        TxtCheck::Mismatch { findings } => {
            let each: Vec<String> = findings
                .iter()
                .map(|f| format!("{:?}: {}", f.record, f.mismatch.explain()))
                .collect();
            format!(
                "{} TXT record(s) at {record_name}, none with the expected value: {}",
                findings.len(),
                each.join("; ")
            )
        }
    }
}

/// What a re-check found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecheckOutcome {
    /// The record is still there.
    StillVerified,
    /// The record was not found, but fewer failures in a row than the policy allows: the
    /// domain stays verified for now (a DNS outage must not unroute a tenant).
    Failing {
        /// Failures in a row so far.
        failures: u32,
        /// Further failures before the domain is lost.
        remaining: u32,
        /// What the check found.
        check: TxtCheck,
    },
    /// The domain is no longer verified for this tenant.
    Lost {
        /// What stops working now.
        stops: Vec<LostCapability>,
        /// What the last check found.
        check: TxtCheck,
    },
    /// The claim is not verified (pending or already lost): nothing to re-check.
    NotVerified,
}

/// What stops working for a tenant when its domain is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LostCapability {
    /// Email addresses at the domain no longer route to the tenant's connection.
    Routing,
    /// IdP logins at the domain no longer link to existing accounts.
    AccountLinking,
    /// Password logins at the domain are no longer refused by SSO enforcement.
    Enforcement,
}

/// How often verified domains are re-checked and how many failures in a row are tolerated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecheckPolicy {
    /// Time between checks of one domain.
    pub interval: Duration,
    /// Failed checks in a row after which the domain is lost (at least 1).
    pub failures_before_loss: u32,
}

impl Default for RecheckPolicy {
    /// Daily, lost after two failures in a row (so at most about two days of a former
    /// owner's claim after the record is removed).
    fn default() -> Self {
        Self {
            interval: Duration::hours(24),
            failures_before_loss: 2,
        }
    }
}

/// Every tenant's claims, as the host stores them (serde). A host keeping claims in a
/// database enforces the same invariant with a unique index on the verified domain; this
/// type says what to write.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainRegistry {
    claims: Vec<DomainClaim>,
}

impl DomainRegistry {
    /// Every claim.
    pub fn claims(&self) -> &[DomainClaim] {
        &self.claims
    }

    /// The claim of `tenant` on `domain`.
    pub fn claim_of(&self, tenant: &TenantId, domain: &DomainName) -> Option<&DomainClaim> {
        self.claims
            .iter()
            .find(|c| &c.tenant == tenant && &c.challenge.domain == domain)
    }

    /// The tenant holding `domain` verified, if any.
    pub fn verified_owner(&self, domain: &DomainName) -> Option<&TenantId> {
        self.claims
            .iter()
            .find(|c| &c.challenge.domain == domain && c.is_verified())
            .map(|c| &c.tenant)
    }

    /// Whether `tenant` holds `domain` verified.
    pub fn is_verified_for(&self, tenant: &TenantId, domain: &DomainName) -> bool {
        self.verified_owner(domain) == Some(tenant)
    }

    /// The domains `tenant` holds verified.
    pub fn verified_domains<'a>(&'a self, tenant: &'a TenantId) -> impl Iterator<Item = &'a DomainName> + 'a {
        self.claims
            .iter()
            .filter(move |c| &c.tenant == tenant && c.is_verified())
            .map(|c| &c.challenge.domain)
    }

    /// Starts (or restarts, with a new token) `tenant`'s claim on `domain`. Several tenants
    /// may hold pending claims on one domain (so a squatter cannot block the owner), but
    /// [`verify`](Self::verify) lets only one be verified. Refused when another tenant holds
    /// the domain verified; a tenant that already holds it verified gets a fresh challenge
    /// while its verification stands.
    pub fn claim(
        &mut self,
        tenant: &TenantId,
        domain: DomainName,
        app: &AppName,
        random: &[u8],
        now: DateTime<Utc>,
    ) -> Result<DomainChallenge, VerifyError> {
        if let Some(holder) = self.verified_owner(&domain) {
            if holder != tenant {
                return Err(VerifyError::TakenByOther {
                    holder: holder.clone(),
                    domain,
                });
            }
        }
        let challenge = DomainChallenge::new(domain.clone(), app, random)?;
        match self
            .claims
            .iter_mut()
            .find(|c| &c.tenant == tenant && c.challenge.domain == domain)
        {
            Some(existing) => {
                existing.challenge = challenge.clone();
                if !existing.is_verified() {
                    existing.state = ClaimState::Pending;
                }
            }
            None => self.claims.push(DomainClaim {
                tenant: tenant.clone(),
                challenge: challenge.clone(),
                created: now,
                state: ClaimState::Pending,
            }),
        }
        Ok(challenge)
    }

    /// Checks `tenant`'s claim against the TXT strings the host resolved at the challenge's
    /// record name, and marks it verified. Refused when another tenant holds the domain
    /// verified, whatever the records say.
    pub fn verify<S: AsRef<str>>(
        &mut self,
        tenant: &TenantId,
        domain: &DomainName,
        resolved: &[S],
        now: DateTime<Utc>,
    ) -> Result<&DomainClaim, VerifyError> {
        if let Some(holder) = self.verified_owner(domain) {
            if holder != tenant {
                return Err(VerifyError::TakenByOther {
                    holder: holder.clone(),
                    domain: domain.clone(),
                });
            }
        }
        let Some(claim) = self
            .claims
            .iter_mut()
            .find(|c| &c.tenant == tenant && &c.challenge.domain == domain)
        else {
            return Err(VerifyError::NoClaim {
                domain: domain.clone(),
            });
        };
        let check = claim.challenge.check(resolved);
        if !check.is_verified() {
            return Err(VerifyError::NotProven {
                domain: domain.clone(),
                record_name: claim.challenge.record_name.clone(),
                check,
            });
        }
        claim.state = match claim.state {
            ClaimState::Verified { since, .. } => ClaimState::Verified {
                since,
                last_checked: now,
                failures: 0,
            },
            _ => ClaimState::Verified {
                since: now,
                last_checked: now,
                failures: 0,
            },
        };
        Ok(claim)
    }

    /// The verified claims whose last successful check is at least `policy.interval` old:
    /// resolve each one's record name and pass the answer to [`recheck`](Self::recheck).
    pub fn due_for_recheck(&self, policy: &RecheckPolicy, now: DateTime<Utc>) -> Vec<&DomainClaim> {
        self.claims
            .iter()
            .filter(|c| match c.state {
                ClaimState::Verified { last_checked, .. } => now - last_checked >= policy.interval,
                _ => false,
            })
            .collect()
    }

    /// Re-checks a verified claim with the TXT strings the host resolved. `enforced` says
    /// whether the tenant enforces SSO on the domain (so whether losing it stops
    /// enforcement).
    pub fn recheck<S: AsRef<str>>(
        &mut self,
        tenant: &TenantId,
        domain: &DomainName,
        resolved: &[S],
        policy: &RecheckPolicy,
        enforced: bool,
        now: DateTime<Utc>,
    ) -> RecheckOutcome {
        let Some(claim) = self
            .claims
            .iter_mut()
            .find(|c| &c.tenant == tenant && &c.challenge.domain == domain)
        else {
            return RecheckOutcome::NotVerified;
        };
        let ClaimState::Verified { since, failures, .. } = claim.state else {
            return RecheckOutcome::NotVerified;
        };
        let check = claim.challenge.check(resolved);
        if check.is_verified() {
            claim.state = ClaimState::Verified {
                since,
                last_checked: now,
                failures: 0,
            };
            return RecheckOutcome::StillVerified;
        }
        let failures = failures.saturating_add(1);
        let allowed = policy.failures_before_loss.max(1);
        if failures < allowed {
            if let ClaimState::Verified { failures: f, .. } = &mut claim.state {
                *f = failures;
            }
            return RecheckOutcome::Failing {
                failures,
                remaining: allowed - failures,
                check,
            };
        }
        claim.state = ClaimState::Lost { at: now };
        let mut stops = vec![LostCapability::Routing, LostCapability::AccountLinking];
        if enforced {
            stops.push(LostCapability::Enforcement);
        }
        RecheckOutcome::Lost { stops, check }
    }

    /// Removes `tenant`'s claim on `domain` (the tenant gives it up, or support releases it).
    /// Returns whether there was one.
    pub fn release(&mut self, tenant: &TenantId, domain: &DomainName) -> bool {
        let before = self.claims.len();
        self.claims
            .retain(|c| !(&c.tenant == tenant && &c.challenge.domain == domain));
        self.claims.len() != before
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
    }
    fn d(s: &str) -> DomainName {
        DomainName::parse(s).unwrap()
    }
    fn t(s: &str) -> TenantId {
        TenantId::new(s).unwrap()
    }
    fn app() -> AppName {
        AppName::new("fedkit").unwrap()
    }

    #[test]
    fn normalisation_case_trailing_dot_and_idna() {
        assert_eq!(d("ACME.Com.").as_str(), "acme.com");
        assert_eq!(d("  acme.com ").as_str(), "acme.com");
        assert_eq!(d("Bücher.example").as_str(), "xn--bcher-kva.example");
        assert_eq!(d("xn--bcher-kva.example"), d("BÜCHER.example."));
        // UTS #46 maps full-width dots and letters.
        assert_eq!(d("ａｃｍｅ。com").as_str(), "acme.com");
    }

    #[test]
    fn every_refusal_has_its_code() {
        let code = |s: &str| DomainName::parse(s).unwrap_err().code();
        assert_eq!(code("  "), "domain_empty");
        assert_eq!(code("jane@acme.com"), "domain_not_bare");
        assert_eq!(code("https://acme.com/"), "domain_not_bare");
        assert_eq!(code("acme.com:443"), "domain_not_bare");
        assert_eq!(code("192.0.2.10"), "domain_ip_literal");
        assert_eq!(code("[2001:db8::1]"), "domain_ip_literal");
        // Full-width digits and dots map to a dotted quad under UTS #46.
        assert_eq!(code("１９２。０。２。１"), "domain_ip_literal");
        assert_eq!(code("2001:db8::1"), "domain_ip_literal");
        assert_eq!(code("localhost"), "domain_single_label");
        assert_eq!(code("com."), "domain_single_label");
        assert_eq!(code("CO.UK"), "domain_public_suffix");
        assert_eq!(code("github.io"), "domain_public_suffix");
        assert_eq!(code("acme..com"), "domain_malformed");
        assert_eq!(code(&format!("{}.com", "a".repeat(64))), "domain_malformed");
        assert_eq!(code("acme.123"), "domain_malformed");
        assert_eq!(code("xn--a.com"), "domain_idna_invalid");
        // Below a public suffix is fine.
        assert_eq!(d("acme.co.uk").as_str(), "acme.co.uk");
    }

    #[test]
    fn email_domain() {
        assert_eq!(DomainName::of_email("Jane@ACME.com"), Some(d("acme.com")));
        assert_eq!(DomainName::of_email("jane@acme.com@evil.com"), None);
        assert_eq!(DomainName::of_email("@acme.com"), None);
        assert_eq!(DomainName::of_email("acme.com"), None);
    }

    #[test]
    fn challenge_needs_enough_random_bytes() {
        let e = DomainChallenge::new(d("acme.com"), &app(), &[1u8; 15]).unwrap_err();
        assert_eq!(e.code(), "random_too_short");
        let c = DomainChallenge::new(d("acme.com"), &app(), &[0xab; 16]).unwrap();
        assert_eq!(c.token, "ab".repeat(16));
        assert_eq!(c.record_name, "_fedkit-verification.acme.com");
        assert_eq!(c.record_value, format!("fedkit-verification={}", "ab".repeat(16)));
    }

    #[test]
    fn txt_check_explains_each_mismatch() {
        let c = DomainChallenge::with_token(d("acme.com"), &app(), "abc123");
        assert_eq!(c.check::<&str>(&[]), TxtCheck::NoRecord);
        assert!(c.check(&["\"fedkit-verification=abc123\""]).is_verified());
        assert!(c.check(&["FEDKIT-Verification=abc123"]).is_verified());
        let kinds = |records: &[&str]| match c.check(records) {
            TxtCheck::Mismatch { findings } => findings.iter().map(|f| f.mismatch).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            kinds(&[
                "fedkit-verification=zzz",
                "fedkit-verification=ABC123",
                "fedkit-verification=",
                "abc123",
                "other-verification=abc",
                "v=spf1 -all"
            ]),
            vec![
                TxtMismatch::OtherToken,
                TxtMismatch::TokenCase,
                TxtMismatch::EmptyToken,
                TxtMismatch::WrongPrefix,
                TxtMismatch::OtherApplication,
                TxtMismatch::Unrelated
            ]
        );
    }

    #[test]
    fn one_tenant_at_a_time() {
        let mut r = DomainRegistry::default();
        let (acme, evil) = (t("acme"), t("evil"));
        let c1 = r.claim(&acme, d("acme.com"), &app(), &[1; 16], now()).unwrap();
        let c2 = r.claim(&evil, d("acme.com"), &app(), &[2; 16], now()).unwrap();
        // Both records published (the attacker also got its record in): the first verifies.
        let both = [c1.record_value.clone(), c2.record_value.clone()];
        r.verify(&acme, &d("acme.com"), &both, now()).unwrap();
        let e = r.verify(&evil, &d("acme.com"), &both, now()).unwrap_err();
        assert_eq!(e.code(), "domain_taken");
        let e = r
            .claim(&evil, d("acme.com"), &app(), &[3; 16], now())
            .unwrap_err();
        assert_eq!(e.code(), "domain_taken");
        assert_eq!(r.verified_owner(&d("ACME.com")), Some(&acme));
        // A claim never issued cannot verify.
        assert_eq!(
            r.verify(&evil, &d("other.com"), &both, now()).unwrap_err().code(),
            "domain_not_claimed"
        );
        // Wrong records: say why.
        r.claim(&evil, d("evil.com"), &app(), &[4; 16], now()).unwrap();
        assert_eq!(
            r.verify::<&str>(&evil, &d("evil.com"), &[], now())
                .unwrap_err()
                .code(),
            "txt_record_missing"
        );
        assert_eq!(
            r.verify(
                &evil,
                &d("evil.com"),
                std::slice::from_ref(&c1.record_value),
                now()
            )
            .unwrap_err()
            .code(),
            "txt_record_mismatch"
        );
    }

    #[test]
    fn recheck_loses_after_the_allowed_failures_and_says_what_stops() {
        let mut r = DomainRegistry::default();
        let acme = t("acme");
        let c = r.claim(&acme, d("acme.com"), &app(), &[1; 16], now()).unwrap();
        r.verify(
            &acme,
            &d("acme.com"),
            std::slice::from_ref(&c.record_value),
            now(),
        )
        .unwrap();
        let policy = RecheckPolicy::default();
        assert!(r.due_for_recheck(&policy, now() + Duration::hours(23)).is_empty());
        let later = now() + Duration::hours(24);
        assert_eq!(r.due_for_recheck(&policy, later).len(), 1);
        assert_eq!(
            r.recheck(
                &acme,
                &d("acme.com"),
                std::slice::from_ref(&c.record_value),
                &policy,
                true,
                later
            ),
            RecheckOutcome::StillVerified
        );
        let none: [&str; 0] = [];
        assert!(matches!(
            r.recheck(&acme, &d("acme.com"), &none, &policy, true, later),
            RecheckOutcome::Failing {
                failures: 1,
                remaining: 1,
                ..
            }
        ));
        assert!(r.is_verified_for(&acme, &d("acme.com")));
        match r.recheck(&acme, &d("acme.com"), &none, &policy, true, later) {
            RecheckOutcome::Lost { stops, .. } => assert_eq!(
                stops,
                vec![
                    LostCapability::Routing,
                    LostCapability::AccountLinking,
                    LostCapability::Enforcement
                ]
            ),
            other => panic!("{other:?}"),
        }
        assert_eq!(r.verified_owner(&d("acme.com")), None);
        assert_eq!(
            r.recheck(&acme, &d("acme.com"), &none, &policy, true, later),
            RecheckOutcome::NotVerified
        );
        // Now someone else can verify it.
        let evil = t("newowner");
        let c2 = r.claim(&evil, d("acme.com"), &app(), &[9; 16], later).unwrap();
        r.verify(&evil, &d("acme.com"), &[c2.record_value], later)
            .unwrap();
        assert_eq!(r.verified_owner(&d("acme.com")), Some(&evil));
        assert!(r.release(&evil, &d("acme.com")));
        assert_eq!(r.verified_owner(&d("acme.com")), None);
    }

    #[test]
    fn registry_round_trips_through_json() {
        let mut r = DomainRegistry::default();
        let acme = t("acme");
        let c = r.claim(&acme, d("acme.com"), &app(), &[1; 16], now()).unwrap();
        r.verify(&acme, &d("acme.com"), &[c.record_value], now()).unwrap();
        let json = serde_json::to_string(&r).unwrap();
        let back: DomainRegistry = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
        // A stored domain that is not normalised is refused on load.
        assert!(serde_json::from_str::<DomainName>("\"localhost\"").is_err());
    }

    proptest! {
        #[test]
        fn normalisation_is_idempotent(s in "[a-zA-Z0-9äöüß.-]{1,40}\\.?") {
            if let Ok(once) = DomainName::parse(&s) {
                let twice = DomainName::parse(once.as_str()).unwrap();
                prop_assert_eq!(&once, &twice);
                prop_assert_eq!(once.as_str().to_ascii_lowercase(), once.as_str());
                prop_assert!(!once.as_str().ends_with('.'));
            }
        }

        #[test]
        fn a_verified_domain_is_never_verified_by_another_tenant(
            ops in proptest::collection::vec((0usize..3, 0u8..4, any::<bool>()), 1..40)
        ) {
            let tenants = [t("a"), t("b"), t("c")];
            let domain = d("acme.com");
            let mut r = DomainRegistry::default();
            let mut records: Vec<String> = Vec::new();
            for (i, (who, op, flag)) in ops.into_iter().enumerate() {
                let tenant = &tenants[who];
                let at = now() + Duration::hours(i64::try_from(i).unwrap() * 25);
                match op {
                    0 => if let Ok(c) = r.claim(tenant, domain.clone(), &app(), &[u8::try_from(i).unwrap(); 16], at) {
                        if flag { records.push(c.record_value) }
                    },
                    1 => { let _ = r.verify(tenant, &domain, &records, at); }
                    2 => { let _ = r.recheck(tenant, &domain, if flag { &records[..] } else { &[] }, &RecheckPolicy::default(), false, at); }
                    _ => { if flag { r.release(tenant, &domain); } }
                }
                let verified = r.claims().iter().filter(|c| c.is_verified()).count();
                prop_assert!(verified <= 1, "{verified} tenants verified one domain");
            }
        }
    }
}
