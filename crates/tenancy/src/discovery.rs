//! Home-realm discovery: which connection a login starts at, from the email the user typed
//! (through **verified** domains only) or from the organisation's slug (Pulumi's
//! "enter your organization name").
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use fedkit_saml::connection::Connection;
//! use fedkit_tenancy::discovery::{discover_by_email, Tenants};
//! use fedkit_tenancy::domain::{AppName, DomainName, DomainRegistry, TenantId};
//!
//! struct One(TenantId, Connection);
//! impl Tenants for One {
//!     fn by_slug(&self, slug: &str) -> Option<TenantId> { (slug == "acme").then(|| self.0.clone()) }
//!     fn connections(&self, tenant: &TenantId) -> Vec<&Connection> {
//!         if tenant == &self.0 { vec![&self.1] } else { vec![] }
//!     }
//! }
//! let now = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
//! let acme = TenantId::new("acme")?;
//! let connection: Connection = serde_json::from_str(r#"{"id": "acme-jc", "enabled": true,
//!     "idp": {"type": "metadata_url", "url": "https://idp.acme.com/metadata"}}"#)?;
//! let tenants = One(acme.clone(), connection);
//! let mut domains = DomainRegistry::default();
//! let app = AppName::new("example")?;
//! let c = domains.claim(&acme, DomainName::parse("acme.com")?, &app, &[1; 16], now)?;
//! // Claimed but not verified: does not route.
//! assert_eq!(discover_by_email("jane@acme.com", &domains, &tenants).unwrap_err().code(), "domain_not_verified");
//! domains.verify(&acme, &c.domain, std::slice::from_ref(&c.record_value), now)?;
//! assert_eq!(discover_by_email("Jane@ACME.com", &domains, &tenants)?.connection.id, "acme-jc");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use fedkit_saml::connection::Connection;

use crate::domain::{DomainError, DomainName, DomainRegistry, TenantId};

/// The host's tenants and their connections.
pub trait Tenants {
    /// The tenant with this organisation slug (as the user typed it; compare as the host
    /// stores slugs).
    fn by_slug(&self, slug: &str) -> Option<TenantId>;
    /// The tenant's connections, enabled or not.
    fn connections(&self, tenant: &TenantId) -> Vec<&Connection>;
}

/// Where a login goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route<'a> {
    /// The tenant.
    pub tenant: TenantId,
    /// The connection to start the login at.
    pub connection: &'a Connection,
}

/// Why no connection was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RouteMiss {
    /// Not `local@domain`.
    #[error("{input:?} is not an email address")]
    NotAnEmail {
        /// What was typed.
        input: String,
    },
    /// The domain part is not a claimable domain.
    #[error("the email's domain is not usable: {0}")]
    BadDomain(DomainError),
    /// No tenant has verified the domain ("Domain Not Configured").
    #[error("no organisation has configured single sign-on for {domain}")]
    DomainNotConfigured {
        /// The domain.
        domain: DomainName,
    },
    /// A tenant claimed the domain but has not verified it (or lost verification).
    #[error("{domain} is claimed but not verified (DNS TXT record), so it does not route; verify it in the SSO settings")]
    DomainNotVerified {
        /// The domain.
        domain: DomainName,
    },
    /// No organisation has this slug.
    #[error("no organisation is named {slug:?}")]
    UnknownOrganisation {
        /// What was typed.
        slug: String,
    },
    /// The tenant has no connection (for the domain).
    #[error("organisation {tenant} has no SSO connection{}", domain.as_ref().map(|d| format!(" for {d}")).unwrap_or_default())]
    NoConnection {
        /// The tenant.
        tenant: TenantId,
        /// The domain, when routing by email.
        domain: Option<DomainName>,
    },
    /// The connection exists but is disabled.
    #[error("organisation {tenant}'s SSO connection {connection:?} is disabled")]
    ConnectionDisabled {
        /// The tenant.
        tenant: TenantId,
        /// The connection.
        connection: String,
    },
    /// Several enabled connections could serve the login.
    #[error("organisation {tenant} has several enabled SSO connections ({}); list the domain in exactly one connection's email allowlist", connections.join(", "))]
    Ambiguous {
        /// The tenant.
        tenant: TenantId,
        /// The candidates.
        connections: Vec<String>,
    },
}

impl RouteMiss {
    /// A stable `snake_case` code.
    pub fn code(&self) -> &'static str {
        match self {
            RouteMiss::NotAnEmail { .. } => "not_an_email",
            RouteMiss::BadDomain(e) => e.code(),
            RouteMiss::DomainNotConfigured { .. } => "domain_not_configured",
            RouteMiss::DomainNotVerified { .. } => "domain_not_verified",
            RouteMiss::UnknownOrganisation { .. } => "unknown_organisation",
            RouteMiss::NoConnection { .. } => "no_connection",
            RouteMiss::ConnectionDisabled { .. } => "connection_disabled",
            RouteMiss::Ambiguous { .. } => "connection_ambiguous",
        }
    }
}

/// Picks the tenant's connection: among those listing `domain` in their allowlist (or all,
/// without a domain or when none lists it), the enabled one; disabled ones never route.
fn pick<'a>(
    tenant: TenantId,
    domain: Option<DomainName>,
    tenants: &'a impl Tenants,
) -> Result<Route<'a>, RouteMiss> {
    let all = tenants.connections(&tenant);
    let listing: Vec<&Connection> = match &domain {
        Some(d) => all
            .iter()
            .copied()
            .filter(|c| {
                c.behavior
                    .email_domain_allowlist
                    .iter()
                    .any(|a| DomainName::parse(a).is_ok_and(|a| &a == d))
            })
            .collect(),
        None => Vec::new(),
    };
    let pool = if listing.is_empty() { all } else { listing };
    let enabled: Vec<&Connection> = pool.iter().copied().filter(|c| c.enabled).collect();
    match enabled.as_slice() {
        [one] => Ok(Route {
            tenant,
            connection: one,
        }),
        [] => match pool.first() {
            Some(disabled) => Err(RouteMiss::ConnectionDisabled {
                connection: disabled.id.clone(),
                tenant,
            }),
            None => Err(RouteMiss::NoConnection { tenant, domain }),
        },
        many => Err(RouteMiss::Ambiguous {
            tenant,
            connections: many.iter().map(|c| c.id.clone()).collect(),
        }),
    }
}

/// The connection for the email a user typed: its domain must be verified by a tenant.
pub fn discover_by_email<'a>(
    email: &str,
    domains: &DomainRegistry,
    tenants: &'a impl Tenants,
) -> Result<Route<'a>, RouteMiss> {
    let (local, raw) = email
        .trim()
        .split_once('@')
        .ok_or_else(|| RouteMiss::NotAnEmail {
            input: email.to_owned(),
        })?;
    if local.is_empty() || raw.contains('@') {
        return Err(RouteMiss::NotAnEmail {
            input: email.to_owned(),
        });
    }
    let domain = DomainName::parse(raw).map_err(RouteMiss::BadDomain)?;
    let Some(tenant) = domains.verified_owner(&domain).cloned() else {
        return Err(if domains.claims().iter().any(|c| c.challenge.domain == domain) {
            RouteMiss::DomainNotVerified { domain }
        } else {
            RouteMiss::DomainNotConfigured { domain }
        });
    };
    pick(tenant, Some(domain), tenants)
}

/// The connection of the organisation named `slug`.
pub fn discover_by_slug<'a>(slug: &str, tenants: &'a impl Tenants) -> Result<Route<'a>, RouteMiss> {
    let tenant = tenants
        .by_slug(slug.trim())
        .ok_or_else(|| RouteMiss::UnknownOrganisation {
            slug: slug.to_owned(),
        })?;
    pick(tenant, None, tenants)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::{TimeZone, Utc};

    use crate::domain::AppName;

    struct Set(Vec<(TenantId, Connection)>);
    impl Tenants for Set {
        fn by_slug(&self, slug: &str) -> Option<TenantId> {
            self.0
                .iter()
                .map(|(t, _)| t)
                .find(|t| t.as_str() == slug)
                .cloned()
        }
        fn connections(&self, tenant: &TenantId) -> Vec<&Connection> {
            self.0
                .iter()
                .filter(|(t, _)| t == tenant)
                .map(|(_, c)| c)
                .collect()
        }
    }

    fn conn(id: &str, enabled: bool, domains: &[&str]) -> Connection {
        serde_json::from_value(serde_json::json!({
            "id": id, "enabled": enabled,
            "idp": {"type": "metadata_url", "url": "https://idp.example.com/md"},
            "behavior": {"email_domain_allowlist": domains}
        }))
        .unwrap()
    }

    fn t(s: &str) -> TenantId {
        TenantId::new(s).unwrap()
    }

    fn verified(pairs: &[(&str, &str)]) -> DomainRegistry {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let app = AppName::new("x").unwrap();
        let mut r = DomainRegistry::default();
        for (tenant, domain) in pairs {
            let c = r
                .claim(
                    &t(tenant),
                    DomainName::parse(domain).unwrap(),
                    &app,
                    &[5; 16],
                    now,
                )
                .unwrap();
            r.verify(&t(tenant), &c.domain, std::slice::from_ref(&c.record_value), now)
                .unwrap();
        }
        r
    }

    #[test]
    fn every_miss_has_its_code() {
        let set = Set(vec![
            (t("acme"), conn("acme-a", true, &["acme.com"])),
            (t("acme"), conn("acme-b", true, &["acme.com"])),
            (t("off"), conn("off-1", false, &[])),
            (t("none"), conn("x", true, &[])),
        ]);
        let mut domains = verified(&[("acme", "acme.com"), ("off", "off.com"), ("empty", "empty.com")]);
        let app = AppName::new("x").unwrap();
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        domains
            .claim(
                &t("none"),
                DomainName::parse("pending.com").unwrap(),
                &app,
                &[6; 16],
                now,
            )
            .unwrap();
        let code = |e: &str| discover_by_email(e, &domains, &set).unwrap_err().code();
        assert_eq!(code("jane"), "not_an_email");
        assert_eq!(code("@acme.com"), "not_an_email");
        assert_eq!(code("jane@localhost"), "domain_single_label");
        assert_eq!(code("jane@nobody.com"), "domain_not_configured");
        assert_eq!(code("jane@pending.com"), "domain_not_verified");
        assert_eq!(code("jane@off.com"), "connection_disabled");
        assert_eq!(code("jane@empty.com"), "no_connection");
        assert_eq!(code("jane@acme.com"), "connection_ambiguous");
        assert_eq!(
            discover_by_slug("ghost", &set).unwrap_err().code(),
            "unknown_organisation"
        );
        assert_eq!(
            discover_by_slug("off", &set).unwrap_err().code(),
            "connection_disabled"
        );
        assert_eq!(discover_by_slug("none", &set).unwrap().connection.id, "x");
    }

    proptest::proptest! {
        /// Whatever is claimed and verified, an email routes only through a domain its tenant
        /// holds verified.
        #[test]
        fn only_verified_domains_route(verify in proptest::collection::vec(proptest::bool::ANY, 3), pick in 0usize..3) {
            let names = ["a", "b", "c"];
            let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
            let app = AppName::new("x").unwrap();
            let mut r = DomainRegistry::default();
            let set = Set(names.iter().map(|n| (t(n), conn(&format!("{n}-1"), true, &[]))).collect());
            for (n, v) in names.iter().zip(&verify) {
                let c = r.claim(&t(n), DomainName::parse(&format!("{n}.com")).unwrap(), &app, &[1; 16], now).unwrap();
                if *v {
                    r.verify(&t(n), &c.domain, std::slice::from_ref(&c.record_value), now).unwrap();
                }
            }
            let name = names.get(pick).copied().unwrap_or("a");
            let routed = discover_by_email(&format!("jane@{name}.com"), &r, &set);
            proptest::prop_assert_eq!(routed.is_ok(), verify.get(pick).copied().unwrap_or(false));
            if let Ok(route) = routed {
                proptest::prop_assert_eq!(route.tenant.as_str(), name);
            }
        }
    }

    #[test]
    fn routes_through_the_connection_listing_the_domain() {
        let set = Set(vec![
            (t("acme"), conn("acme-eu", true, &["acme.eu"])),
            (t("acme"), conn("acme-us", true, &["ACME.com"])),
        ]);
        let domains = verified(&[("acme", "acme.com")]);
        assert_eq!(
            discover_by_email("Jane@Acme.COM.", &domains, &set)
                .unwrap()
                .connection
                .id,
            "acme-us"
        );
    }
}
