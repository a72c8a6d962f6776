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
use fedkit_scim::settings::SettingsError;

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
///
/// Numbers are checked when set ([`SettingsError`], code `out_of_range`), so no setting
/// makes a later request misbehave or panic:
///
/// ```
/// use fedkit_scim_service::ScimSettings;
/// let settings = ScimSettings::default().with_max_body_bytes(64 * 1024)?.with_bulk(false);
/// assert_eq!(settings.max_body_bytes(), 64 * 1024);
/// assert_eq!(ScimSettings::default().with_max_body_bytes(0).unwrap_err().code(), "out_of_range");
/// # Ok::<(), fedkit_scim_service::SettingsError>(())
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct ScimSettings {
    patch: PatchOptions,
    validation: ValidationOptions,
    list: ListLimits,
    filter: FilterLimits,
    bulk: BulkLimits,
    bulk_enabled: bool,
    max_body_bytes: usize,
    unique_group_display_name: bool,
    check_members_exist: bool,
    max_inline_members: usize,
    user_deletion: Option<UserDeletionPolicy>,
    me: Option<MeResolver>,
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

    /// Sets the validation options of POST and PUT bodies (default: undefined unused
    /// `schemas` entries ignored, booleans as strings accepted).
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

    /// Sets the most members a group returned by a read or a write carries inline (default
    /// 10 000, at least 1). A larger group is returned without `members`, and a request that
    /// names `members` in `attributes` is refused with 400 `tooMany`; clients page the
    /// members of such a group with `GET /Users?filter=groups.value eq "{id}"&startIndex=…&count=…`
    /// (see docs/scim.md, "Large groups").
    pub fn with_max_inline_members(mut self, max: usize) -> Result<Self, SettingsError> {
        self.max_inline_members =
            SettingsError::check_range("ScimSettings::max_inline_members", max, 1, usize::MAX)?;
        Ok(self)
    }

    /// Sets the PATCH parsing and tolerance options (default:
    /// [`PatchOptions::idp_compatible`]; e.g. [`PatchOptions::strict`]).
    #[must_use]
    pub fn with_patch_options(mut self, options: PatchOptions) -> Self {
        self.patch = options;
        self
    }

    /// Sets the page sizes (`filter.maxResults` in `/ServiceProviderConfig`).
    #[must_use]
    pub fn with_list_limits(mut self, limits: ListLimits) -> Self {
        self.list = limits;
        self
    }

    /// Sets the filter length, depth and term limits.
    #[must_use]
    pub fn with_filter_limits(mut self, limits: FilterLimits) -> Self {
        self.filter = limits;
        self
    }

    /// Sets the bulk limits (`bulk.maxOperations`, `bulk.maxPayloadSize`); beyond them → 413.
    #[must_use]
    pub fn with_bulk_limits(mut self, limits: BulkLimits) -> Self {
        self.bulk = limits;
        self
    }

    /// Turns `/Bulk` on or off (default on).
    #[must_use]
    pub fn with_bulk(mut self, enabled: bool) -> Self {
        self.bulk_enabled = enabled;
        self
    }

    /// Sets the largest body of any request other than `/Bulk`, in bytes (default 1 MiB, at
    /// least 1); beyond → 413.
    pub fn with_max_body_bytes(mut self, max: usize) -> Result<Self, SettingsError> {
        self.max_body_bytes = SettingsError::check_range("ScimSettings::max_body_bytes", max, 1, usize::MAX)?;
        Ok(self)
    }

    /// Requires Group `displayName` to be unique per tenant, case-insensitively (409
    /// `uniqueness` otherwise). Default off: RFC 7643 makes it non-unique, but some hosts map
    /// groups to teams by name and want a 409 instead of a duplicate.
    #[must_use]
    pub fn with_unique_group_display_name(mut self, on: bool) -> Self {
        self.unique_group_display_name = on;
        self
    }

    /// Whether members of a group must be existing users or groups of the tenant (default
    /// on: a typo in a member id is a 400 `invalidValue`, not a dangling reference).
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

    /// See [`ScimSettings::with_patch_options`].
    pub fn patch_options(&self) -> &PatchOptions {
        &self.patch
    }

    /// See [`ScimSettings::with_validation_options`].
    pub fn validation_options(&self) -> &ValidationOptions {
        &self.validation
    }

    /// See [`ScimSettings::with_list_limits`].
    pub fn list_limits(&self) -> &ListLimits {
        &self.list
    }

    /// See [`ScimSettings::with_filter_limits`].
    pub fn filter_limits(&self) -> &FilterLimits {
        &self.filter
    }

    /// See [`ScimSettings::with_bulk_limits`].
    pub fn bulk_limits(&self) -> &BulkLimits {
        &self.bulk
    }

    /// See [`ScimSettings::with_bulk`].
    pub fn bulk_enabled(&self) -> bool {
        self.bulk_enabled
    }

    /// See [`ScimSettings::with_max_body_bytes`].
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// The body cap the host's server must enforce before it reads a body: the larger of
    /// [`ScimSettings::max_body_bytes`] and, when `/Bulk` is on, the Bulk
    /// `max_payload_size`. The service checks each limit itself, but only on a body already
    /// in memory; a larger body should be refused (413) while it is being received.
    ///
    /// ```
    /// use fedkit_scim::bulk::BulkLimits;
    /// use fedkit_scim_service::ScimSettings;
    /// let settings = ScimSettings::default()
    ///     .with_max_body_bytes(100_000)?
    ///     .with_bulk_limits(BulkLimits::default().with_max_payload_size(4_000_000)?);
    /// assert_eq!(settings.max_request_bytes(), 4_000_000);
    /// assert_eq!(settings.with_bulk(false).max_request_bytes(), 100_000);
    /// # Ok::<(), fedkit_scim_service::SettingsError>(())
    /// ```
    pub fn max_request_bytes(&self) -> usize {
        if self.bulk_enabled {
            self.max_body_bytes.max(self.bulk.max_payload_size())
        } else {
            self.max_body_bytes
        }
    }

    /// See [`ScimSettings::with_unique_group_display_name`].
    pub fn unique_group_display_name(&self) -> bool {
        self.unique_group_display_name
    }

    /// See [`ScimSettings::with_member_check`].
    pub fn member_check(&self) -> bool {
        self.check_members_exist
    }

    /// See [`ScimSettings::with_max_inline_members`].
    pub fn max_inline_members(&self) -> usize {
        self.max_inline_members
    }

    /// The policy set by [`ScimSettings::with_user_deletion`], if any.
    pub(crate) fn user_deletion(&self) -> Option<&UserDeletionPolicy> {
        self.user_deletion.as_ref()
    }

    /// The resolver set by [`ScimSettings::with_me`], if any.
    pub(crate) fn me(&self) -> Option<&MeResolver> {
        self.me.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_body_bytes_is_at_least_one() {
        assert_eq!(
            ScimSettings::default()
                .with_max_body_bytes(1)
                .unwrap()
                .max_body_bytes(),
            1
        );
        let err = ScimSettings::default().with_max_body_bytes(0).unwrap_err();
        assert_eq!(err.code(), "out_of_range");
        assert_eq!(
            err,
            SettingsError::OutOfRange {
                field: "ScimSettings::max_body_bytes",
                value: 0,
                min: 1,
                max: usize::MAX
            }
        );
    }

    #[test]
    fn max_inline_members_is_at_least_one() {
        let settings = ScimSettings::default().with_max_inline_members(1).unwrap();
        assert_eq!(settings.max_inline_members(), 1);
        let err = ScimSettings::default().with_max_inline_members(0).unwrap_err();
        assert_eq!(err.code(), "out_of_range");
        assert!(
            err.to_string().contains("ScimSettings::max_inline_members"),
            "{err}"
        );
    }

    #[test]
    fn max_request_bytes_is_the_larger_cap_bulk_counting_only_when_on() {
        let small_bulk = BulkLimits::default().with_max_payload_size(10).unwrap();
        let settings = ScimSettings::default()
            .with_max_body_bytes(500)
            .unwrap()
            .with_bulk_limits(small_bulk);
        assert_eq!(settings.max_request_bytes(), 500);
        let big_bulk = BulkLimits::default().with_max_payload_size(5_000).unwrap();
        let settings = settings.with_bulk_limits(big_bulk);
        assert_eq!(settings.max_request_bytes(), 5_000);
        assert_eq!(settings.with_bulk(false).max_request_bytes(), 500);
    }

    #[test]
    #[allow(deprecated)]
    fn the_old_names_still_name_the_new_types() {
        let settings: crate::ServiceConfig = crate::ServiceConfig::strict();
        assert!(settings.patch_options().require_remove_target());
        let request = crate::Request {
            method: "GET",
            path: "/Users",
            query: "",
            headers: &[("Accept", "application/scim+json")],
            body: b"",
        };
        let renamed: &crate::ScimRequest<'_> = &request;
        assert_eq!(renamed.header("accept"), Some("application/scim+json"));
        let response: crate::Response = crate::error_response(&fedkit_scim::error::ScimError::not_found("x"));
        assert_eq!(response.status, 404);
    }

    #[test]
    fn getters_return_what_was_set() {
        let settings = ScimSettings::strict()
            .with_unique_group_display_name(true)
            .with_member_check(false)
            .with_filter_limits(FilterLimits::default().with_max_terms(3).unwrap())
            .with_list_limits(ListLimits::default().with_max_results(7).unwrap());
        assert!(settings.unique_group_display_name());
        assert!(!settings.member_check());
        assert_eq!(settings.filter_limits().max_terms(), 3);
        assert_eq!(settings.list_limits().max_results(), 7);
        assert!(settings.patch_options().require_remove_target());
        assert!(!settings.validation_options().boolean_strings());
    }
}
