//! The login path's directory lookup: refuse SSO for a user SCIM deactivated (or never
//! provisioned), typed, without a made-up HTTP request.

use std::sync::Arc;

use axum::http::StatusCode;
use fedkit_saml::render::{Refusal, ASK_ADMIN, TRY_AGAIN_LATER};
use fedkit_saml::Login;
use fedkit_scim_service::auth::TenantId;
use fedkit_scim_service::{ScimService, UserKey, UserStatus, UserStatusError};

/// One tenant's SCIM directory, asked at login whether the user may come in.
#[derive(Debug, Clone)]
pub struct Directory {
    service: Arc<ScimService>,
    tenant: TenantId,
}

/// Why [`Directory::check`] refused a login.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DirectoryRefusal {
    /// No provisioned user has this userName/externalId.
    #[error("no user {key:?} is provisioned in this application's SCIM directory; the IdP signed the login, but the user was never provisioned (or was deleted): assign the user to the application in the IdP so that it is provisioned, or check which attribute the NameID carries")]
    NotProvisioned {
        /// The userName or externalId looked up.
        key: String,
    },
    /// The user is provisioned with `active` false.
    #[error("the user {user_name:?} (SCIM id {id}) is deactivated in this application's SCIM directory (active is false); the IdP signed the login, but the account was disabled: reactivate the user in the IdP if the login should work")]
    Deactivated {
        /// The user's userName.
        user_name: String,
        /// The user's SCIM id.
        id: String,
    },
    /// The lookup failed.
    #[error(transparent)]
    Lookup(#[from] UserStatusError),
}

impl DirectoryRefusal {
    /// A stable `snake_case` code: `user_not_provisioned`, `user_deactivated`, or the
    /// lookup's code.
    pub fn code(&self) -> &'static str {
        match self {
            DirectoryRefusal::NotProvisioned { .. } => "user_not_provisioned",
            DirectoryRefusal::Deactivated { .. } => "user_deactivated",
            DirectoryRefusal::Lookup(e) => e.code(),
        }
    }

    /// The HTTP status to refuse with: 403, or 503 when the store failed.
    pub fn status(&self) -> StatusCode {
        match self {
            DirectoryRefusal::Lookup(UserStatusError::Store(_)) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::FORBIDDEN,
        }
    }
}

impl Refusal for DirectoryRefusal {
    fn code(&self) -> &'static str {
        DirectoryRefusal::code(self)
    }

    fn user_message(&self) -> &'static str {
        match self {
            DirectoryRefusal::Lookup(UserStatusError::Store(_)) => TRY_AGAIN_LATER,
            _ => ASK_ADMIN,
        }
    }
}

impl Directory {
    /// The directory of `tenant` in `service`.
    pub fn new(service: Arc<ScimService>, tenant: TenantId) -> Self {
        Self { service, tenant }
    }

    /// The provisioned, active user with this userName or externalId, or why the login is
    /// refused. Blocking (it reads the store): call it where the store may block, e.g. in
    /// [`SamlHost::logged_in`](crate::SamlHost::logged_in), which runs off the runtime.
    pub fn check(&self, key: UserKey<'_>) -> Result<UserStatus, DirectoryRefusal> {
        let shown = match key {
            UserKey::UserName(v) | UserKey::ExternalId(v) => v.to_owned(),
            _ => String::new(),
        };
        match self.service.user_status(&self.tenant, key)? {
            None => Err(DirectoryRefusal::NotProvisioned { key: shown }),
            Some(user) if !user.active => Err(DirectoryRefusal::Deactivated {
                user_name: user.user_name,
                id: user.id,
            }),
            Some(user) => Ok(user),
        }
    }

    /// [`check`](Self::check) with the login's NameID as the userName (what IdPs that
    /// provision over SCIM usually send: JumpCloud, Okta and Entra ID use the email for
    /// both). Use [`check`](Self::check) with [`UserKey::ExternalId`] when the NameID is the
    /// IdP's own identifier.
    pub fn check_login(&self, login: &Login) -> Result<UserStatus, DirectoryRefusal> {
        self.check(UserKey::UserName(&login.assertion().name_id().value))
    }
}
