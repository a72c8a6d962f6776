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
//! One implementation ships with the crate, [`MemoryStore`] (tests, examples, small
//! deployments that keep nothing across restarts); the stores that do I/O live in adapter
//! crates: `fedkit_scim_sqlite::SqliteStore` (one embedded SQLite file, what `fedkit scim
//! serve` runs) and `fedkit_postgres::scim::PgStore` (several nodes sharing PostgreSQL).
//! Both pass the checks of `conformance::run` (feature `conformance`).

mod memory;
pub mod pushdown;

use fedkit_scim::filter::Filter;
use serde_json::Value;

use crate::auth::TenantId;

pub use memory::MemoryStore;

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

impl StoreError {
    /// A stable `snake_case` code for logs, metrics and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::DuplicateId { .. } => "duplicate_id",
            StoreError::Conflict { .. } => "conflict",
            StoreError::NotFound { .. } => "not_found",
            StoreError::MalformedResource => "malformed_resource",
            StoreError::Busy { .. } => "busy",
            StoreError::Backend { .. } => "backend",
        }
    }
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

    /// The resource without its `members` (a group's members stay in the store; a user is
    /// returned whole). A group stored with `members` keeps an empty `members` array here,
    /// so [`Transaction::update_attributes`] keeps its shape. Costs the same whatever the
    /// size of the group in the SQL stores; the default loads the whole group.
    fn get_attributes(&mut self, kind: ResourceKind, id: &str) -> Result<Option<Value>, StoreError> {
        Ok(self.get(kind, id)?.map(|mut r| {
            if kind == ResourceKind::Group {
                strip_members(&mut r);
            }
            r
        }))
    }

    /// [`Transaction::find`] without groups' `members` (the attribute absent): what the handler
    /// reads when neither the filter nor the sort needs members, so a query's memory follows
    /// the number of candidates, not the size of their groups.
    fn find_attributes(
        &mut self,
        kind: ResourceKind,
        filter: Option<&Filter>,
    ) -> Result<Vec<Value>, StoreError> {
        let mut all = self.find(kind, filter)?;
        if kind == ResourceKind::Group {
            all.iter_mut().for_each(drop_members);
        }
        Ok(all)
    }

    /// How many members (with a string `value`) the group has; `None` when there is no such
    /// group.
    fn member_count(&mut self, group_id: &str) -> Result<Option<usize>, StoreError> {
        Ok(self
            .get(ResourceKind::Group, group_id)?
            .map(|g| member_ids(&g).len()))
    }

    /// The group's stored members whose `value` is one of `values`, compared
    /// case-insensitively (more may come back; the caller compares exactly). Empty when
    /// there is no such group. The SQL stores read them through their index by member.
    fn members_named(&mut self, group_id: &str, values: &[&str]) -> Result<Vec<Value>, StoreError> {
        let wanted: std::collections::HashSet<String> = values.iter().map(|v| v.to_lowercase()).collect();
        let Some(group) = self.get(ResourceKind::Group, group_id)? else {
            return Ok(Vec::new());
        };
        Ok(match members_of(&group) {
            Some(Value::Array(list)) => list
                .into_iter()
                .filter(|m| member_value(m).is_some_and(|v| wanted.contains(&v.to_lowercase())))
                .collect(),
            _ => Vec::new(),
        })
    }

    /// Replaces the attributes of a stored resource, keeping a group's members as they are:
    /// entries of `members` in `resource` with a string `value` are ignored (the stored ones
    /// stay); entries without one are stored with the attributes, as [`Transaction::update`]
    /// would. [`StoreError::NotFound`] when there is none.
    fn update_attributes(&mut self, kind: ResourceKind, resource: &Value) -> Result<(), StoreError> {
        if kind != ResourceKind::Group {
            return self.update(kind, resource);
        }
        let id = id_of(resource)?;
        let Some(current) = self.get(kind, id)? else {
            return Err(StoreError::NotFound {
                kind: kind.name(),
                id: id.to_owned(),
            });
        };
        let listed = |group: &Value, with_value: bool| -> Vec<Value> {
            match members_of(group) {
                Some(Value::Array(list)) => list
                    .into_iter()
                    .filter(|m| member_value(m).is_some() == with_value)
                    .collect(),
                _ => Vec::new(),
            }
        };
        let mut members = listed(&current, true);
        members.extend(listed(resource, false));
        let had = members_of(&current).is_some() || members_of(resource).is_some();
        let mut merged = resource.clone();
        drop_members(&mut merged);
        if let (Some(obj), true) = (merged.as_object_mut(), had) {
            obj.insert("members".into(), Value::Array(members));
        }
        self.update(kind, &merged)
    }

    /// [`Transaction::get_attributes`] of several resources, in the order of `ids` (missing
    /// ones left out). The SQL stores read (and, in a write transaction, lock) them in one
    /// statement.
    fn get_attributes_many(&mut self, kind: ResourceKind, ids: &[&str]) -> Result<Vec<Value>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.extend(self.get_attributes(kind, id)?);
        }
        Ok(out)
    }

    /// [`Transaction::update_attributes`] of several resources. The SQL stores write them in
    /// one statement.
    fn update_attributes_many(&mut self, kind: ResourceKind, resources: &[Value]) -> Result<(), StoreError> {
        for r in resources {
            self.update_attributes(kind, r)?;
        }
        Ok(())
    }

    /// Adds members (objects with a string `value`, stored as given) to the group; a member
    /// whose `value` the group already has is left as it is. Returns the `value`s added.
    /// [`StoreError::NotFound`] when there is no such group. The SQL stores write one row per
    /// added member, whatever the size of the group.
    fn add_members(&mut self, group_id: &str, members: &[Value]) -> Result<Vec<String>, StoreError> {
        let Some(mut group) = self.get(ResourceKind::Group, group_id)? else {
            return Err(StoreError::NotFound {
                kind: "Group",
                id: group_id.to_owned(),
            });
        };
        let mut have: std::collections::HashSet<String> =
            member_ids(&group).into_iter().map(str::to_owned).collect();
        let mut added = Vec::new();
        let mut list = match members_of(&group) {
            Some(Value::Array(list)) => list,
            _ => Vec::new(),
        };
        for m in members {
            let Some(v) = member_value(m) else { continue };
            if have.insert(v.to_owned()) {
                added.push(v.to_owned());
                list.push(m.clone());
            }
        }
        if !added.is_empty() {
            strip_members(&mut group);
            if let Some(obj) = group.as_object_mut() {
                obj.insert("members".into(), Value::Array(list));
            }
            self.update(ResourceKind::Group, &group)?;
        }
        Ok(added)
    }

    /// Removes the members with these `value`s from the group. Returns the `value`s removed.
    /// [`StoreError::NotFound`] when there is no such group. The SQL stores delete one row
    /// per removed member, whatever the size of the group.
    fn remove_members(&mut self, group_id: &str, values: &[&str]) -> Result<Vec<String>, StoreError> {
        let Some(mut group) = self.get(ResourceKind::Group, group_id)? else {
            return Err(StoreError::NotFound {
                kind: "Group",
                id: group_id.to_owned(),
            });
        };
        let gone: std::collections::HashSet<&str> = values.iter().copied().collect();
        let mut removed = Vec::new();
        if let Some(Value::Array(list)) = members_of(&group) {
            let kept: Vec<Value> = list
                .into_iter()
                .filter(|m| match member_value(m) {
                    Some(v) if gone.contains(v) => {
                        removed.push(v.to_owned());
                        false
                    }
                    _ => true,
                })
                .collect();
            if !removed.is_empty() {
                strip_members(&mut group);
                if let Some(obj) = group.as_object_mut() {
                    obj.insert("members".into(), Value::Array(kept));
                }
                self.update(ResourceKind::Group, &group)?;
            }
        }
        Ok(removed)
    }

    /// Removes `member_id` from every group that lists it (as when a user is deleted) and
    /// returns those groups' ids, sorted. The SQL stores find them through their index by
    /// member and delete one row per group: the cost follows the member's memberships, not
    /// the size of the groups or of the directory.
    fn remove_from_all_groups(&mut self, member_id: &str) -> Result<Vec<String>, StoreError> {
        let mut groups: Vec<String> = self
            .memberships(&[member_id])?
            .into_iter()
            .map(|m| m.group_id)
            .collect();
        groups.sort();
        groups.dedup();
        for g in &groups {
            self.remove_members(g, &[member_id])?;
        }
        Ok(groups)
    }

    /// One page of the resources of `kind` that match `query.filter` **exactly**, sorted and
    /// counted in the store, or `None` when this store cannot answer the query exactly (then
    /// the handler falls back to [`Transaction::find`] and filters, sorts and pages itself).
    /// Groups come without members when `query.members` is false. The default answers only
    /// queries without filter and sort, through `find`.
    fn find_page(&mut self, kind: ResourceKind, query: &PageQuery<'_>) -> Result<Option<Page>, StoreError> {
        if query.filter.is_some() || query.sort.is_some() || query.member_of.is_some() {
            return Ok(None);
        }
        let all = self.find(kind, None)?;
        let total = all.len();
        let resources = all
            .into_iter()
            .skip(query.offset)
            .take(query.limit)
            .map(|mut r| {
                if kind == ResourceKind::Group && (!query.members || member_ids(&r).len() > query.member_cap)
                {
                    drop_members(&mut r);
                }
                r
            })
            .collect();
        Ok(Some(Page { total, resources }))
    }

    /// What [`Transaction::find`] (`members` true) or [`Transaction::find_attributes`]
    /// (`members` false) returns, one chunk at a time: the candidates after position `after`
    /// (`None`: from the first), at most `limit` of them unless the chunk is the last, and the
    /// position to go on from ([`Chunk::next`], `None` when there are no more). Positions are the store's own and
    /// follow creation order; the chunks of one read transaction together are exactly what
    /// `find` returns, in its order.
    ///
    /// The handler reads this way the lists whose filter [`Transaction::find_page`] cannot
    /// page exactly, evaluating the filter chunk by chunk and keeping only its page
    /// ([`fedkit_scim::list::PageWindow`]), so the memory of such a query follows the chunk
    /// and the page, not the directory. The SQL stores read one chunk per statement; the
    /// default returns every candidate in one chunk.
    fn find_chunk(
        &mut self,
        kind: ResourceKind,
        filter: Option<&Filter>,
        members: bool,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Chunk, StoreError> {
        let _ = limit;
        if after.is_some() {
            return Ok(Chunk::new(Vec::new(), None));
        }
        let all = if members {
            self.find(kind, filter)?
        } else {
            self.find_attributes(kind, filter)?
        };
        Ok(Chunk::new(all, None))
    }

    /// Makes every write of this transaction durable and visible.
    fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

/// An attribute a store can sort a page by ([`Transaction::find_page`]), compared as
/// [`fedkit_scim::list::sort_resources`] does: resources without a value last in both
/// directions, ties in creation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SortKey {
    /// A user's `userName`, compared lowercased.
    UserName,
}

/// What [`Transaction::find_chunk`] returns.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Chunk {
    /// The candidates, in creation order.
    pub resources: Vec<Value>,
    /// Where the next chunk starts (the `after` of the next call), `None` after the last.
    pub next: Option<u64>,
}

impl Chunk {
    /// A chunk.
    pub fn new(resources: Vec<Value>, next: Option<u64>) -> Self {
        Self { resources, next }
    }
}

/// What [`Transaction::find_page`] returns.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page {
    /// How many resources match in all (`totalResults`).
    pub total: usize,
    /// The page, in order.
    pub resources: Vec<Value>,
}

impl Page {
    /// A page.
    pub fn new(total: usize, resources: Vec<Value>) -> Self {
        Self { total, resources }
    }
}

/// A page query ([`Transaction::find_page`]).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct PageQuery<'a> {
    /// The filter the page must match exactly; `None` for every resource.
    pub filter: Option<&'a Filter>,
    /// Only users that are direct members of this group (`groups.value eq "…"`, an ASCII
    /// literal, compared ASCII-case-insensitively as the evaluator compares `groups.value`).
    pub member_of: Option<&'a str>,
    /// The order (`None`: creation order) and whether it is descending.
    pub sort: Option<(SortKey, bool)>,
    /// How many matches to skip (`startIndex - 1`).
    pub offset: usize,
    /// The most resources to return (`count`).
    pub limit: usize,
    /// Whether groups come with their members.
    pub members: bool,
    /// With `members`: a group with more members than this comes without `members` (the
    /// attribute absent), so a page never holds more than `limit × member_cap` members.
    pub member_cap: usize,
}

impl<'a> PageQuery<'a> {
    /// Every resource, in creation order, `limit` from `offset`, groups with members.
    pub fn new(offset: usize, limit: usize) -> Self {
        Self {
            filter: None,
            member_of: None,
            sort: None,
            offset,
            limit,
            members: true,
            member_cap: usize::MAX,
        }
    }
}

/// A member's `value`, when it is a string.
pub fn member_value(member: &Value) -> Option<&str> {
    member
        .as_object()
        .and_then(|m| fedkit_scim::resource::get_attr(m, "value"))
        .and_then(Value::as_str)
}

/// For stores that keep members as rows beside the group: a group's body as stored (its members with a string `value` taken out, the attribute
/// kept, possibly empty) and those members, first occurrence of each `value` only.
pub fn split_members(group: &Value) -> (Value, Vec<(String, Value)>) {
    let mut body = group.clone();
    let mut rows = Vec::new();
    if let Some(obj) = body.as_object_mut() {
        if let Some(k) = fedkit_scim::resource::find_key(obj, "members").map(str::to_owned) {
            if let Some(Value::Array(list)) = obj.get_mut(&k) {
                let mut seen = std::collections::HashSet::new();
                list.retain(|m| match member_value(m) {
                    Some(v) => {
                        if seen.insert(v.to_owned()) {
                            rows.push((v.to_owned(), m.clone()));
                        }
                        false
                    }
                    None => true,
                });
            }
        }
    }
    (body, rows)
}

/// Puts member rows back into a stored body (the inverse of [`split_members`]), ahead of any
/// member without a string `value` the body kept.
pub fn attach_members(body: &mut Value, members: Vec<Value>) {
    if members.is_empty() {
        return;
    }
    let Some(obj) = body.as_object_mut() else {
        return;
    };
    let key = fedkit_scim::resource::find_key(obj, "members")
        .unwrap_or("members")
        .to_owned();
    match obj.get_mut(&key) {
        Some(Value::Array(list)) => {
            let rest = std::mem::take(list);
            *list = members;
            list.extend(rest);
        }
        _ => {
            obj.insert(key, Value::Array(members));
        }
    }
}

/// The group's `members` attribute (any case of the name), if any.
pub(crate) fn members_of(group: &Value) -> Option<Value> {
    group
        .as_object()
        .and_then(|o| fedkit_scim::resource::get_attr(o, "members"))
        .cloned()
}

/// Removes a group's `members` attribute (any case of the name).
pub fn drop_members(group: &mut Value) {
    if let Some(obj) = group.as_object_mut() {
        if let Some(k) = fedkit_scim::resource::find_key(obj, "members").map(str::to_owned) {
            obj.remove(&k);
        }
    }
}

/// Replaces a group's `members` (any case of the name) with an empty array, if it has the
/// attribute: the shape of a group whose members are kept elsewhere.
pub(crate) fn strip_members(group: &mut Value) {
    if let Some(obj) = group.as_object_mut() {
        if let Some(k) = fedkit_scim::resource::find_key(obj, "members").map(str::to_owned) {
            obj.remove(&k);
            obj.insert("members".into(), Value::Array(Vec::new()));
        }
    }
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
