//! Service configuration.

use std::fmt;
use std::sync::Arc;

use fedkit_scim::bulk::BulkLimits;
use fedkit_scim::filter::FilterLimits;
use fedkit_scim::list::ListLimits;
use fedkit_scim::patch::PatchOptions;
use fedkit_scim::resource::{UndefinedSchemas, ValidationOptions};
use serde_json::Value;

use super::{RequestContext, ScimRequest};
use crate::auth::TenantId;

/// What a DELETE of a user does (see [`ScimSettings::with_user_deletion`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeleteAction {
    /// Delete the user and remove it from every group.
    Delete,
    /// Keep the user and set `active` to false (CRA Evidence's "Allow deletion: Disabled").
    /// The IdP still gets 204; a later GET shows the user, inactive.
    Deactivate,
}

/// Decides what a DELETE of a user does: gets the tenant and the stored user.
pub type UserDeletionPolicy = Arc<dyn Fn(&TenantId, &Value) -> DeleteAction + Send + Sync>;

/// Resolves `/Me` (RFC 7644 §3.11) to a user id, from the request (e.g. its token). `None`
/// answers 404.
pub type MeResolver = Arc<dyn Fn(&RequestContext<'_>, &ScimRequest<'_>) -> Option<String> + Send + Sync>;

/// The default of [`ScimSettings::max_inline_members`].
pub const DEFAULT_MAX_INLINE_MEMBERS: usize = 10_000;

/// How the service behaves. The defaults — the "IdP-compatible" profile — suit JumpCloud,
/// Okta and Entra ID; [`ScimSettings::strict`] reads RFC 7643/7644 literally.
///
/// | | default (IdP-compatible) | [`strict`](ScimSettings::strict) |
/// |---|---|---|
/// | PATCH | [`PatchOptions::idp_compatible`]: real-client tolerances, and a `replace` whose value filter matches nothing creates the value (Entra ID, JumpCloud) | [`PatchOptions::strict`]: `noTarget` (RFC 7644 §3.5.2.3) |
/// | `schemas` entry the service does not define, used by no attribute | ignored, reported as [`Event::SchemaIgnored`](crate::events::Event::SchemaIgnored) (Entra ID's ADSCIM Group URN) | refused, 400 `invalidValue` |
///
/// In both, a PATCH `add` whose filter matches nothing adds the value (RFC 7644 §3.5.2.1), and
/// attributes under an undefined URN are refused.
#[derive(Clone)]
#[non_exhaustive]
pub struct ScimSettings {
    /// PATCH parsing and tolerance options (default: [`PatchOptions::idp_compatible`]).
    pub patch: PatchOptions,
    /// Resource validation options for POST and PUT bodies (default: undefined unused
    /// `schemas` entries ignored, booleans as strings accepted).
    pub validation: ValidationOptions,
    /// Page sizes (`filter.maxResults` in `/ServiceProviderConfig`).
    pub list: ListLimits,
    /// Filter length/depth limits.
    pub filter: FilterLimits,
    /// Bulk limits (`bulk.maxOperations`, `bulk.maxPayloadSize`); beyond them → 413.
    pub bulk: BulkLimits,
    /// Whether `/Bulk` is offered (default true).
    pub bulk_enabled: bool,
    /// The largest body of any other request, in bytes (default 1 MiB); beyond → 413.
    pub max_body_bytes: usize,
    /// Whether Group `displayName` must be unique in a tenant, case-insensitively
    /// (default false: RFC 7643 makes it non-unique, but some hosts map groups to teams by
    /// name and want a 409 instead of a duplicate).
    pub unique_group_display_name: bool,
    /// Whether members of a group must be existing users or groups of the tenant (default
    /// true: a typo in a member id is a 400 `invalidValue`, not a dangling reference).
    pub check_members_exist: bool,
    /// The most members a group returned by a read or a write carries inline (default
    /// 10 000). A larger group is returned without `members`, and a request that names
    /// `members` in `attributes` is refused with 400 `tooMany`; clients page the members of
    /// such a group with `GET /Users?filter=groups.value eq "{id}"&startIndex=…&count=…`
    /// (see docs/scim.md, "Large groups").
    pub max_inline_members: usize,
    pub(crate) user_deletion: Option<UserDeletionPolicy>,
    pub(crate) me: Option<MeResolver>,
}

impl fmt::Debug for ScimSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScimSettings")
            .field("patch", &self.patch)
            .field("validation", &self.validation)
            .field("list", &self.list)
            .field("filter", &self.filter)
            .field("bulk", &self.bulk)
            .field("bulk_enabled", &self.bulk_enabled)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("unique_group_display_name", &self.unique_group_display_name)
            .field("check_members_exist", &self.check_members_exist)
            .field("max_inline_members", &self.max_inline_members)
            .field("user_deletion", &self.user_deletion.as_ref().map(|_| "custom"))
            .field("me", &self.me.as_ref().map(|_| "custom"))
            .finish()
    }
}

impl Default for ScimSettings {
    fn default() -> Self {
        Self {
            patch: PatchOptions::idp_compatible(),
            validation: ValidationOptions::default(),
            list: ListLimits::default(),
            filter: FilterLimits::default(),
            bulk: BulkLimits::default(),
            bulk_enabled: true,
            max_body_bytes: 1024 * 1024,
            unique_group_display_name: false,
            check_members_exist: true,
            max_inline_members: DEFAULT_MAX_INLINE_MEMBERS,
            user_deletion: None,
            me: None,
        }
    }
}

impl ScimSettings {
    /// RFC 7643/7644 read literally: [`PatchOptions::strict`], every undefined `schemas`
    /// entry refused, booleans only as JSON booleans. Other settings as in the default.
    pub fn strict() -> Self {
        Self::default()
            .with_patch_options(PatchOptions::strict())
            .with_validation_options(
                ValidationOptions::default()
                    .with_undefined_schemas(UndefinedSchemas::Reject)
                    .with_boolean_strings(false),
            )
    }

    /// Sets the validation options of POST and PUT bodies.
    #[must_use]
    pub fn with_validation_options(mut self, options: ValidationOptions) -> Self {
        self.validation = options;
        self
    }

    /// Sets what to do with undefined URNs listed in `schemas` (default
    /// [`UndefinedSchemas::IgnoreUnused`]).
    #[must_use]
    pub fn with_undefined_schemas(mut self, policy: UndefinedSchemas) -> Self {
        self.validation = self.validation.with_undefined_schemas(policy);
        self
    }

    /// Sets [`ScimSettings::max_inline_members`].
    #[must_use]
    pub fn with_max_inline_members(mut self, max: usize) -> Self {
        self.max_inline_members = max;
        self
    }

    /// Sets the PATCH options (e.g. [`PatchOptions::strict`], or the Entra ID
    /// create-on-unmatched-filter option).
    #[must_use]
    pub fn with_patch_options(mut self, options: PatchOptions) -> Self {
        self.patch = options;
        self
    }

    /// Sets the page sizes.
    #[must_use]
    pub fn with_list_limits(mut self, limits: ListLimits) -> Self {
        self.list = limits;
        self
    }

    /// Sets the bulk limits.
    #[must_use]
    pub fn with_bulk_limits(mut self, limits: BulkLimits) -> Self {
        self.bulk = limits;
        self
    }

    /// Turns `/Bulk` on or off.
    #[must_use]
    pub fn with_bulk(mut self, enabled: bool) -> Self {
        self.bulk_enabled = enabled;
        self
    }

    /// Sets the largest accepted body (other than bulk requests).
    #[must_use]
    pub fn with_max_body_bytes(mut self, max: usize) -> Self {
        self.max_body_bytes = max;
        self
    }

    /// Requires Group `displayName` to be unique per tenant (409 `uniqueness` otherwise).
    #[must_use]
    pub fn with_unique_group_display_name(mut self, on: bool) -> Self {
        self.unique_group_display_name = on;
        self
    }

    /// Whether group members must exist in the tenant.
    #[must_use]
    pub fn with_member_check(mut self, on: bool) -> Self {
        self.check_members_exist = on;
        self
    }

    /// Decides what DELETE of a user does. `|_, _| DeleteAction::Deactivate` keeps every
    /// user (deactivated) when the IdP deletes it.
    #[must_use]
    pub fn with_user_deletion(
        mut self,
        policy: impl Fn(&TenantId, &Value) -> DeleteAction + Send + Sync + 'static,
    ) -> Self {
        self.user_deletion = Some(Arc::new(policy));
        self
    }

    /// Answers `/Me` for the user the resolver names (otherwise `/Me` is 501).
    #[must_use]
    pub fn with_me(
        mut self,
        resolver: impl Fn(&RequestContext<'_>, &ScimRequest<'_>) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.me = Some(Arc::new(resolver));
        self
    }
}
