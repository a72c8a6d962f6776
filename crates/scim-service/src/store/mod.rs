//! Storage behind the SCIM handler.
//!
//! A [`Store`] hands out [`Transaction`]s, one per SCIM request (one per bulk request). The
//! handler reads and writes only through the transaction and calls
//! [`Transaction::commit`] when the whole request succeeded; a transaction dropped without
//! `commit` changes nothing. That is how "a failed request changes nothing" is kept for
//! PATCH, PUT, DELETE (which also edits every group the user was in) and bulk requests with
//! `failOnErrors`.
//!
//! Every transaction belongs to one [`TenantId`]: a store must never return or change a
//! resource of another tenant, whatever ids or filters the handler passes.
//!
//! Stores keep resources as JSON documents exactly as the handler gives them (with `id`
//! and `meta`). A user's `groups` attribute is *not* stored: it is derived from group
//! `members` when a user is read ([`Transaction::memberships`]).
//!
//! Two implementations ship with the crate: [`MemoryStore`] (tests, examples) and, with the
//! default `sqlite` feature, `SqliteStore` (the embedded default, with filter push-down).

mod memory;
pub mod pushdown;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use fedkit_scim::filter::Filter;
use serde_json::Value;

use crate::auth::TenantId;

pub use memory::MemoryStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// The resource types the service stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ResourceKind {
    /// `urn:ietf:params:scim:schemas:core:2.0:User`, endpoint `/Users`.
    User,
    /// `urn:ietf:params:scim:schemas:core:2.0:Group`, endpoint `/Groups`.
    Group,
}

impl ResourceKind {
    /// The resource type name (`User`, `Group`), as in `meta.resourceType`.
    pub fn name(self) -> &'static str {
        match self {
            ResourceKind::User => "User",
            ResourceKind::Group => "Group",
        }
    }

    /// The endpoint, without a leading slash (`Users`, `Groups`).
    pub fn endpoint(self) -> &'static str {
        match self {
            ResourceKind::User => "Users",
            ResourceKind::Group => "Groups",
        }
    }

    /// Both kinds.
    pub const ALL: [ResourceKind; 2] = [ResourceKind::User, ResourceKind::Group];
}

/// One member of one group, as [`Transaction::memberships`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The member's id (a user or a group).
    pub member_id: String,
    /// The group's id.
    pub group_id: String,
    /// The group's `displayName`, if it has one.
    pub group_display: Option<String>,
}

/// Why a store operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// An insert whose id already exists for this tenant and kind.
    #[error("a {kind} with id {id:?} already exists")]
    DuplicateId {
        /// The resource type name.
        kind: &'static str,
        /// The id.
        id: String,
    },
    /// A unique attribute the store enforces (e.g. `userName`, compared case-insensitively)
    /// already has this value in another resource of the tenant.
    #[error("another {kind} already has {attribute} {value:?}")]
    Conflict {
        /// The resource type name.
        kind: &'static str,
        /// The attribute, e.g. `userName`.
        attribute: &'static str,
        /// The value that clashed.
        value: String,
    },
    /// An update of a resource that does not exist.
    #[error("no {kind} with id {id:?}")]
    NotFound {
        /// The resource type name.
        kind: &'static str,
        /// The id.
        id: String,
    },
    /// A resource given to the store is not a JSON object with a string `id`.
    #[error("the store was given a resource without a string id")]
    MalformedResource,
    /// The store is busy (e.g. SQLite's lock could not be taken in time). Worth a retry.
    #[error("the store is busy: {detail}")]
    Busy {
        /// What was busy.
        detail: String,
    },
    /// The backing storage failed (I/O, corruption, a driver error).
    #[error("storage failure: {detail}")]
    Backend {
        /// The driver's message.
        detail: String,
    },
}

/// A source of transactions, shared by every request (hence `Send + Sync`).
pub trait Store: Send + Sync {
    /// Starts a transaction over `tenant`'s data. Writes become visible to other
    /// transactions only on [`Transaction::commit`]; dropping the transaction discards them.
    fn begin(&self, tenant: &TenantId) -> Result<Box<dyn Transaction + '_>, StoreError>;

    /// Starts a transaction the handler only reads through (GET, list, `.search`). A store
    /// may serve it from a consistent snapshot, concurrently with writers, and refuse writes
    /// in it; the default is [`Store::begin`].
    fn begin_read(&self, tenant: &TenantId) -> Result<Box<dyn Transaction + '_>, StoreError> {
        self.begin(tenant)
    }
}

/// One unit of work over one tenant's resources. See the [module docs](self).
pub trait Transaction {
    /// The resource with this id, or `None`.
    fn get(&mut self, kind: ResourceKind, id: &str) -> Result<Option<Value>, StoreError>;

    /// Every resource of `kind` that *may* match `filter` (all of them when `filter` is
    /// `None`): a superset of the matches, in a stable order (by creation). The handler
    /// evaluates the filter exactly afterwards, so a store may push down what its indexes
    /// answer and return more for the rest; it must never leave out a match.
    fn find(&mut self, kind: ResourceKind, filter: Option<&Filter>) -> Result<Vec<Value>, StoreError>;

    /// Stores a new resource (a JSON object with a string `id`).
    /// [`StoreError::DuplicateId`] when the id exists, [`StoreError::Conflict`] when a
    /// unique attribute the store enforces clashes.
    fn insert(&mut self, kind: ResourceKind, resource: &Value) -> Result<(), StoreError>;

    /// Replaces the stored resource with the same `id`. [`StoreError::NotFound`] when there
    /// is none.
    fn update(&mut self, kind: ResourceKind, resource: &Value) -> Result<(), StoreError>;

    /// Deletes the resource; `false` when there was none. Does not touch groups that list
    /// it as a member: the handler does that explicitly, in the same transaction.
    fn delete(&mut self, kind: ResourceKind, id: &str) -> Result<bool, StoreError>;

    /// The groups each of `member_ids` is a direct member of (from the stored groups'
    /// `members[].value`), in any order.
    fn memberships(&mut self, member_ids: &[&str]) -> Result<Vec<Membership>, StoreError>;

    /// Makes every write of this transaction durable and visible.
    fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

/// The `id` of a stored resource.
pub(crate) fn id_of(resource: &Value) -> Result<&str, StoreError> {
    resource
        .get("id")
        .and_then(Value::as_str)
        .ok_or(StoreError::MalformedResource)
}

/// The `value`s of a group's `members` (any case of the attribute names).
pub fn member_ids(group: &Value) -> Vec<&str> {
    let Some(obj) = group.as_object() else {
        return Vec::new();
    };
    let Some(Value::Array(members)) = fedkit_scim::resource::get_attr(obj, "members") else {
        return Vec::new();
    };
    members
        .iter()
        .filter_map(|m| {
            m.as_object()
                .and_then(|m| fedkit_scim::resource::get_attr(m, "value"))
        })
        .filter_map(Value::as_str)
        .collect()
}

/// The `userName` of a user, lowercased (the store-enforced unique key).
pub fn user_name_key(user: &Value) -> Option<String> {
    user.as_object()
        .and_then(|o| fedkit_scim::resource::get_attr(o, "userName"))
        .and_then(Value::as_str)
        .map(str::to_lowercase)
}

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
