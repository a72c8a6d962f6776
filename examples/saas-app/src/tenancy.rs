//! The app's side of fedkit-tenancy: what it stores (claimed domains, the SSO enforcement
//! setting, local password accounts, identity links, the pinned NameID format), the TXT
//! lookup it checks domains with, and the two traits the crate reads the stores through.
//!
//! The app has one tenant ([`TENANT`]) and one connection ([`CONNECTION`]); the rules are
//! the crate's, the stores are this module's (`tenancy.json` in the data directory, written
//! whole after each change).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use fedkit_saml::connection::{Behavior, Connection, IdpSource};
use fedkit_scim_service::{UserKey, UserStatus};
use fedkit_tenancy::admission::{Account, AccountOrigin, ProfileFields, ScimLookup, ScimState};
use fedkit_tenancy::domain::{DomainRegistry, TenantId};
use fedkit_tenancy::enforcement::{AdminStanding, Enforcement};
use fedkit_tenancy::{IdentityKey, Tenants};
use serde::{Deserialize, Serialize};

use crate::users;
use crate::IdpConnection;

/// The app's only tenant (organisation).
pub(crate) const TENANT: &str = "default";
/// The ID of the app's only SAML connection (part of every identity key: never changes).
pub(crate) const CONNECTION: &str = "default";
/// The application name in the TXT record: `_saas-app-verification.<domain>`.
pub const APP_NAME: &str = "saas-app";
/// The state file in the data directory.
const STATE_FILE: &str = "tenancy.json";
/// PBKDF2-HMAC-SHA256 rounds for local passwords (OWASP's 2023 figure).
const PBKDF2_ROUNDS: u32 = 600_000;

/// Resolves the TXT records of a DNS name, for the domain check on the admin page. The app
/// owns this seam: the tenancy crate does no I/O, and the tests answer in-process.
pub trait TxtLookup: fmt::Debug + Send + Sync {
    /// The TXT records at `name` (one string per record, its character-strings joined);
    /// empty when there are none. `Err` describes a lookup that failed (timeout, SERVFAIL).
    fn txt(&self, name: &str) -> Result<Vec<String>, String>;
}

/// A [`TxtLookup`] answering from a map held in memory: the tests publish records into it,
/// and the binary fills it from `--txt-record NAME=VALUE`. Names compare case-insensitively,
/// without a trailing dot.
#[derive(Debug, Default)]
pub struct InMemoryTxt {
    records: Mutex<HashMap<String, Vec<String>>>,
}

impl InMemoryTxt {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a TXT record `value` at `name`.
    pub fn publish(&self, name: &str, value: &str) {
        lock(&self.records)
            .entry(dns_key(name))
            .or_default()
            .push(value.to_owned());
    }

    /// Removes every TXT record at `name`.
    pub fn remove(&self, name: &str) {
        lock(&self.records).remove(&dns_key(name));
    }
}

impl TxtLookup for InMemoryTxt {
    fn txt(&self, name: &str) -> Result<Vec<String>, String> {
        Ok(lock(&self.records)
            .get(&dns_key(name))
            .cloned()
            .unwrap_or_default())
    }
}

fn dns_key(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A local account: email and password, optionally an admin of the tenant.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LocalAccount {
    /// `local-<hex>`.
    pub(crate) id: String,
    pub(crate) email: String,
    pub(crate) admin: bool,
    salt: String,
    password_hash: String,
}

impl LocalAccount {
    /// A new account; `salt` and `id_bytes` come from the system's CSPRNG.
    pub(crate) fn new(email: &str, password: &str, admin: bool, salt: [u8; 16], id_bytes: [u8; 8]) -> Self {
        let mut hash = [0u8; 32];
        aws_lc_rs::pbkdf2::derive(
            aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
            rounds(),
            &salt,
            password.as_bytes(),
            &mut hash,
        );
        Self {
            id: format!("local-{}", base16ct::lower::encode_string(&id_bytes)),
            email: email.trim().to_owned(),
            admin,
            salt: base16ct::lower::encode_string(&salt),
            password_hash: base16ct::lower::encode_string(&hash),
        }
    }

    /// Whether `password` is this account's (constant-time comparison).
    pub(crate) fn password_matches(&self, password: &str) -> bool {
        let (Ok(salt), Ok(hash)) = (
            base16ct::lower::decode_vec(&self.salt),
            base16ct::lower::decode_vec(&self.password_hash),
        ) else {
            return false;
        };
        aws_lc_rs::pbkdf2::verify(
            aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
            rounds(),
            &salt,
            password.as_bytes(),
            &hash,
        )
        .is_ok()
    }
}

fn rounds() -> NonZeroU32 {
    NonZeroU32::new(PBKDF2_ROUNDS).unwrap_or(NonZeroU32::MIN)
}

/// Everything the tenancy rules read and the app writes.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct TenancyState {
    /// Claimed and verified domains.
    pub(crate) domains: DomainRegistry,
    /// "Require SSO", with the admin bypass.
    pub(crate) enforcement: Enforcement,
    /// Password accounts.
    pub(crate) accounts: Vec<LocalAccount>,
    /// Identity key (`saml:default:<NameID>`) → account ID (a local account or a SCIM id).
    pub(crate) links: BTreeMap<String, String>,
    /// SCIM ids of users created by a JIT login (the others were provisioned over SCIM).
    pub(crate) jit_created: Vec<String>,
    /// The NameID format pinned by the connection's first login.
    pub(crate) pinned_name_id_format: Option<Option<String>>,
}

impl TenancyState {
    /// The local account with this email (case-insensitively).
    pub(crate) fn account_by_email(&self, email: &str) -> Option<&LocalAccount> {
        let email = email.trim();
        self.accounts.iter().find(|a| a.email.eq_ignore_ascii_case(email))
    }

    fn identities_of(&self, account: &str) -> Vec<IdentityKey> {
        self.links
            .iter()
            .filter(|(_, a)| a.as_str() == account)
            .filter_map(|(k, _)| IdentityKey::parse(k).ok())
            .collect()
    }

    /// The tenant's admins, as enforcement weighs them.
    pub(crate) fn admins(&self) -> Vec<AdminStanding> {
        self.accounts
            .iter()
            .filter(|a| a.admin)
            .map(|a| AdminStanding {
                account: a.id.clone(),
                active: true,
                has_password: true,
                sso_connections: self
                    .identities_of(&a.id)
                    .iter()
                    .map(|k| k.connection().to_owned())
                    .collect(),
            })
            .collect()
    }
}

/// The state, behind a lock, and where it is saved.
#[derive(Debug)]
pub(crate) struct TenancyStore {
    state: Mutex<TenancyState>,
    path: PathBuf,
}

impl TenancyStore {
    /// Reads `tenancy.json` from the data directory (empty when absent).
    pub(crate) fn open(data_dir: &Path) -> Result<Self, String> {
        let path = data_dir.join(STATE_FILE);
        let state = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| format!("{} is not the app's tenancy state: {e}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => TenancyState::default(),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        Ok(Self {
            state: Mutex::new(state),
            path,
        })
    }

    /// The state, locked.
    pub(crate) fn lock(&self) -> MutexGuard<'_, TenancyState> {
        lock(&self.state)
    }

    /// Writes `state` (to a temporary file first, so a crash never leaves half a file).
    pub(crate) fn save(&self, state: &TenancyState) -> Result<(), String> {
        let temporary = self.path.with_extension("json.tmp");
        let json = serde_json::to_vec_pretty(state).map_err(|e| e.to_string())?;
        std::fs::write(&temporary, json)
            .and_then(|()| std::fs::rename(&temporary, &self.path))
            .map_err(|e| format!("cannot save {}: {e}", self.path.display()))
    }
}

/// The tenant's ID.
pub(crate) fn tenant() -> TenantId {
    TenantId::new(TENANT).unwrap_or_else(|_| unreachable!("a valid constant"))
}

/// The app's IdP as a fedkit-saml connection (what discovery and admission read).
pub(crate) fn connection(
    idp: &IdpConnection,
    allowlist: &[String],
    jit: bool,
    linking: bool,
    idp_initiated: bool,
) -> Connection {
    let behavior = Behavior {
        jit_provisioning: jit,
        email_domain_allowlist: allowlist.to_vec(),
        allow_account_merge_by_verified_email: linking,
        allow_idp_initiated: idp_initiated,
        ..Behavior::default()
    };
    Connection {
        id: CONNECTION.to_owned(),
        enabled: true,
        idp: IdpSource::Explicit {
            entity_id: idp.entity_id.clone(),
            sso_url: idp.sso_url.clone(),
            certificates: vec![idp.certificates_pem.clone()],
        },
        behavior,
    }
}

/// Discovery's view: one tenant, with its connection when an IdP is set up.
pub(crate) struct OneTenant(pub(crate) Option<Connection>);

impl Tenants for OneTenant {
    fn by_slug(&self, slug: &str) -> Option<TenantId> {
        (slug == TENANT).then(tenant)
    }

    fn connections(&self, t: &TenantId) -> Vec<&Connection> {
        if t.as_str() == TENANT {
            self.0.iter().collect()
        } else {
            Vec::new()
        }
    }
}

/// A failed store lookup.
#[derive(Debug)]
pub(crate) struct StoreFailed(pub(crate) String);

impl fmt::Display for StoreFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the user store failed: {}", self.0)
    }
}

impl std::error::Error for StoreFailed {}

/// Admission's view of the app's users: the local accounts and the SCIM store's users.
pub(crate) struct AppDirectory<'a> {
    pub(crate) state: &'a TenancyState,
    pub(crate) users: &'a users::Directory,
}

impl AppDirectory<'_> {
    fn local(&self, a: &LocalAccount) -> Account {
        Account {
            id: a.id.clone(),
            tenant: tenant(),
            origin: AccountOrigin::Password,
            identities: self.state.identities_of(&a.id),
            // The admin created the account with this email: the app treats it as verified.
            email_verified: true,
            user_name: None,
            external_id: None,
            active: true,
            profile: ProfileFields {
                email: Some(a.email.clone()),
                ..ProfileFields::default()
            },
        }
    }

    fn scim(&self, s: UserStatus) -> Account {
        let origin = if self.state.jit_created.contains(&s.id) {
            AccountOrigin::Jit
        } else {
            AccountOrigin::Scim
        };
        Account {
            identities: self.state.identities_of(&s.id),
            id: s.id,
            tenant: tenant(),
            origin,
            email_verified: true,
            active: s.active,
            profile: ProfileFields {
                email: Some(s.user_name.clone()),
                ..ProfileFields::default()
            },
            user_name: Some(s.user_name),
            external_id: s.external_id,
        }
    }

    fn status(&self, key: UserKey<'_>) -> Result<Option<UserStatus>, StoreFailed> {
        self.users
            .service
            .user_status(&self.users.tenant, key)
            .map_err(|e| StoreFailed(format!("({}) {e}", e.code())))
    }
}

impl fedkit_tenancy::Directory for AppDirectory<'_> {
    type Error = StoreFailed;

    fn by_identity(&self, key: &IdentityKey) -> Result<Option<Account>, StoreFailed> {
        let Some(id) = self.state.links.get(&key.to_string()) else {
            return Ok(None);
        };
        if let Some(local) = self.state.accounts.iter().find(|a| &a.id == id) {
            return Ok(Some(self.local(local)));
        }
        Ok(self.users.by_id(id).map_err(StoreFailed)?.map(|s| self.scim(s)))
    }

    fn by_external_id(&self, _: &TenantId, external_id: &str) -> Result<Vec<Account>, StoreFailed> {
        Ok(self
            .status(UserKey::ExternalId(external_id))?
            .map(|s| self.scim(s))
            .into_iter()
            .collect())
    }

    fn by_email(&self, _: &TenantId, email: &str) -> Result<Vec<Account>, StoreFailed> {
        let mut found: Vec<Account> = self
            .state
            .account_by_email(email)
            .map(|a| self.local(a))
            .into_iter()
            .collect();
        if let Some(s) = self.status(UserKey::UserName(email))? {
            found.push(self.scim(s));
        }
        Ok(found)
    }

    fn scim_status(&self, _: &TenantId, lookup: ScimLookup<'_>) -> Result<Option<ScimState>, StoreFailed> {
        let key = match lookup {
            ScimLookup::ExternalId(v) => UserKey::ExternalId(v),
            ScimLookup::UserName(v) => UserKey::UserName(v),
            _ => return Ok(None),
        };
        Ok(self.status(key)?.map(ScimState::from))
    }

    fn pinned_name_id_format(&self, connection_id: &str) -> Result<Option<Option<String>>, StoreFailed> {
        Ok(if connection_id == CONNECTION {
            self.state.pinned_name_id_format.clone()
        } else {
            None
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let a = LocalAccount::new("ada@acme.test", "correct horse", true, [7; 16], [1; 8]);
        assert!(a.password_matches("correct horse"));
        assert!(!a.password_matches("correct horsE"));
        assert!(!a.password_matches(""));
        assert_eq!(a.id, "local-0101010101010101");
        assert!(!a.password_hash.contains("correct"));
    }

    #[test]
    fn the_in_memory_lookup_normalises_names() {
        let txt = InMemoryTxt::new();
        txt.publish("_saas-app-verification.Acme.test.", "v=1");
        assert_eq!(
            txt.txt("_saas-app-verification.acme.test"),
            Ok(vec!["v=1".to_owned()])
        );
        txt.remove("_saas-app-verification.acme.test");
        assert_eq!(txt.txt("_saas-app-verification.acme.test"), Ok(Vec::new()));
    }
}
