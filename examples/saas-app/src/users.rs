//! The app's users are the SCIM store's users: a login looks the user up through the same
//! [`ScimService`] the IdP provisions through, so a user deactivated over SCIM cannot log in.

use fedkit_scim_service::auth::TenantId;
use fedkit_scim_service::{RequestContext, ScimRequest, ScimService, UserKey, UserStatus};
use serde_json::Value;

/// Who may log in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provisioning {
    /// Just-in-time: a verified login of an unknown user creates the user.
    Jit,
    /// Only users already in the store (added by an admin, or over SCIM) may log in.
    InviteOnly,
    /// Users come from the IdP over SCIM; only users already in the store may log in.
    Scim,
}

impl std::str::FromStr for Provisioning {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "jit" => Ok(Self::Jit),
            "invite-only" => Ok(Self::InviteOnly),
            "scim" => Ok(Self::Scim),
            other => Err(format!(
                "unknown provisioning mode {other:?}; use jit, invite-only or scim"
            )),
        }
    }
}

impl std::fmt::Display for Provisioning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Jit => "jit",
            Self::InviteOnly => "invite-only",
            Self::Scim => "scim",
        })
    }
}

/// Why a verified login is still refused by the app's policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The user exists with `active: false` (deactivated in the IdP, pushed over SCIM).
    Deactivated { email: String },
    /// The user is not in the store and the mode does not create users.
    NotProvisioned { email: String, mode: Provisioning },
    /// The store failed.
    Store { detail: String },
}

impl Refusal {
    pub(crate) fn code(&self) -> &'static str {
        match self {
            Self::Deactivated { .. } => "user_deactivated",
            Self::NotProvisioned { .. } => "user_not_provisioned",
            Self::Store { .. } => "user_store_failed",
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Deactivated { email } => write!(
                f,
                "the user {email} is deactivated in this application (active is false in its SCIM record); \
                 the IdP signed the login, but the account was disabled — reactivate the user in the IdP \
                 (or remove and re-add the user to the application) and let SCIM push the change"
            ),
            Self::NotProvisioned { email, mode } => write!(
                f,
                "the user {email} has no account in this application, and it runs with provisioning mode \
                 {mode} (unknown users are not created at login); provision the user over SCIM from the IdP \
                 or start the app with --provisioning jit"
            ),
            Self::Store { detail } => write!(f, "the user store failed: {detail}"),
        }
    }
}

/// The user record a login ends up with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AppUser {
    /// The SCIM `id`.
    pub(crate) id: String,
    /// Whether the user was created by this login (JIT).
    pub(crate) created: bool,
}

/// The app's view of the SCIM store.
pub(crate) struct Directory {
    pub(crate) service: std::sync::Arc<ScimService>,
    pub(crate) tenant: TenantId,
    /// The public URL of `/scim/v2`.
    pub(crate) base_url: String,
}

impl Directory {
    fn call(&self, method: &str, path: &str, query: &str, body: &[u8]) -> (u16, Value) {
        let ctx = RequestContext {
            tenant: &self.tenant,
            base_url: &self.base_url,
            now: chrono::Utc::now(),
        };
        let headers = [("Content-Type", "application/scim+json")];
        let response = self.service.handle(
            &ctx,
            &ScimRequest {
                method,
                path,
                query,
                headers: &headers,
                body,
            },
        );
        let value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        (response.status, value)
    }

    /// The user whose `userName` is `email` (case-insensitively), read from the store
    /// through its `userName` index (no SCIM request is made up).
    fn find(&self, email: &str) -> Result<Option<UserStatus>, Refusal> {
        self.service
            .user_status(&self.tenant, UserKey::UserName(email))
            .map_err(|e| Refusal::Store {
                detail: format!("user lookup failed ({}): {e}", e.code()),
            })
    }

    /// Applies the login policy to a verified email: the user must exist and be active, or is
    /// created in JIT mode.
    pub(crate) fn admit(
        &self,
        email: &str,
        first_name: Option<&str>,
        last_name: Option<&str>,
        mode: Provisioning,
    ) -> Result<AppUser, Refusal> {
        if let Some(user) = self.find(email)? {
            // RFC 7643 §4.1.1: `active` absent means the service has no opinion; only an explicit
            // false blocks the login (`UserStatus::active` is false only then).
            if !user.active {
                return Err(Refusal::Deactivated {
                    email: email.to_owned(),
                });
            }
            return Ok(AppUser {
                id: user.id,
                created: false,
            });
        }
        if mode != Provisioning::Jit {
            return Err(Refusal::NotProvisioned {
                email: email.to_owned(),
                mode,
            });
        }
        let mut name = serde_json::Map::new();
        if let Some(given) = first_name {
            name.insert("givenName".into(), given.into());
        }
        if let Some(family) = last_name {
            name.insert("familyName".into(), family.into());
        }
        let user = serde_json::json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": email,
            "name": name,
            "emails": [{"value": email, "primary": true}],
            "active": true,
        });
        let (status, body) = self.call("POST", "/Users", "", user.to_string().as_bytes());
        match status {
            201 => Ok(AppUser {
                id: body
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                created: true,
            }),
            // Created meanwhile by another login or by SCIM: use that record (and its `active`).
            409 => self.admit(email, first_name, last_name, Provisioning::InviteOnly),
            _ => Err(Refusal::Store {
                detail: format!("creating the user answered {status}: {body}"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn directory() -> Directory {
        Directory {
            service: Arc::new(ScimService::new(
                Arc::new(fedkit_scim_service::store::MemoryStore::new()),
                Arc::new(fedkit_scim_service::ids::RandomIds::new()),
            )),
            tenant: TenantId::new("default").unwrap_or_else(|_| unreachable!()),
            base_url: "http://localhost:3000/scim/v2".to_owned(),
        }
    }

    #[test]
    fn invite_only_refuses_unknown_users_and_jit_creates_them_once() {
        let d = directory();
        assert_eq!(
            d.admit("ada@example.com", None, None, Provisioning::InviteOnly),
            Err(Refusal::NotProvisioned {
                email: "ada@example.com".into(),
                mode: Provisioning::InviteOnly
            })
        );
        let created = d.admit("ada@example.com", Some("Ada"), None, Provisioning::Jit);
        assert!(created.as_ref().is_ok_and(|u| u.created), "{created:?}");
        let again = d.admit("ADA@example.com", None, None, Provisioning::InviteOnly);
        assert_eq!(again.map(|u| u.created), Ok(false));
    }

    #[test]
    fn a_deactivated_user_is_refused_even_in_jit_mode() {
        let d = directory();
        let body = br#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bob@example.com","active":false}"#;
        assert_eq!(d.call("POST", "/Users", "", body).0, 201);
        assert_eq!(
            d.admit("bob@example.com", None, None, Provisioning::Jit),
            Err(Refusal::Deactivated {
                email: "bob@example.com".into()
            })
        );
    }

    #[test]
    fn a_quote_in_an_email_cannot_change_the_filter() {
        let d = directory();
        assert!(d.admit("bob@example.com", None, None, Provisioning::Jit).is_ok());
        // Injected, `userName pr` would match bob.
        let result = d.admit(r#"x" or userName pr or "a"#, None, None, Provisioning::Scim);
        assert!(
            matches!(result, Err(Refusal::NotProvisioned { .. })),
            "{result:?}"
        );
    }

    #[test]
    fn provisioning_modes_parse_and_display() {
        for mode in ["jit", "invite-only", "scim"] {
            assert_eq!(
                mode.parse::<Provisioning>().map(|m| m.to_string()),
                Ok(mode.to_owned())
            );
        }
        assert!("open".parse::<Provisioning>().is_err());
    }
}
