//! Admission against an in-memory directory: every decision, every refusal code, and the
//! property that a login never creates an account beside one it should have met.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::cell::RefCell;
use std::convert::Infallible;

use chrono::{TimeZone, Utc};
use fedkit_saml::connection::Connection;
use fedkit_saml::UserProfile;
use fedkit_scim_service::DeleteAction;
use fedkit_tenancy::admission::{
    admit, Account, AccountOrigin, AdmissionPolicy, Decision, Directory, LinkReason, LoginContext,
    LoginIdentity, ProfileFields, Provisioning, ScimLookup, ScimState,
};
use fedkit_tenancy::domain::{AppName, DomainName, DomainRegistry, TenantId};
use fedkit_tenancy::identity::IdentityKey;
use proptest::prelude::*;

const EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
const PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";

#[derive(Default)]
struct Memory {
    accounts: Vec<Account>,
    scim: Vec<(String, String, bool)>, // (externalId or userName, scim id, active)
    pinned: RefCell<Option<Option<String>>>,
}

impl Directory for Memory {
    type Error = Infallible;
    fn by_identity(&self, key: &IdentityKey) -> Result<Option<Account>, Infallible> {
        Ok(self.accounts.iter().find(|a| a.identities.contains(key)).cloned())
    }
    fn by_external_id(&self, tenant: &TenantId, external_id: &str) -> Result<Vec<Account>, Infallible> {
        Ok(self
            .accounts
            .iter()
            .filter(|a| &a.tenant == tenant && a.external_id.as_deref() == Some(external_id))
            .cloned()
            .collect())
    }
    fn by_email(&self, _tenant: &TenantId, email: &str) -> Result<Vec<Account>, Infallible> {
        // One account per person across organisations: every account with the email.
        Ok(self
            .accounts
            .iter()
            .filter(|a| {
                a.profile
                    .email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
                    || a.user_name
                        .as_deref()
                        .is_some_and(|u| u.eq_ignore_ascii_case(email))
            })
            .cloned()
            .collect())
    }
    fn scim_status(
        &self,
        _tenant: &TenantId,
        lookup: ScimLookup<'_>,
    ) -> Result<Option<ScimState>, Infallible> {
        let key = match lookup {
            ScimLookup::ExternalId(v) | ScimLookup::UserName(v) => v.to_ascii_lowercase(),
            _ => return Ok(None),
        };
        Ok(self
            .scim
            .iter()
            .find(|(k, _, _)| k.to_ascii_lowercase() == key)
            .map(|(_, id, active)| ScimState {
                id: id.clone(),
                active: *active,
            }))
    }
    fn pinned_name_id_format(&self, _connection: &str) -> Result<Option<Option<String>>, Infallible> {
        Ok(self.pinned.borrow().clone())
    }
}

fn acme() -> TenantId {
    TenantId::new("acme").unwrap()
}

fn connection(enabled: bool, allowlist: &[&str]) -> Connection {
    serde_json::from_value(serde_json::json!({
        "id": "acme-jc", "enabled": enabled,
        "idp": {"type": "metadata_url", "url": "https://sso.jumpcloud.com/saml2/metadata/acme"},
        "behavior": {"email_domain_allowlist": allowlist}
    }))
    .unwrap()
}

fn verified(domains: &[&str]) -> DomainRegistry {
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
    let mut r = DomainRegistry::default();
    for d in domains {
        let c = r
            .claim(
                &acme(),
                DomainName::parse(d).unwrap(),
                &AppName::new("app").unwrap(),
                &[3; 16],
                now,
            )
            .unwrap();
        r.verify(&acme(), &c.domain, std::slice::from_ref(&c.record_value), now)
            .unwrap();
    }
    r
}

fn login(unique_id: &str, email: Option<&str>) -> LoginIdentity {
    LoginIdentity {
        profile: UserProfile {
            unique_id: unique_id.into(),
            email: email.map(Into::into),
            first_name: Some("Jane".into()),
            last_name: Some("Doe".into()),
            display_name: Some("Jane Doe".into()),
            groups: vec!["eng".into()],
        },
        name_id_format: Some(EMAIL.into()),
        keyed_by_name_id: true,
    }
}

fn account(id: &str, origin: AccountOrigin, email: &str) -> Account {
    Account {
        id: id.into(),
        tenant: acme(),
        origin,
        identities: vec![],
        email_verified: true,
        user_name: None,
        external_id: None,
        active: true,
        profile: ProfileFields {
            email: Some(email.into()),
            first_name: Some("Jane".into()),
            last_name: Some("Doe".into()),
            display_name: Some("Jane Doe".into()),
            groups: vec!["eng".into()],
        },
    }
}

fn key(unique_id: &str) -> IdentityKey {
    IdentityKey::saml("acme-jc", unique_id).unwrap()
}

struct Case {
    connection: Connection,
    policy: AdmissionPolicy,
    domains: DomainRegistry,
    directory: Memory,
}

impl Case {
    fn new(provisioning: Provisioning) -> Self {
        Self {
            connection: connection(true, &["acme.com"]),
            policy: AdmissionPolicy::new(provisioning, "member"),
            domains: verified(&["acme.com"]),
            directory: Memory::default(),
        }
    }
    fn admit(&self, login: &LoginIdentity) -> fedkit_tenancy::Admission {
        let tenant = acme();
        let ctx = LoginContext {
            tenant: &tenant,
            connection: &self.connection,
            policy: &self.policy,
            domains: &self.domains,
        };
        admit(ctx, login, &self.directory).unwrap()
    }
    fn decide(&self, login: &LoginIdentity) -> Decision {
        self.admit(login).decision
    }
    fn refused(&self, login: &LoginIdentity) -> &'static str {
        match self.decide(login) {
            Decision::Refuse {
                code,
                user_message,
                admin_message,
                reason,
            } => {
                assert_eq!(code, reason.code());
                assert!(!user_message.is_empty() && !admin_message.is_empty());
                // The user never sees account IDs or other tenants.
                assert!(!user_message.contains("acct-"), "{user_message}");
                code
            }
            other => panic!("not refused: {other:?}"),
        }
    }
}

#[test]
fn jit_creates_with_the_default_role_and_pins_the_format() {
    let case = Case::new(Provisioning::Jit);
    let admission = case.admit(&login("jane@acme.com", Some("jane@acme.com")));
    assert_eq!(admission.pin_name_id_format, Some(Some(EMAIL.into())));
    match admission.decision {
        Decision::Create { account } => {
            assert_eq!(account.role, "member");
            assert_eq!(account.identity.to_string(), "saml:acme-jc:jane@acme.com");
            assert!(account.email_verified);
            assert_eq!(account.profile.first_name.as_deref(), Some("Jane"));
            assert_eq!(account.scim_id, None);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn linked_identity_signs_in_or_updates() {
    let mut case = Case::new(Provisioning::Jit);
    let mut a = account("acct-1", AccountOrigin::Jit, "jane@acme.com");
    a.identities.push(key("jane@acme.com"));
    a.profile.last_name = Some("Smith".into());
    case.directory.accounts.push(a);
    *case.directory.pinned.borrow_mut() = Some(Some(EMAIL.into()));
    let l = login("jane@acme.com", Some("jane@acme.com"));
    assert_eq!(
        case.decide(&l),
        Decision::SignIn {
            account: "acct-1".into()
        }
    );
    assert_eq!(case.admit(&l).pin_name_id_format, None);
    case.policy.update_on_login = true;
    match case.decide(&l) {
        Decision::Update { account, diff } => {
            assert_eq!(account, "acct-1");
            let change = diff.last_name.unwrap();
            assert_eq!(
                (change.old.as_deref(), change.new.as_deref()),
                (Some("Smith"), Some("Doe"))
            );
            assert!(diff.first_name.is_none() && diff.email.is_none());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn scim_provisioned_user_is_linked_not_duplicated() {
    let mut case = Case::new(Provisioning::ScimOnly);
    let mut a = account("acct-scim", AccountOrigin::Scim, "jane@acme.com");
    a.external_id = Some("jc-123".into());
    a.user_name = Some("jane@acme.com".into());
    case.directory.accounts.push(a);
    // Matched by externalId = the IdP's unique ID (an Entra object ID, say)...
    let mut by_external = login("jc-123", Some("jane@acme.com"));
    by_external.keyed_by_name_id = false;
    match case.decide(&by_external) {
        Decision::Link {
            account,
            reason,
            identity,
            ..
        } => {
            assert_eq!(account, "acct-scim");
            assert_eq!(reason, LinkReason::ScimProvisioned);
            assert_eq!(identity, key("jc-123"));
        }
        other => panic!("{other:?}"),
    }
    // ...or by userName = email, even without linking allowed or a verified domain.
    case.domains = DomainRegistry::default();
    assert!(matches!(
        case.decide(&login("jane@acme.com", Some("JANE@acme.com"))),
        Decision::Link {
            reason: LinkReason::ScimProvisioned,
            ..
        }
    ));
}

#[test]
fn scim_only_with_scim_record_but_no_account_creates_with_the_scim_id() {
    let mut case = Case::new(Provisioning::ScimOnly);
    case.directory
        .scim
        .push(("jane@acme.com".into(), "scim-9".into(), true));
    match case.decide(&login("jane@acme.com", Some("jane@acme.com"))) {
        Decision::Create { account } => assert_eq!(account.scim_id.as_deref(), Some("scim-9")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn invitation_is_linked() {
    let mut case = Case::new(Provisioning::InviteOnly);
    let mut a = account("acct-inv", AccountOrigin::Invited, "jane@acme.com");
    a.email_verified = false;
    case.directory.accounts.push(a);
    assert!(matches!(
        case.decide(&login("jane@acme.com", Some("jane@acme.com"))),
        Decision::Link {
            reason: LinkReason::Invitation,
            ..
        }
    ));
}

#[test]
fn password_account_links_only_with_linking_verified_domain_and_verified_email() {
    let mut case = Case::new(Provisioning::Jit);
    case.directory
        .accounts
        .push(account("acct-pw", AccountOrigin::Password, "jane@acme.com"));
    let l = login("jane@acme.com", Some("jane@acme.com"));
    assert_eq!(case.refused(&l), "linking_not_allowed");
    case.policy.allow_linking = true;
    assert!(matches!(
        case.decide(&l),
        Decision::Link {
            reason: LinkReason::VerifiedEmail,
            ..
        }
    ));
    // Unverified domain: refused (and no account created beside it).
    case.domains = DomainRegistry::default();
    assert_eq!(case.refused(&l), "domain_not_verified");
    case.domains = verified(&["acme.com"]);
    case.directory.accounts[0].email_verified = false;
    assert_eq!(case.refused(&l), "account_email_unverified");
}

#[test]
fn every_other_refusal_code() {
    let l = login("jane@acme.com", Some("jane@acme.com"));

    let mut case = Case::new(Provisioning::Jit);
    case.connection = connection(false, &["acme.com"]);
    assert_eq!(case.refused(&l), "connection_disabled");

    let case = Case::new(Provisioning::Jit);
    assert_eq!(
        case.refused(&login("  ", Some("jane@acme.com"))),
        "unique_id_empty"
    );
    assert_eq!(
        case.refused(&login("jane@other.com", Some("jane@other.com"))),
        "email_outside_allowlist"
    );
    assert_eq!(case.refused(&login("u-1", None)), "email_required");
    // An email whose domain cannot be parsed is outside any allowlist.
    assert_eq!(
        case.refused(&login("x", Some("jane@acme.com@evil.com"))),
        "email_outside_allowlist"
    );

    let mut case = Case::new(Provisioning::Jit);
    case.connection = connection(true, &[]);
    assert_eq!(
        case.refused(&login("jane@other.com", Some("jane@other.com"))),
        "domain_not_verified"
    );
    case.policy.jit_requires_verified_domain = false;
    assert!(matches!(
        case.decide(&login("jane@other.com", Some("jane@other.com"))),
        Decision::Create { .. }
    ));

    assert_eq!(Case::new(Provisioning::InviteOnly).refused(&l), "not_invited");
    assert_eq!(Case::new(Provisioning::ScimOnly).refused(&l), "not_provisioned");

    let mut case = Case::new(Provisioning::Jit);
    case.directory
        .scim
        .push(("jane@acme.com".into(), "s-1".into(), false));
    assert_eq!(case.refused(&l), "deactivated_by_scim");
    let mut a = account("acct-1", AccountOrigin::Scim, "jane@acme.com");
    a.identities.push(key("jane@acme.com"));
    a.user_name = Some("jane@acme.com".into());
    case.directory.accounts.push(a);
    assert_eq!(case.refused(&l), "deactivated_by_scim");
    case.directory.scim.clear();
    case.directory.accounts[0].active = false;
    assert_eq!(case.refused(&l), "account_deactivated");

    let mut case = Case::new(Provisioning::Jit);
    case.directory
        .accounts
        .push(account("acct-a", AccountOrigin::Password, "jane@acme.com"));
    case.directory
        .accounts
        .push(account("acct-b", AccountOrigin::Jit, "JANE@acme.com"));
    assert_eq!(case.refused(&l), "account_ambiguous");

    let mut case = Case::new(Provisioning::Jit);
    let mut a = account("acct-1", AccountOrigin::Jit, "jane@acme.com");
    a.identities.push(key("old-id-77"));
    case.directory.accounts.push(a);
    assert_eq!(case.refused(&l), "identity_conflict");

    let case = Case::new(Provisioning::Jit);
    *case.directory.pinned.borrow_mut() = Some(Some(EMAIL.into()));
    let mut changed = login("a1b2c3", Some("jane@acme.com"));
    changed.name_id_format = Some(PERSISTENT.into());
    match case.decide(&changed) {
        Decision::Refuse {
            code, admin_message, ..
        } => {
            assert_eq!(code, "name_id_format_changed");
            assert!(admin_message
                .contains("Do not change the SAMLSubject NameID Format after users have already signed in"));
        }
        other => panic!("{other:?}"),
    }
    // Keyed by an attribute, a NameID format change is harmless.
    changed.keyed_by_name_id = false;
    assert!(matches!(case.decide(&changed), Decision::Create { .. }));
}

#[test]
fn allowlist_compares_normalised_domains() {
    let mut case = Case::new(Provisioning::Jit);
    case.connection = connection(true, &["Bücher.Example."]);
    case.domains = verified(&["xn--bcher-kva.example"]);
    assert!(matches!(
        case.decide(&login("jane", Some("jane@XN--BCHER-KVA.example"))),
        Decision::Create { .. }
    ));
}

#[test]
fn a_refusal_pins_nothing() {
    let case = Case::new(Provisioning::InviteOnly);
    assert_eq!(
        case.admit(&login("jane@acme.com", Some("jane@acme.com")))
            .pin_name_id_format,
        None
    );
}

#[test]
fn scim_delete_policy_maps_to_the_scim_service_action() {
    let mut p = AdmissionPolicy::new(Provisioning::ScimOnly, "member");
    assert_eq!(p.on_scim_delete(), DeleteAction::Delete);
    p.deactivate_on_scim_delete = true;
    assert_eq!(p.on_scim_delete(), DeleteAction::Deactivate);
}

#[test]
fn email_update_only_to_a_verified_domain() {
    let mut case = Case::new(Provisioning::Jit);
    case.policy.update_on_login = true;
    case.connection = connection(true, &[]);
    let mut a = account("acct-1", AccountOrigin::Jit, "jane@acme.com");
    a.identities.push(key("u-1"));
    case.directory.accounts.push(a);
    let moved = login("u-1", Some("jane@elsewhere.com"));
    assert_eq!(
        case.decide(&moved),
        Decision::SignIn {
            account: "acct-1".into()
        }
    );
}

proptest! {
    /// Whatever accounts exist, a login never creates an account when one with its email
    /// or its externalId exists: it links, signs in, or refuses.
    #[test]
    fn never_creates_a_duplicate(
        origins in proptest::collection::vec((0u8..4, any::<bool>(), any::<bool>(), any::<bool>()), 0..4),
        mode in 0u8..3,
        allow_linking in any::<bool>(),
        domain_verified in any::<bool>(),
        email_upper in any::<bool>(),
    ) {
        let provisioning = [Provisioning::Jit, Provisioning::InviteOnly, Provisioning::ScimOnly][usize::from(mode)];
        let mut case = Case::new(provisioning);
        case.policy.allow_linking = allow_linking;
        if !domain_verified { case.domains = DomainRegistry::default(); }
        for (i, (origin, by_external, email_verified, active)) in origins.iter().enumerate() {
            let origin = [AccountOrigin::Password, AccountOrigin::Jit, AccountOrigin::Scim, AccountOrigin::Invited][usize::from(*origin)];
            let email = if *by_external { format!("other{i}@acme.com") } else { "jane@acme.com".to_owned() };
            let mut a = account(&format!("acct-{i}"), origin, &email);
            if *by_external { a.external_id = Some("jc-1".into()); }
            a.email_verified = *email_verified;
            a.active = *active;
            case.directory.accounts.push(a);
        }
        let existing = case.directory.accounts.iter().any(|a| {
            a.external_id.as_deref() == Some("jc-1") || a.profile.email.as_deref() == Some("jane@acme.com")
        });
        let email = if email_upper { "JANE@ACME.COM" } else { "jane@acme.com" };
        let mut l = login("jc-1", Some(email));
        l.keyed_by_name_id = false;
        let decision = case.decide(&l);
        if existing {
            prop_assert!(!matches!(decision, Decision::Create { .. }), "{decision:?}");
        }
        if let Decision::Link { reason: LinkReason::VerifiedEmail, .. } = decision {
            prop_assert!(allow_linking && domain_verified);
        }
    }
}
