//! Bearer-token authentication (RFC 6750) for SCIM clients.
//!
//! Tokens are kept only as SHA-256 hashes, each belonging to one [`TenantId`]. A tenant may
//! have several active tokens (e.g. while an IdP configuration is being switched over);
//! [`TokenRegistry::rotate`] replaces one token by a new one and invalidates the old one in
//! a single step, the way TrueFoundry's "View Config" rotation behaves.

use std::fmt;
use std::sync::{PoisonError, RwLock};

use fedkit_scim::error::ScimError;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The shortest token [`TokenRegistry::add`] accepts, in characters.
pub const MIN_TOKEN_LEN: usize = 16;

/// The longest tenant name [`TenantId::new`] accepts, in bytes.
pub const MAX_TENANT_LEN: usize = 128;

/// A customer organisation: every SCIM token belongs to one, and fedkit-tenancy's verified
/// domains, connections and accounts name their tenant with the same type. Serialized as its
/// name, and checked again when read back.
///
/// ```
/// use fedkit_scim_service::auth::TenantId;
/// let acme = TenantId::new("acme")?;
/// assert_eq!(serde_json::to_string(&acme)?, r#""acme""#);
/// assert_eq!(serde_json::from_str::<TenantId>(r#""acme""#)?, acme);
/// assert!(serde_json::from_str::<TenantId>(r#""""#).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

impl TenantId {
    /// A tenant name: 1 to [`MAX_TENANT_LEN`] bytes, without control characters.
    pub fn new(name: impl Into<String>) -> Result<Self, AuthError> {
        let name = name.into();
        if name.is_empty() || name.len() > MAX_TENANT_LEN || name.chars().any(char::is_control) {
            return Err(AuthError::InvalidTenant { length: name.len() });
        }
        Ok(Self(name))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for TenantId {
    type Error = AuthError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<TenantId> for String {
    fn from(tenant: TenantId) -> Self {
        tenant.0
    }
}

/// The handle of a registered token (not the token itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenId(u64);

/// Who a request authenticated as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The tenant the token belongs to.
    pub tenant: TenantId,
    /// The token that matched.
    pub token: TokenId,
}

/// Why a request or a token was refused. Never contains the presented token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No `Authorization` header.
    #[error("the request has no Authorization header; the SCIM client must send \"Authorization: Bearer <token>\" (in JumpCloud, fill in the Token Key field and click Save)")]
    MissingHeader,
    /// An `Authorization` header with another scheme (e.g. `Basic`).
    #[error("the Authorization header uses the {scheme:?} scheme; this service accepts bearer tokens only (\"Authorization: Bearer <token>\")")]
    NotBearer {
        /// The scheme as sent (shortened to 32 characters).
        scheme: String,
    },
    /// `Bearer` without a token.
    #[error("the Authorization header carries no token after \"Bearer\"; paste the token into the IdP's Token Key field")]
    EmptyToken,
    /// The token is not (or no longer) valid for this service or this tenant.
    #[error("the bearer token is not valid for this service (it may have been rotated or revoked); paste the current token into the IdP's Token Key field and save")]
    InvalidToken,
    /// A token offered to [`TokenRegistry::add`] is too short to be a secret.
    #[error("the token is {actual} characters long; use at least {min} random characters")]
    TokenTooShort {
        /// [`MIN_TOKEN_LEN`].
        min: usize,
        /// The length given (after removing a `Bearer ` prefix and whitespace).
        actual: usize,
    },
    /// A token offered to [`TokenRegistry::add`] contains whitespace or control characters.
    #[error("the token contains whitespace or control characters; a bearer token is one word")]
    TokenNotOneWord,
    /// A tenant name that is empty, too long or contains control characters.
    #[error("a tenant name must be 1 to {MAX_TENANT_LEN} bytes without control characters (this one is {length} bytes)")]
    InvalidTenant {
        /// The length given, in bytes.
        length: usize,
    },
    /// [`TokenRegistry::rotate`] or [`TokenRegistry::revoke`] on a token that is not registered.
    #[error("no token with this handle is registered (already revoked or rotated?)")]
    UnknownTokenId,
}

impl AuthError {
    /// A stable `snake_case` code for logs, metrics and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::MissingHeader => "authorization_missing",
            AuthError::NotBearer { .. } => "not_bearer",
            AuthError::EmptyToken => "token_empty",
            AuthError::InvalidToken => "token_invalid",
            AuthError::TokenTooShort { .. } => "token_too_short",
            AuthError::TokenNotOneWord => "token_not_one_word",
            AuthError::InvalidTenant { .. } => "tenant_invalid",
            AuthError::UnknownTokenId => "token_id_unknown",
        }
    }
}

impl AuthError {
    /// The HTTP status a service answers with: 401 for request authentication failures,
    /// 400 for the configuration errors.
    pub fn status(&self) -> u16 {
        match self {
            Self::MissingHeader | Self::NotBearer { .. } | Self::EmptyToken | Self::InvalidToken => 401,
            _ => 400,
        }
    }
}

impl From<AuthError> for ScimError {
    fn from(err: AuthError) -> Self {
        ScimError::new(err.status(), None, err.to_string())
    }
}

/// The token as it is hashed: whitespace trimmed and any number of leading `Bearer `
/// prefixes (any case) removed — admins paste "Bearer scim_…" into JumpCloud's Token Key
/// field, and some clients then add their own prefix.
fn normalize(mut token: &str) -> &str {
    loop {
        token = token.trim();
        match token.get(..7) {
            Some(p) if p.eq_ignore_ascii_case("bearer ") || p.eq_ignore_ascii_case("bearer\t") => {
                token = token.get(7..).unwrap_or_default();
            }
            _ => return token,
        }
    }
}

/// The SHA-256 of a token after the normalization [`TokenRegistry`] applies (surrounding
/// whitespace and `Bearer ` prefixes removed). Store this, never the token.
pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(normalize(token).as_bytes()).into()
}

#[derive(Debug)]
struct Entry {
    id: TokenId,
    tenant: TenantId,
    hash: [u8; 32],
}

#[derive(Debug, Default)]
struct Inner {
    entries: Vec<Entry>,
    next_id: u64,
}

impl Inner {
    fn push(&mut self, tenant: TenantId, hash: [u8; 32]) -> TokenId {
        let id = TokenId(self.next_id);
        self.next_id = self.next_id.saturating_add(1);
        self.entries.push(Entry { id, tenant, hash });
        id
    }
}

/// The registered tokens, as hashes, shared between request threads (interior locking).
#[derive(Debug, Default)]
pub struct TokenRegistry {
    inner: RwLock<Inner>,
}

fn check_token(token: &str) -> Result<&str, AuthError> {
    let token = normalize(token);
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AuthError::TokenNotOneWord);
    }
    let actual = token.chars().count();
    if actual < MIN_TOKEN_LEN {
        return Err(AuthError::TokenTooShort {
            min: MIN_TOKEN_LEN,
            actual,
        });
    }
    Ok(token)
}

impl TokenRegistry {
    /// No tokens: every request is refused.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `token` for `tenant` (a `Bearer ` prefix is removed). Only its hash is kept.
    pub fn add(&self, tenant: &TenantId, token: &str) -> Result<TokenId, AuthError> {
        let token = check_token(token)?;
        Ok(self.add_hash(tenant, hash_token(token)))
    }

    /// Registers a token by its [`hash_token`] value (e.g. loaded from the host's database).
    pub fn add_hash(&self, tenant: &TenantId, hash: [u8; 32]) -> TokenId {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        inner.push(tenant.clone(), hash)
    }

    /// Invalidates a token. Errors with [`AuthError::UnknownTokenId`] when it is not registered.
    pub fn revoke(&self, id: TokenId) -> Result<(), AuthError> {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let before = inner.entries.len();
        inner.entries.retain(|e| e.id != id);
        if inner.entries.len() == before {
            return Err(AuthError::UnknownTokenId);
        }
        Ok(())
    }

    /// Replaces the token `old` by `new_token` for the same tenant, in one step: from the
    /// moment this returns the old token is refused and the new one accepted. Other tokens
    /// of the tenant stay valid.
    pub fn rotate(&self, old: TokenId, new_token: &str) -> Result<TokenId, AuthError> {
        let token = check_token(new_token)?;
        let hash = hash_token(token);
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let pos = inner
            .entries
            .iter()
            .position(|e| e.id == old)
            .ok_or(AuthError::UnknownTokenId)?;
        let removed = inner.entries.remove(pos);
        Ok(inner.push(removed.tenant, hash))
    }

    /// The number of active tokens.
    pub fn len(&self) -> usize {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .entries
            .len()
    }

    /// Whether no token is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks an `Authorization` header value. Accepted forms: `Bearer TOKEN` (scheme in any
    /// case), `Bearer Bearer TOKEN` (a Token Key typed with its prefix) and the bare token.
    /// The token's hash is compared in constant time with every registered hash.
    pub fn authenticate(&self, authorization: Option<&str>) -> Result<Principal, AuthError> {
        let header = authorization.ok_or(AuthError::MissingHeader)?.trim();
        let token = normalize(header);
        if token.is_empty() || token.eq_ignore_ascii_case("bearer") {
            return Err(if header.is_empty() {
                AuthError::MissingHeader
            } else {
                AuthError::EmptyToken
            });
        }
        if let Some((scheme, _)) = token.split_once(|c: char| c.is_whitespace()) {
            return Err(AuthError::NotBearer {
                scheme: scheme.chars().take(32).collect(),
            });
        }
        let presented: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        let mut found: Option<&Entry> = None;
        for e in &inner.entries {
            // No early exit: every hash is compared.
            if bool::from(e.hash.ct_eq(&presented)) && found.is_none() {
                found = Some(e);
            }
        }
        found
            .map(|e| Principal {
                tenant: e.tenant.clone(),
                token: e.id,
            })
            .ok_or(AuthError::InvalidToken)
    }

    /// Like [`TokenRegistry::authenticate`], and the token must belong to `tenant` (a tenant
    /// the host took from the URL). A token of another tenant is [`AuthError::InvalidToken`],
    /// the same answer as an unknown token.
    pub fn authenticate_for(
        &self,
        tenant: &TenantId,
        authorization: Option<&str>,
    ) -> Result<Principal, AuthError> {
        let p = self.authenticate(authorization)?;
        if &p.tenant != tenant {
            return Err(AuthError::InvalidToken);
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const T1: &str = "scim_4f9d2c7e1b8a6d3f0e5c";
    const T2: &str = "scim_0a1b2c3d4e5f60718293";

    fn tenant(name: &str) -> TenantId {
        TenantId::new(name).unwrap()
    }

    #[test]
    fn auth_store_and_id_errors_have_distinct_stable_codes() {
        use crate::store::StoreError;
        let codes = [
            AuthError::MissingHeader.code(),
            AuthError::NotBearer {
                scheme: "Basic".into(),
            }
            .code(),
            AuthError::EmptyToken.code(),
            AuthError::InvalidToken.code(),
            AuthError::TokenTooShort { min: 16, actual: 3 }.code(),
            AuthError::TokenNotOneWord.code(),
            AuthError::InvalidTenant { length: 0 }.code(),
            AuthError::UnknownTokenId.code(),
            StoreError::DuplicateId {
                kind: "User",
                id: "1".into(),
            }
            .code(),
            StoreError::Conflict {
                kind: "User",
                attribute: "userName",
                value: "a".into(),
            }
            .code(),
            StoreError::NotFound {
                kind: "User",
                id: "1".into(),
            }
            .code(),
            StoreError::MalformedResource.code(),
            StoreError::Busy {
                detail: String::new(),
            }
            .code(),
            StoreError::Backend {
                detail: String::new(),
            }
            .code(),
            crate::ids::IdError::Unavailable {
                detail: String::new(),
            }
            .code(),
            crate::ids::IdError::Invalid {
                id: String::new(),
                reason: "",
            }
            .code(),
        ];
        let mut seen = std::collections::HashSet::new();
        for code in codes {
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{code}"
            );
            assert!(seen.insert(code), "{code} names two conditions");
        }
    }

    #[test]
    fn accepts_the_forms_jumpcloud_and_other_clients_send() {
        let reg = TokenRegistry::new();
        let id = reg.add(&tenant("acme"), T1).unwrap();
        for header in [
            format!("Bearer {T1}"),
            format!("bearer {T1}"),
            format!("BEARER  {T1} "),
            format!("Bearer Bearer {T1}"),
            T1.to_owned(),
        ] {
            let p = reg.authenticate(Some(&header)).unwrap();
            assert_eq!(
                p,
                Principal {
                    tenant: tenant("acme"),
                    token: id
                },
                "{header}"
            );
        }
    }

    #[test]
    fn refuses_wrong_missing_and_foreign_scheme_tokens() {
        let reg = TokenRegistry::new();
        reg.add(&tenant("acme"), T1).unwrap();
        assert_eq!(reg.authenticate(None), Err(AuthError::MissingHeader));
        assert_eq!(reg.authenticate(Some("  ")), Err(AuthError::MissingHeader));
        assert_eq!(reg.authenticate(Some("Bearer ")), Err(AuthError::EmptyToken));
        assert_eq!(
            reg.authenticate(Some(&format!("Bearer {T2}"))),
            Err(AuthError::InvalidToken)
        );
        // A prefix or an extension of a valid token is not valid.
        assert_eq!(
            reg.authenticate(Some("Bearer scim_4f9d2c7e1b8a6d3f0e5")),
            Err(AuthError::InvalidToken)
        );
        assert_eq!(
            reg.authenticate(Some(&format!("Bearer {T1}x"))),
            Err(AuthError::InvalidToken)
        );
        assert_eq!(
            reg.authenticate(Some("Basic dXNlcjpwYXNz")),
            Err(AuthError::NotBearer {
                scheme: "Basic".into()
            })
        );
        assert_eq!(AuthError::InvalidToken.status(), 401);
        let doc = ScimError::from(AuthError::InvalidToken).to_json();
        assert_eq!(doc["status"], "401");
        assert!(!doc["detail"].as_str().unwrap().contains("scim_"));
    }

    #[test]
    fn nothing_is_accepted_by_an_empty_registry() {
        let reg = TokenRegistry::new();
        assert!(reg.is_empty());
        assert_eq!(
            reg.authenticate(Some(&format!("Bearer {T1}"))),
            Err(AuthError::InvalidToken)
        );
    }

    #[test]
    fn several_tokens_and_rotation_invalidating_the_old_one() {
        let reg = TokenRegistry::new();
        let a = reg.add(&tenant("acme"), T1).unwrap();
        let other = reg.add(&tenant("acme"), "scim_ffffeeeeddddcccc").unwrap();
        assert_eq!(reg.len(), 2);
        let b = reg.rotate(a, &format!("Bearer {T2}")).unwrap();
        assert_ne!(a, b);
        assert_eq!(reg.authenticate(Some(T1)), Err(AuthError::InvalidToken));
        assert_eq!(reg.authenticate(Some(T2)).unwrap().token, b);
        assert_eq!(reg.authenticate(Some(T2)).unwrap().tenant, tenant("acme"));
        assert_eq!(
            reg.authenticate(Some("scim_ffffeeeeddddcccc")).unwrap().token,
            other
        );
        assert_eq!(
            reg.rotate(a, "scim_1111222233334444"),
            Err(AuthError::UnknownTokenId)
        );
        reg.revoke(other).unwrap();
        assert_eq!(
            reg.authenticate(Some("scim_ffffeeeeddddcccc")),
            Err(AuthError::InvalidToken)
        );
        assert_eq!(reg.revoke(other), Err(AuthError::UnknownTokenId));
    }

    #[test]
    fn tokens_belong_to_one_tenant() {
        let reg = TokenRegistry::new();
        reg.add(&tenant("acme"), T1).unwrap();
        reg.add(&tenant("globex"), T2).unwrap();
        assert!(reg.authenticate_for(&tenant("acme"), Some(T1)).is_ok());
        assert_eq!(
            reg.authenticate_for(&tenant("acme"), Some(T2)),
            Err(AuthError::InvalidToken)
        );
        assert_eq!(
            reg.authenticate_for(&tenant("globex"), Some(T1)),
            Err(AuthError::InvalidToken)
        );
    }

    #[test]
    fn stores_hashes_only_and_refuses_weak_tokens() {
        let reg = TokenRegistry::new();
        assert_eq!(
            reg.add(&tenant("acme"), "Bearer short"),
            Err(AuthError::TokenTooShort {
                min: MIN_TOKEN_LEN,
                actual: 5
            })
        );
        assert_eq!(
            reg.add(&tenant("acme"), "two words here!!!!"),
            Err(AuthError::TokenNotOneWord)
        );
        // The prefix is not part of the secret: both spellings hash alike.
        assert_eq!(hash_token(&format!("Bearer {T1}")), hash_token(T1));
        let id = reg.add_hash(&tenant("acme"), hash_token(T1));
        assert_eq!(reg.authenticate(Some(&format!("Bearer {T1}"))).unwrap().token, id);
        assert!(!format!("{reg:?}").contains(T1));
    }

    #[test]
    fn tenant_names_are_checked() {
        assert!(TenantId::new("").is_err());
        assert!(TenantId::new("a\nb").is_err());
        assert!(TenantId::new("x".repeat(MAX_TENANT_LEN + 1)).is_err());
        assert_eq!(tenant("acme").to_string(), "acme");
    }
}
