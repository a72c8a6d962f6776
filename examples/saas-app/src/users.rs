//! The app's SSO users are the SCIM store's users: admission (fedkit-tenancy) looks them up
//! through the same [`ScimService`] the IdP provisions through, so a user deactivated over SCIM
//! cannot log in; a JIT login creates the user there.

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

    /// The user with this SCIM `id`, read through its `userName` (`None` when deleted).
    pub(crate) fn by_id(&self, id: &str) -> Result<Option<UserStatus>, String> {
        let (status, body) = self.call("GET", &format!("/Users/{id}"), "", b"");
        let user_name = match (status, body.get("userName").and_then(Value::as_str)) {
            (200, Some(name)) => name.to_owned(),
            (404, _) => return Ok(None),
            _ => return Err(format!("reading user {id} answered {status}: {body}")),
        };
        self.service
            .user_status(&self.tenant, UserKey::UserName(&user_name))
            .map_err(|e| format!("user lookup failed ({}): {e}", e.code()))
    }

    /// Creates the user a JIT login admitted (active, with the names that arrived); returns
    /// its SCIM `id`. A user created meanwhile (by SCIM, or a concurrent login) is that
    /// user, if active.
    pub(crate) fn create(
        &self,
        email: &str,
        first_name: Option<&str>,
        last_name: Option<&str>,
    ) -> Result<String, String> {
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
        match (status, body.get("id").and_then(Value::as_str)) {
            (201, Some(id)) => Ok(id.to_owned()),
            (409, _) => match self.service.user_status(&self.tenant, UserKey::UserName(email)) {
                Ok(Some(user)) if user.active => Ok(user.id),
                Ok(_) => Err(format!(
                    "the user {email} was created meanwhile, and is not active"
                )),
                Err(e) => Err(format!("user lookup failed ({}): {e}", e.code())),
            },
            _ => Err(format!("creating the user answered {status}: {body}")),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
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
    fn created_users_are_found_by_id_and_a_second_creation_is_the_same_user() {
        let d = directory();
        let id = d.create("ada@example.com", Some("Ada"), None).unwrap();
        let found = d.by_id(&id).unwrap().unwrap();
        assert_eq!(found.user_name, "ada@example.com");
        assert!(found.active);
        assert_eq!(d.create("ADA@example.com", None, None), Ok(id));
        assert_eq!(d.by_id("no-such-id"), Ok(None));
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
