//! SSO enforcement ("Require SSO for all users") with the admin bypass for emergency access,
//! and the guard that refuses to enable it when no admin could still sign in.
//!
//! Enforcement applies to the tenant's **verified** domains only: a tenant that merely claims
//! a domain cannot lock its real owners out of their password logins.
//!
//! ```
//! use fedkit_tenancy::enforcement::{AdminStanding, Enforcement};
//! let admins = [AdminStanding { account: "ada".into(), active: true, has_password: true, sso_connections: vec![] }];
//! // Without bypass, an admin with only a password would be locked out: refused.
//! assert_eq!(Enforcement::enable(false, &admins, &["acme-jc"]).unwrap_err().code(), "enforcement_would_lock_out_admins");
//! let on = Enforcement::enable(true, &admins, &["acme-jc"])?;
//! assert!(on.enabled && on.admins_may_bypass);
//! # Ok::<(), fedkit_tenancy::enforcement::EnforcementError>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::domain::{DomainName, DomainRegistry, TenantId};

/// A tenant's enforcement setting, as the host stores it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enforcement {
    /// Password (and other non-SSO) logins are refused for the tenant's verified domains.
    pub enabled: bool,
    /// Admins may still use their password (CRA Evidence's "Allow admins to bypass SSO").
    pub admins_may_bypass: bool,
}

/// What enforcement needs to know about one admin of the tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminStanding {
    /// The account.
    pub account: String,
    /// Whether the account may sign in at all (active, not deactivated by SCIM).
    pub active: bool,
    /// Whether it has a password (or other non-SSO credential).
    pub has_password: bool,
    /// The connections it has a linked identity on.
    pub sso_connections: Vec<String>,
}

impl AdminStanding {
    /// How this admin could sign in under `enforcement`, given the tenant's enabled
    /// connections.
    fn ways_in(&self, bypass: bool, enabled_connections: &[&str]) -> (bool, bool) {
        let sso = self.active
            && self
                .sso_connections
                .iter()
                .any(|c| enabled_connections.contains(&c.as_str()));
        let password = self.active && bypass && self.has_password;
        (sso, password)
    }
}

/// Why enforcement cannot be enabled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnforcementError {
    /// No admin could sign in once enforcement is on.
    #[error("enabling SSO enforcement would lock every admin out: of {admins} admin(s), none is active with either an identity on an enabled SSO connection or (with \"admins may bypass\" on) a password; sign in once through SSO as an admin, or turn on the admin bypass for an admin with a password, then enable enforcement")]
    WouldLockOutAdmins {
        /// How many admins the tenant has.
        admins: usize,
    },
}

impl EnforcementError {
    /// A stable `snake_case` code.
    pub fn code(&self) -> &'static str {
        match self {
            EnforcementError::WouldLockOutAdmins { .. } => "enforcement_would_lock_out_admins",
        }
    }
}

/// Something to tell the admin enabling enforcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnforcementWarning {
    /// Admins can sign in through SSO only: if the IdP fails, no one can get in (the CRA
    /// Evidence guide's warning: keep one admin able to log in with a password).
    NoBreakGlassAdmin,
}

impl Enforcement {
    /// Enforcement on, if at least one admin could still sign in: through an identity on one
    /// of `enabled_connections`, or with a password when `admins_may_bypass`.
    pub fn enable(
        admins_may_bypass: bool,
        admins: &[AdminStanding],
        enabled_connections: &[&str],
    ) -> Result<Self, EnforcementError> {
        let any_way_in = admins.iter().any(|a| {
            let (sso, password) = a.ways_in(admins_may_bypass, enabled_connections);
            sso || password
        });
        if !any_way_in {
            return Err(EnforcementError::WouldLockOutAdmins { admins: admins.len() });
        }
        Ok(Self {
            enabled: true,
            admins_may_bypass,
        })
    }

    /// Re-checks the current setting after a change (an admin removed or deactivated, a
    /// connection disabled, the bypass turned off): `Err` when it now locks every admin
    /// out (the host should refuse the change, or turn enforcement off).
    pub fn still_safe(
        &self,
        admins: &[AdminStanding],
        enabled_connections: &[&str],
    ) -> Result<(), EnforcementError> {
        if !self.enabled {
            return Ok(());
        }
        Self::enable(self.admins_may_bypass, admins, enabled_connections).map(|_| ())
    }

    /// Warnings for the admin: whether any admin could get in if the IdP fails.
    pub fn warnings(&self, admins: &[AdminStanding]) -> Vec<EnforcementWarning> {
        let break_glass = admins.iter().any(|a| a.ways_in(self.admins_may_bypass, &[]).1);
        if self.enabled && !break_glass {
            vec![EnforcementWarning::NoBreakGlassAdmin]
        } else {
            Vec::new()
        }
    }
}

/// Why a password login was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordRefusal {
    /// The email's domain is verified by a tenant that enforces SSO.
    #[error("{domain} requires single sign-on (organisation {tenant} enforces it); sign in with SSO")]
    SsoRequired {
        /// The domain.
        domain: DomainName,
        /// The tenant enforcing.
        tenant: TenantId,
    },
}

impl PasswordRefusal {
    /// A stable `snake_case` code.
    pub fn code(&self) -> &'static str {
        match self {
            PasswordRefusal::SsoRequired { .. } => "sso_required",
        }
    }

    /// What to show the person.
    pub fn user_message(&self) -> &'static str {
        "Your organisation requires single sign-on. Use \"Sign in with SSO\"."
    }
}

/// Whether a password login is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PasswordLogin {
    /// No enforcement applies (no verified domain, or its tenant does not enforce).
    Allowed,
    /// Allowed because the account is an admin of the enforcing tenant and bypass is on
    /// (log it: it is the emergency door).
    AllowedByAdminBypass,
    /// Refused.
    Refused(PasswordRefusal),
}

/// Whether a password login for `email` is allowed: refused when the email's domain is
/// verified by a tenant that enforces SSO, unless `is_admin_of(tenant)` and bypass is on.
/// `enforcement_of` gives each tenant's setting. An email whose domain is unverified, or not
/// parseable, is never refused here.
pub fn password_login(
    email: &str,
    domains: &DomainRegistry,
    enforcement_of: impl Fn(&TenantId) -> Enforcement,
    is_admin_of: impl Fn(&TenantId) -> bool,
) -> PasswordLogin {
    let Some(domain) = DomainName::of_email(email) else {
        return PasswordLogin::Allowed;
    };
    let Some(tenant) = domains.verified_owner(&domain) else {
        return PasswordLogin::Allowed;
    };
    let enforcement = enforcement_of(tenant);
    if !enforcement.enabled {
        return PasswordLogin::Allowed;
    }
    if enforcement.admins_may_bypass && is_admin_of(tenant) {
        return PasswordLogin::AllowedByAdminBypass;
    }
    PasswordLogin::Refused(PasswordRefusal::SsoRequired {
        tenant: tenant.clone(),
        domain,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;

    use crate::domain::AppName;

    fn admin(active: bool, has_password: bool, sso: &[&str]) -> AdminStanding {
        AdminStanding {
            account: "a".into(),
            active,
            has_password,
            sso_connections: sso.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn registry(verify: bool) -> (DomainRegistry, TenantId) {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let acme = TenantId::new("acme").unwrap();
        let mut r = DomainRegistry::default();
        let c = r
            .claim(
                &acme,
                DomainName::parse("acme.com").unwrap(),
                &AppName::new("x").unwrap(),
                &[1; 16],
                now,
            )
            .unwrap();
        if verify {
            r.verify(&acme, &c.domain, std::slice::from_ref(&c.record_value), now)
                .unwrap();
        }
        (r, acme)
    }

    #[test]
    fn enforced_verified_domain_refuses_passwords_but_admin_bypass_works() {
        let (r, _) = registry(true);
        let on = Enforcement {
            enabled: true,
            admins_may_bypass: true,
        };
        let refused = password_login("jane@ACME.com", &r, |_| on, |_| false);
        assert!(matches!(&refused, PasswordLogin::Refused(e) if e.code() == "sso_required"));
        assert_eq!(
            password_login("ada@acme.com", &r, |_| on, |_| true),
            PasswordLogin::AllowedByAdminBypass
        );
        let no_bypass = Enforcement {
            enabled: true,
            admins_may_bypass: false,
        };
        assert!(matches!(
            password_login("ada@acme.com", &r, |_| no_bypass, |_| true),
            PasswordLogin::Refused(_)
        ));
        assert_eq!(
            password_login("bob@other.com", &r, |_| on, |_| false),
            PasswordLogin::Allowed
        );
        assert_eq!(
            password_login("not-an-email", &r, |_| on, |_| false),
            PasswordLogin::Allowed
        );
    }

    #[test]
    fn unverified_domain_never_enforces() {
        let (r, _) = registry(false);
        let on = Enforcement {
            enabled: true,
            admins_may_bypass: false,
        };
        assert_eq!(
            password_login("jane@acme.com", &r, |_| on, |_| false),
            PasswordLogin::Allowed
        );
    }

    #[test]
    fn enabling_is_refused_when_it_would_lock_out_and_warns_without_break_glass() {
        assert_eq!(
            Enforcement::enable(true, &[], &["c"]).unwrap_err().code(),
            "enforcement_would_lock_out_admins"
        );
        // Deactivated admin, or SSO only on a disabled connection: locked out.
        assert!(Enforcement::enable(true, &[admin(false, true, &["c"])], &["c"]).is_err());
        assert!(Enforcement::enable(false, &[admin(true, true, &["old"])], &["c"]).is_err());
        let sso_only = Enforcement::enable(false, &[admin(true, false, &["c"])], &["c"]).unwrap();
        assert_eq!(
            sso_only.warnings(&[admin(true, false, &["c"])]),
            vec![EnforcementWarning::NoBreakGlassAdmin]
        );
        let with_glass = Enforcement::enable(true, &[admin(true, true, &[])], &["c"]).unwrap();
        assert!(with_glass.warnings(&[admin(true, true, &[])]).is_empty());
        // Turning the bypass off later is caught.
        let off = Enforcement {
            admins_may_bypass: false,
            ..with_glass
        };
        assert!(off.still_safe(&[admin(true, true, &[])], &["c"]).is_err());
        assert!(Enforcement::default().still_safe(&[], &[]).is_ok());
    }

    proptest! {
        #[test]
        fn enforcement_never_locks_out_the_last_admin(
            admins in proptest::collection::vec((any::<bool>(), any::<bool>(), proptest::option::of(0usize..3)), 0..5),
            bypass in any::<bool>(),
            enabled_mask in 0u8..8,
        ) {
            let names = ["c0", "c1", "c2"];
            let enabled: Vec<&str> = names.iter().enumerate().filter(|(i, _)| enabled_mask & (1 << i) != 0).map(|(_, n)| *n).collect();
            let standings: Vec<AdminStanding> = admins.iter().map(|(active, pw, conn)| {
                admin(*active, *pw, &conn.map(|i| vec![names[i]]).unwrap_or_default())
            }).collect();
            if let Ok(on) = Enforcement::enable(bypass, &standings, &enabled) {
                // Some admin can get in: by SSO on an enabled connection, or by the bypass.
                let (r, _) = registry(true);
                let can = standings.iter().any(|a| {
                    let sso = a.active && a.sso_connections.iter().any(|c| enabled.contains(&c.as_str()));
                    let pw = a.active && a.has_password
                        && password_login("admin@acme.com", &r, |_| on, |_| true) == PasswordLogin::AllowedByAdminBypass;
                    sso || pw
                });
                prop_assert!(can);
            }
        }
    }
}
