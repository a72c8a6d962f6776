//! Admission: who may come in through an IdP login, into which account.
//!
//! From a verified assertion (mapped to a [`UserProfile`] by fedkit-saml's
//! [`AttributeMapping`]), the connection's [`AdmissionPolicy`] and a [`Directory`] the host
//! implements over its user store, [`admit`] decides one [`Decision`]: sign in, create (JIT),
//! link an existing account, update the profile, or refuse with a code and two messages.
//!
//! The rules that keep one person in one account, and no one in another's:
//! - an identity already linked ([`IdentityKey`]) signs in to its account;
//! - an account this tenant's SCIM client provisioned (matched by `externalId` = the IdP's
//!   unique ID, or by `userName`/email) or this tenant invited is linked, never duplicated;
//! - any other account with the same email (a password account, another connection's) is
//!   linked only when the policy allows linking, the email's domain is **verified by this
//!   tenant**, and the account's own email was verified; otherwise the login is refused, and
//!   no second account is created beside it;
//! - a user deactivated by SCIM, or an inactive account, is refused.
//!
//! SCIM `DELETE`: RFC 7644 §3.6 says a deleted resource is gone. Hosts that want the CRA
//! Evidence default ("Allow deletion: Disabled") keep the user and deactivate it instead:
//! `ScimSettings::with_user_deletion(|_, _| DeleteAction::Deactivate)` in fedkit-scim-service
//! (see [`AdmissionPolicy::on_scim_delete`]). That is a deliberate deviation from RFC 7644:
//! the IdP gets `204`, and a later `GET` shows the user with `active: false` instead of `404`.
//! The login then meets a deactivated user and is refused with `deactivated_by_scim`, and the
//! account's history (and links) survive a re-provisioning.

use fedkit_saml::connection::Connection;
use fedkit_saml::mapping::UniqueId;
use fedkit_saml::{AttributeMapping, MappingError, UserProfile, VerifiedAssertion};
use fedkit_scim_service::{DeleteAction, UserStatus};
use serde::{Deserialize, Serialize};

use crate::domain::{DomainName, DomainRegistry, TenantId};
use crate::identity::{check_name_id_format, FormatCheck, IdentityKey, NAME_ID_FORMAT_WARNING};

/// Which users may come in through the connection (TrueFoundry's three modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Provisioning {
    /// Only users invited first (by an admin of the tenant).
    InviteOnly,
    /// Users are created on their first login (just-in-time).
    Jit,
    /// Only users the IdP's SCIM client provisioned first.
    ScimOnly,
}

/// The admission rules of one connection, as the host stores them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdmissionPolicy {
    /// Who may come in.
    pub provisioning: Provisioning,
    /// The role a JIT-created user gets (CRA Evidence: "Member").
    pub default_role: String,
    /// Update the stored profile (names, groups, email) from each login.
    pub update_on_login: bool,
    /// Link a login to an existing account of another origin (password, another connection)
    /// with the same email, when the email's domain is verified by this tenant and the
    /// account's email was verified (Prelude's `allow_email_account_merge`).
    pub allow_linking: bool,
    /// Create JIT users only when their email's domain is verified by this tenant.
    #[serde(default = "yes")]
    pub jit_requires_verified_domain: bool,
    /// What a SCIM `DELETE` of a user does; give it to fedkit-scim-service with
    /// `ScimSettings::with_user_deletion(move |_, _| policy.on_scim_delete())`.
    #[serde(default)]
    pub deactivate_on_scim_delete: bool,
}

fn yes() -> bool {
    true
}

impl AdmissionPolicy {
    /// A policy with `provisioning` and the default role, no profile updates, no linking,
    /// JIT limited to verified domains, SCIM `DELETE` deleting (RFC 7644).
    pub fn new(provisioning: Provisioning, default_role: &str) -> Self {
        Self {
            provisioning,
            default_role: default_role.to_owned(),
            update_on_login: false,
            allow_linking: false,
            jit_requires_verified_domain: true,
            deactivate_on_scim_delete: false,
        }
    }

    /// The [`DeleteAction`] fedkit-scim-service applies to a `DELETE` of a user under this
    /// policy (a deviation from RFC 7644 when it is `Deactivate`: see the module docs).
    pub fn on_scim_delete(&self) -> DeleteAction {
        if self.deactivate_on_scim_delete {
            DeleteAction::Deactivate
        } else {
            DeleteAction::Delete
        }
    }
}

/// How an account came to exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AccountOrigin {
    /// Invited by a tenant admin, not signed in yet.
    Invited,
    /// Provisioned by the tenant's SCIM client.
    Scim,
    /// Created by a JIT login.
    Jit,
    /// Signed up with a password (or another non-SSO method).
    Password,
}

/// Profile fields an IdP login may update.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileFields {
    /// Email.
    pub email: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Groups.
    pub groups: Vec<String>,
}

/// What admission needs to know of one stored account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The host's account ID.
    pub id: String,
    /// The tenant the account belongs to (for a person in several organisations: the one
    /// whose invitation or SCIM client created it).
    pub tenant: TenantId,
    /// How it came to exist.
    pub origin: AccountOrigin,
    /// The IdP identities linked to it.
    pub identities: Vec<IdentityKey>,
    /// Whether the account's email was verified (a link, a SCIM or IdP assertion from a
    /// verified domain); linking by email needs it.
    pub email_verified: bool,
    /// SCIM `userName`, when provisioned.
    pub user_name: Option<String>,
    /// SCIM `externalId`, when provisioned.
    pub external_id: Option<String>,
    /// Whether the account may sign in at all.
    pub active: bool,
    /// The stored profile.
    pub profile: ProfileFields,
}

/// What the SCIM directory knows about a user (from fedkit-scim-service's
/// `ScimService::user_status`, or the host's own SCIM store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimState {
    /// The SCIM `id`.
    pub id: String,
    /// `false` when the IdP deactivated the user.
    pub active: bool,
}

impl From<UserStatus> for ScimState {
    fn from(s: UserStatus) -> Self {
        Self {
            id: s.id,
            active: s.active,
        }
    }
}

/// How [`Directory::scim_status`] looks a user up (mirrors fedkit-scim-service's `UserKey`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScimLookup<'a> {
    /// By `externalId` (case-exact).
    ExternalId(&'a str),
    /// By `userName` (case-insensitive).
    UserName(&'a str),
}

/// The host's user store, as admission reads it. Lookups are read-only; the host applies the
/// [`Decision`] itself, in one transaction with these reads if it can.
pub trait Directory {
    /// The store's error.
    type Error: std::error::Error + 'static;

    /// The account an identity is linked to.
    fn by_identity(&self, key: &IdentityKey) -> Result<Option<Account>, Self::Error>;

    /// The accounts of `tenant` with this SCIM `externalId` (case-exact).
    fn by_external_id(&self, tenant: &TenantId, external_id: &str) -> Result<Vec<Account>, Self::Error>;

    /// The accounts this login could be merged into by email (case-insensitive; matching
    /// the account's email or its SCIM `userName`): in a host where one person has one
    /// account across organisations, every such account; where accounts are per tenant,
    /// `tenant`'s.
    fn by_email(&self, tenant: &TenantId, email: &str) -> Result<Vec<Account>, Self::Error>;

    /// The SCIM directory's view of a user of `tenant` (back it with
    /// `ScimService::user_status`); `None` when SCIM does not know the user or the host has
    /// no SCIM.
    fn scim_status(
        &self,
        tenant: &TenantId,
        lookup: ScimLookup<'_>,
    ) -> Result<Option<ScimState>, Self::Error>;

    /// The NameID format pinned for the connection by its first login: `None` when nothing is
    /// pinned yet, `Some(None)` when the first login carried no format (or `unspecified`).
    fn pinned_name_id_format(&self, connection_id: &str) -> Result<Option<Option<String>>, Self::Error>;
}

/// What arrived from the IdP, mapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginIdentity {
    /// The profile.
    pub profile: UserProfile,
    /// The NameID's `Format`.
    pub name_id_format: Option<String>,
    /// Whether the unique ID is the NameID (so a format change changes every key).
    pub keyed_by_name_id: bool,
}

impl LoginIdentity {
    /// Maps a verified assertion with `mapping`.
    pub fn from_assertion(a: &VerifiedAssertion, mapping: &AttributeMapping) -> Result<Self, MappingError> {
        Ok(Self {
            profile: mapping.profile(a)?,
            name_id_format: a.name_id().format.clone(),
            keyed_by_name_id: matches!(mapping.unique_id, UniqueId::NameId),
        })
    }
}

/// One field's change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change<T> {
    /// Stored.
    pub old: T,
    /// Arrived.
    pub new: T,
}

/// The profile fields a login changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProfileDiff {
    /// Email (only to an email whose domain this tenant verified).
    pub email: Option<Change<Option<String>>>,
    /// Given name.
    pub first_name: Option<Change<Option<String>>>,
    /// Family name.
    pub last_name: Option<Change<Option<String>>>,
    /// Display name.
    pub display_name: Option<Change<Option<String>>>,
    /// Groups.
    pub groups: Option<Change<Vec<String>>>,
}

impl ProfileDiff {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// Why an account is linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LinkReason {
    /// The tenant's SCIM client provisioned the account.
    ScimProvisioned,
    /// The tenant invited the account.
    Invitation,
    /// Same verified email on a domain this tenant verified, linking allowed.
    VerifiedEmail,
}

/// An account to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewAccount {
    /// The tenant.
    pub tenant: TenantId,
    /// The identity to link.
    pub identity: IdentityKey,
    /// The role.
    pub role: String,
    /// The profile.
    pub profile: ProfileFields,
    /// Whether the email counts as verified (its domain is verified by the tenant).
    pub email_verified: bool,
    /// The SCIM `id` of the user SCIM already knows, to store beside the account.
    pub scim_id: Option<String>,
}

/// Why a login is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The connection is disabled.
    #[error("connection {connection:?} is disabled; enable it once the IdP side is configured")]
    ConnectionDisabled {
        /// The connection.
        connection: String,
    },
    /// The assertion lacks what the mapping needs.
    #[error("{0}")]
    Mapping(MappingError),
    /// The unique ID cannot form an identity key (empty).
    #[error(
        "the IdP sent an empty unique ID (NameID); set the SAMLSubject NameID in the IdP (JumpCloud: email)"
    )]
    UniqueIdEmpty,
    /// The IdP changed the NameID format after users signed in.
    #[error("the IdP sent NameID format {arrived:?} but this connection's users signed in with {pinned:?}: every user would get a new identity. {NAME_ID_FORMAT_WARNING} Set the format back in the IdP; to really change it, create a new connection")]
    NameIdFormatChanged {
        /// The pinned format (`None`: unspecified).
        pinned: Option<String>,
        /// The arriving one.
        arrived: Option<String>,
    },
    /// The email's domain is not in the connection's allowlist.
    #[error("the email domain {domain:?} is not in connection {connection:?}'s allowlist ({}); add it if this IdP really serves it", allowed.join(", "))]
    EmailOutsideAllowlist {
        /// The domain that arrived.
        domain: String,
        /// The connection.
        connection: String,
        /// The allowlist.
        allowed: Vec<String>,
    },
    /// The email's domain is not verified by this tenant (needed to link or to create).
    #[error("the email domain {domain:?} is not verified by organisation {tenant}; verify it (DNS TXT record) before {what}")]
    DomainNotVerified {
        /// The domain (`""` when no email arrived).
        domain: String,
        /// The tenant.
        tenant: TenantId,
        /// What it was needed for.
        what: &'static str,
    },
    /// JIT needs an email and none arrived.
    #[error("no email arrived, and creating a user needs one; map an email attribute in the IdP")]
    EmailRequired,
    /// Invite-only, and the user was not invited.
    #[error("{who} is not invited to organisation {tenant} (invite-only); invite the user first, or switch the connection to JIT")]
    NotInvited {
        /// Email or unique ID.
        who: String,
        /// The tenant.
        tenant: TenantId,
    },
    /// SCIM-only, and SCIM did not provision the user.
    #[error("{who} was not provisioned by SCIM for organisation {tenant} (SCIM-only); assign the user to a group the IdP pushes, and let SCIM sync first")]
    NotProvisioned {
        /// Email or unique ID.
        who: String,
        /// The tenant.
        tenant: TenantId,
    },
    /// The IdP's SCIM client deactivated the user.
    #[error("{who} was deactivated by the IdP's SCIM client (active=false); reactivate the user in the IdP, or add them back to an assigned group")]
    DeactivatedByScim {
        /// Email or unique ID.
        who: String,
    },
    /// The account is deactivated in the application.
    #[error("account {account} is deactivated in the application; an admin must reactivate it")]
    AccountDeactivated {
        /// The account.
        account: String,
    },
    /// An account with this email exists and linking is not allowed.
    #[error("an account with the email {email:?} already exists ({account}) and connection {connection:?} does not allow linking; enable linking (with a verified domain), or have the user sign in their usual way")]
    LinkingNotAllowed {
        /// The email.
        email: String,
        /// The existing account.
        account: String,
        /// The connection.
        connection: String,
    },
    /// The existing account's email was never verified, so it proves nothing.
    #[error("account {account} has the email {email:?} but never verified it, so it cannot be linked by email; have its owner verify the email first")]
    AccountEmailUnverified {
        /// The email.
        email: String,
        /// The account.
        account: String,
    },
    /// Several accounts match.
    #[error("{count} accounts match this login (by externalId {unique_id:?} or email); merge or remove the duplicates before this user can sign in")]
    AmbiguousAccount {
        /// How many.
        count: usize,
        /// The unique ID.
        unique_id: String,
    },
    /// The matching account already has another identity on this connection.
    #[error("account {account} is already linked to {existing} on this connection, and the IdP now sends {arrived}: the IdP's unique ID for this user changed (a NameID or unique-ID attribute change?); fix the IdP mapping, or unlink the old identity")]
    IdentityConflict {
        /// The account.
        account: String,
        /// The identity it has.
        existing: String,
        /// The identity that arrived.
        arrived: String,
    },
}

impl Refusal {
    /// A stable `snake_case` code.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::ConnectionDisabled { .. } => "connection_disabled",
            Refusal::Mapping(e) => e.code(),
            Refusal::UniqueIdEmpty => "unique_id_empty",
            Refusal::NameIdFormatChanged { .. } => "name_id_format_changed",
            Refusal::EmailOutsideAllowlist { .. } => "email_outside_allowlist",
            Refusal::DomainNotVerified { .. } => "domain_not_verified",
            Refusal::EmailRequired => "email_required",
            Refusal::NotInvited { .. } => "not_invited",
            Refusal::NotProvisioned { .. } => "not_provisioned",
            Refusal::DeactivatedByScim { .. } => "deactivated_by_scim",
            Refusal::AccountDeactivated { .. } => "account_deactivated",
            Refusal::LinkingNotAllowed { .. } => "linking_not_allowed",
            Refusal::AccountEmailUnverified { .. } => "account_email_unverified",
            Refusal::AmbiguousAccount { .. } => "account_ambiguous",
            Refusal::IdentityConflict { .. } => "identity_conflict",
        }
    }

    /// What to show the person signing in: no account names, no other tenant, no
    /// configuration detail; each says whom to turn to.
    pub fn user_message(&self) -> &'static str {
        match self {
            Refusal::ConnectionDisabled { .. } => "Single sign-on for your organisation is not enabled yet. Ask your administrator.",
            Refusal::Mapping(_) | Refusal::UniqueIdEmpty | Refusal::NameIdFormatChanged { .. } | Refusal::AmbiguousAccount { .. } | Refusal::IdentityConflict { .. } => {
                "Your sign-in could not be completed because of a configuration problem. Your administrator has been given the details."
            }
            Refusal::EmailOutsideAllowlist { .. } => "Your email address is not covered by your organisation's single sign-on. Ask your administrator.",
            Refusal::DomainNotVerified { .. } => "Your organisation has not verified your email domain yet. Ask your administrator.",
            Refusal::EmailRequired => "Your identity provider did not send an email address. Ask your administrator.",
            Refusal::NotInvited { .. } => "You have not been invited. Ask your administrator for an invitation.",
            Refusal::NotProvisioned { .. } => "No matching user was found: your account has not been provisioned yet. Ask your administrator.",
            Refusal::DeactivatedByScim { .. } | Refusal::AccountDeactivated { .. } => "Your account is deactivated. Ask your administrator.",
            Refusal::LinkingNotAllowed { .. } | Refusal::AccountEmailUnverified { .. } => {
                "An account with your email address already exists. Sign in the way you usually do, or ask your administrator."
            }
        }
    }
}

/// What to do with a login.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Sign in to this account; nothing to store.
    SignIn {
        /// The account.
        account: String,
    },
    /// Create this account and sign in.
    Create {
        /// The account to create.
        account: NewAccount,
    },
    /// Link the identity to this existing account, apply the diff (empty unless
    /// update-on-login), and sign in.
    Link {
        /// The account.
        account: String,
        /// The identity to add.
        identity: IdentityKey,
        /// Why linking is safe.
        reason: LinkReason,
        /// Profile changes.
        diff: ProfileDiff,
    },
    /// Apply the diff and sign in.
    Update {
        /// The account.
        account: String,
        /// Profile changes.
        diff: ProfileDiff,
    },
    /// Refuse: show `user_message`, log `admin_message` under `code`.
    Refuse {
        /// [`Refusal::code`].
        code: &'static str,
        /// [`Refusal::user_message`].
        user_message: String,
        /// The refusal's `Display`, for the admin.
        admin_message: String,
        /// The typed reason.
        reason: Refusal,
    },
}

impl Decision {
    /// The refusal, when refused.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Decision::Refuse { reason, .. } => Some(reason),
            _ => None,
        }
    }
}

impl From<Refusal> for Decision {
    fn from(reason: Refusal) -> Self {
        Decision::Refuse {
            code: reason.code(),
            user_message: reason.user_message().to_owned(),
            admin_message: reason.to_string(),
            reason,
        }
    }
}

/// The decision, and whether to pin the connection's NameID format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    /// What to do.
    pub decision: Decision,
    /// `Some(format)` when this is the connection's first admitted login keyed by NameID:
    /// store `format` as its pinned NameID format (with the decision).
    pub pin_name_id_format: Option<Option<String>>,
}

/// The tenant-side context of a login.
#[derive(Debug, Clone, Copy)]
pub struct LoginContext<'a> {
    /// The tenant owning the connection.
    pub tenant: &'a TenantId,
    /// The connection the assertion came through.
    pub connection: &'a Connection,
    /// Its admission policy.
    pub policy: &'a AdmissionPolicy,
    /// The verified domains.
    pub domains: &'a DomainRegistry,
}

/// [`admit`] from a verified assertion: maps it with `mapping` (a mapping failure is a
/// refusal with the mapping error's code).
pub fn admit_assertion<D: Directory>(
    ctx: LoginContext<'_>,
    assertion: &VerifiedAssertion,
    mapping: &AttributeMapping,
    directory: &D,
) -> Result<Admission, D::Error> {
    match LoginIdentity::from_assertion(assertion, mapping) {
        Ok(login) => admit(ctx, &login, directory),
        Err(e) => Ok(Admission {
            decision: Refusal::Mapping(e).into(),
            pin_name_id_format: None,
        }),
    }
}

fn who(login: &LoginIdentity) -> String {
    login
        .profile
        .email
        .clone()
        .unwrap_or_else(|| login.profile.unique_id.clone())
}

fn incoming_fields(p: &UserProfile) -> ProfileFields {
    ProfileFields {
        email: p.email.as_ref().map(|e| e.trim().to_owned()),
        first_name: p.first_name.clone(),
        last_name: p.last_name.clone(),
        display_name: p.display_name.clone(),
        groups: p.groups.clone(),
    }
}

fn diff(stored: &ProfileFields, arrived: &ProfileFields, email_domain_verified: bool) -> ProfileDiff {
    fn change<T: PartialEq + Clone>(old: &T, new: &T) -> Option<Change<T>> {
        (old != new).then(|| Change {
            old: old.clone(),
            new: new.clone(),
        })
    }
    let email_changes = arrived.email.is_some()
        && email_domain_verified
        && !arrived
            .email
            .as_deref()
            .zip(stored.email.as_deref())
            .is_some_and(|(a, b)| a.eq_ignore_ascii_case(b));
    ProfileDiff {
        email: if email_changes {
            change(&stored.email, &arrived.email)
        } else {
            None
        },
        first_name: change(&stored.first_name, &arrived.first_name),
        last_name: change(&stored.last_name, &arrived.last_name),
        display_name: change(&stored.display_name, &arrived.display_name),
        groups: change(&stored.groups, &arrived.groups),
    }
}

/// Checks an account found for this login: active, and not deactivated by SCIM.
fn check_active<D: Directory>(
    ctx: &LoginContext<'_>,
    account: &Account,
    login: &LoginIdentity,
    directory: &D,
) -> Result<Option<Refusal>, D::Error> {
    let lookup = account
        .external_id
        .as_deref()
        .map(ScimLookup::ExternalId)
        .or(account.user_name.as_deref().map(ScimLookup::UserName))
        .or(account.profile.email.as_deref().map(ScimLookup::UserName));
    if let Some(lookup) = lookup {
        if let Some(state) = directory.scim_status(ctx.tenant, lookup)? {
            if !state.active {
                return Ok(Some(Refusal::DeactivatedByScim { who: who(login) }));
            }
        }
    }
    if !account.active {
        return Ok(Some(Refusal::AccountDeactivated {
            account: account.id.clone(),
        }));
    }
    Ok(None)
}

/// Decides what to do with a login (see the module docs for the rules). `Err` only when the
/// directory fails; every refusal is a [`Decision::Refuse`].
pub fn admit<D: Directory>(
    ctx: LoginContext<'_>,
    login: &LoginIdentity,
    directory: &D,
) -> Result<Admission, D::Error> {
    let mut pin = None;
    let decision = decide(&ctx, login, directory, &mut pin)?;
    let pin_name_id_format = if decision.refusal().is_some() { None } else { pin };
    Ok(Admission {
        decision,
        pin_name_id_format,
    })
}

fn decide<D: Directory>(
    ctx: &LoginContext<'_>,
    login: &LoginIdentity,
    directory: &D,
    pin: &mut Option<Option<String>>,
) -> Result<Decision, D::Error> {
    let connection = ctx.connection;
    let policy = ctx.policy;
    if !connection.enabled {
        return Ok(Refusal::ConnectionDisabled {
            connection: connection.id.clone(),
        }
        .into());
    }
    let Ok(key) = IdentityKey::saml(&connection.id, login.profile.unique_id.trim()) else {
        return Ok(Refusal::UniqueIdEmpty.into());
    };
    if login.keyed_by_name_id {
        let pinned = directory.pinned_name_id_format(&connection.id)?;
        match check_name_id_format(
            pinned.as_ref().map(Option::as_deref),
            login.name_id_format.as_deref(),
        ) {
            FormatCheck::Changed { pinned, arrived } => {
                return Ok(Refusal::NameIdFormatChanged { pinned, arrived }.into())
            }
            FormatCheck::Pin(format) => *pin = Some(format),
            _ => {}
        }
    }
    let arrived = incoming_fields(&login.profile);
    let email = arrived.email.clone().filter(|e| !e.is_empty());
    let domain = email.as_deref().and_then(DomainName::of_email);
    // The allowlist compared after the same normalisation as verified domains (case,
    // trailing dot, IDNA), so `Bücher.example` in the allowlist covers `xn--bcher-kva.example`.
    let allowed = &connection.behavior.email_domain_allowlist;
    if let (Some(email), false) = (email.as_deref(), allowed.is_empty()) {
        let covered = domain.as_ref().is_some_and(|d| {
            allowed
                .iter()
                .any(|a| DomainName::parse(a.trim().trim_start_matches('@')).is_ok_and(|a| &a == d))
        });
        if !covered {
            return Ok(Refusal::EmailOutsideAllowlist {
                domain: domain.as_ref().map_or_else(
                    || email.rsplit_once('@').map_or(email, |(_, d)| d).to_owned(),
                    |d| d.to_string(),
                ),
                connection: connection.id.clone(),
                allowed: allowed.clone(),
            }
            .into());
        }
    }
    let domain_verified = domain
        .as_ref()
        .is_some_and(|d| ctx.domains.is_verified_for(ctx.tenant, d));
    let not_verified = |what: &'static str| Refusal::DomainNotVerified {
        domain: domain
            .as_ref()
            .map(|d| d.to_string())
            .or_else(|| {
                email
                    .as_deref()
                    .and_then(|e| e.split_once('@'))
                    .map(|(_, d)| d.to_owned())
            })
            .unwrap_or_default(),
        tenant: ctx.tenant.clone(),
        what,
    };
    let profile_diff = |account: &Account| {
        if policy.update_on_login {
            diff(&account.profile, &arrived, domain_verified)
        } else {
            ProfileDiff::default()
        }
    };

    // 1. The identity is linked already.
    if let Some(account) = directory.by_identity(&key)? {
        if let Some(refusal) = check_active(ctx, &account, login, directory)? {
            return Ok(refusal.into());
        }
        let diff = profile_diff(&account);
        return Ok(if diff.is_empty() {
            Decision::SignIn { account: account.id }
        } else {
            Decision::Update {
                account: account.id,
                diff,
            }
        });
    }

    // 2. An account this login must meet: by externalId (SCIM), then by email/userName.
    let mut candidates = directory.by_external_id(ctx.tenant, key.unique_id())?;
    if let Some(email) = email.as_deref() {
        for account in directory.by_email(ctx.tenant, email)? {
            if !candidates.iter().any(|c| c.id == account.id) {
                candidates.push(account);
            }
        }
    }
    if candidates.len() > 1 {
        return Ok(Refusal::AmbiguousAccount {
            count: candidates.len(),
            unique_id: key.unique_id().to_owned(),
        }
        .into());
    }
    if let Some(account) = candidates.pop() {
        if let Some(existing) = account
            .identities
            .iter()
            .find(|i| i.connection() == connection.id)
        {
            return Ok(Refusal::IdentityConflict {
                account: account.id.clone(),
                existing: existing.to_string(),
                arrived: key.to_string(),
            }
            .into());
        }
        if let Some(refusal) = check_active(ctx, &account, login, directory)? {
            return Ok(refusal.into());
        }
        let same_tenant = &account.tenant == ctx.tenant;
        let reason = match account.origin {
            AccountOrigin::Scim if same_tenant => LinkReason::ScimProvisioned,
            AccountOrigin::Invited if same_tenant => LinkReason::Invitation,
            _ => {
                let email = email.clone().unwrap_or_default();
                if !policy.allow_linking {
                    return Ok(Refusal::LinkingNotAllowed {
                        email,
                        account: account.id.clone(),
                        connection: connection.id.clone(),
                    }
                    .into());
                }
                if !domain_verified {
                    return Ok(not_verified("linking an existing account").into());
                }
                if !account.email_verified {
                    return Ok(Refusal::AccountEmailUnverified {
                        email,
                        account: account.id.clone(),
                    }
                    .into());
                }
                LinkReason::VerifiedEmail
            }
        };
        return Ok(Decision::Link {
            diff: profile_diff(&account),
            account: account.id,
            identity: key,
            reason,
        });
    }

    // 3. No account: SCIM may know the user without the host having an account yet.
    let scim = match directory.scim_status(ctx.tenant, ScimLookup::ExternalId(key.unique_id()))? {
        Some(state) => Some(state),
        None => match email.as_deref() {
            Some(e) => directory.scim_status(ctx.tenant, ScimLookup::UserName(e))?,
            None => None,
        },
    };
    if let Some(state) = &scim {
        if !state.active {
            return Ok(Refusal::DeactivatedByScim { who: who(login) }.into());
        }
    }
    match policy.provisioning {
        Provisioning::InviteOnly => Ok(Refusal::NotInvited {
            who: who(login),
            tenant: ctx.tenant.clone(),
        }
        .into()),
        Provisioning::ScimOnly if scim.is_none() => Ok(Refusal::NotProvisioned {
            who: who(login),
            tenant: ctx.tenant.clone(),
        }
        .into()),
        Provisioning::Jit | Provisioning::ScimOnly => {
            if email.is_none() {
                return Ok(Refusal::EmailRequired.into());
            }
            if policy.jit_requires_verified_domain && !domain_verified && scim.is_none() {
                return Ok(not_verified("creating users on first login").into());
            }
            Ok(Decision::Create {
                account: NewAccount {
                    tenant: ctx.tenant.clone(),
                    identity: key,
                    role: policy.default_role.clone(),
                    profile: arrived.clone(),
                    email_verified: domain_verified,
                    scim_id: scim.map(|s| s.id),
                },
            })
        }
    }
}
