//! [`MemoryStore`]: everything in a `Mutex`, for tests, examples and single-process demos.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use fedkit_scim::filter::{CompValue, CompareOp, Filter};
use serde_json::Value;

use super::{id_of, member_ids, user_name_key, Membership, ResourceKind, Store, StoreError, Transaction};
use crate::auth::TenantId;

/// An in-memory [`Store`]. Transactions are serialized (one at a time, the lock is held
/// until commit or drop) and rolled back from an undo log when dropped without commit.
/// `userName` is unique per tenant, case-insensitively. [`Transaction::find`] answers
/// `id eq` and `userName eq` (alone or in an `and`) from its indexes and returns every
/// resource of the kind for other filters.
///
/// ```
/// use fedkit_scim_service::auth::TenantId;
/// use fedkit_scim_service::store::{MemoryStore, ResourceKind, Store};
/// use serde_json::json;
///
/// let store = MemoryStore::new();
/// let acme = TenantId::new("acme")?;
/// let mut tx = store.begin(&acme)?;
/// tx.insert(ResourceKind::User, &json!({"id": "u1", "userName": "bjensen"}))?;
/// drop(tx); // not committed: nothing happened
/// let mut tx = store.begin(&acme)?;
/// assert_eq!(tx.get(ResourceKind::User, "u1")?, None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    tenants: Mutex<HashMap<TenantId, TenantData>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[derive(Debug, Default)]
struct Table {
    /// id → (insertion sequence, resource).
    rows: HashMap<String, (u64, Value)>,
}

#[derive(Debug, Default)]
struct TenantData {
    users: Table,
    groups: Table,
    /// Lowercased userName → user id.
    user_names: HashMap<String, String>,
    /// Users whose `userName` is not one string (absent, an array, a number): the index
    /// cannot answer for them, so a `userName eq` lookup always considers them.
    unindexed_users: std::collections::BTreeSet<String>,
    /// `externalId` (caseExact, not unique) → the ids of the users with it.
    external_ids: HashMap<String, std::collections::BTreeSet<String>>,
    /// Users whose `externalId` is present but not one string: an `externalId eq` lookup
    /// always considers them.
    unindexed_external_ids: std::collections::BTreeSet<String>,
    next_seq: u64,
}

impl TenantData {
    fn table(&mut self, kind: ResourceKind) -> &mut Table {
        match kind {
            ResourceKind::User => &mut self.users,
            ResourceKind::Group => &mut self.groups,
        }
    }

    fn table_ref(&self, kind: ResourceKind) -> &Table {
        match kind {
            ResourceKind::User => &self.users,
            ResourceKind::Group => &self.groups,
        }
    }

    /// Puts `row` at `id` (or removes it), keeping the userName index right. Returns what
    /// was there.
    fn put(&mut self, kind: ResourceKind, id: &str, row: Option<(u64, Value)>) -> Option<(u64, Value)> {
        let old = match &row {
            Some(r) => self.table(kind).rows.insert(id.to_owned(), r.clone()),
            None => self.table(kind).rows.remove(id),
        };
        if kind == ResourceKind::User {
            if let Some(name) = old.as_ref().and_then(|(_, v)| user_name_key(v)) {
                if self.user_names.get(&name).is_some_and(|owner| owner == id) {
                    self.user_names.remove(&name);
                }
            }
            self.unindexed_users.remove(id);
            match row.as_ref().map(|(_, v)| user_name_key(v)) {
                Some(Some(name)) => {
                    self.user_names.insert(name, id.to_owned());
                }
                Some(None) => {
                    self.unindexed_users.insert(id.to_owned());
                }
                None => {}
            }
            if let Some(Value::String(old_external)) = old.as_ref().and_then(|(_, v)| external_id(v)) {
                if let Some(ids) = self.external_ids.get_mut(old_external) {
                    ids.remove(id);
                    if ids.is_empty() {
                        self.external_ids.remove(old_external);
                    }
                }
            }
            self.unindexed_external_ids.remove(id);
            match row.as_ref().and_then(|(_, v)| external_id(v)) {
                Some(Value::String(external)) => {
                    self.external_ids
                        .entry(external.clone())
                        .or_default()
                        .insert(id.to_owned());
                }
                Some(_) => {
                    self.unindexed_external_ids.insert(id.to_owned());
                }
                None => {}
            }
        }
        old
    }

    fn check_user_name(&self, kind: ResourceKind, id: &str, resource: &Value) -> Result<(), StoreError> {
        if kind != ResourceKind::User {
            return Ok(());
        }
        if let Some(name) = user_name_key(resource) {
            if self.user_names.get(&name).is_some_and(|owner| owner != id) {
                return Err(StoreError::Conflict {
                    kind: kind.name(),
                    attribute: "userName",
                    value: name,
                });
            }
        }
        Ok(())
    }
}

/// A user's `externalId` member, whatever its type.
fn external_id(user: &Value) -> Option<&Value> {
    user.as_object()
        .and_then(|o| fedkit_scim::resource::get_attr(o, "externalId"))
}

/// The ids that can match `filter` when the indexes answer it (`id eq`, `userName eq`,
/// users' `externalId eq`, and an `and` with one such side); `None` when every resource must
/// be considered.
fn indexed_ids(data: &TenantData, kind: ResourceKind, filter: &Filter) -> Option<Vec<String>> {
    match filter {
        Filter::And(l, r) => indexed_ids(data, kind, l).or_else(|| indexed_ids(data, kind, r)),
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::String(v),
        } if path.urn.is_none() && path.sub_attr.is_none() => {
            if path.name.eq_ignore_ascii_case("id") {
                Some(vec![v.clone()])
            } else if kind == ResourceKind::User && path.name.eq_ignore_ascii_case("userName") {
                let indexed = data.user_names.get(&v.to_lowercase()).cloned();
                Some(
                    indexed
                        .into_iter()
                        .chain(data.unindexed_users.iter().cloned())
                        .collect(),
                )
            } else if kind == ResourceKind::User && path.name.eq_ignore_ascii_case("externalId") {
                let indexed = data.external_ids.get(v).into_iter().flatten().cloned();
                Some(
                    indexed
                        .chain(data.unindexed_external_ids.iter().cloned())
                        .collect(),
                )
            } else {
                None
            }
        }
        _ => None,
    }
}

impl Store for MemoryStore {
    fn begin(&self, tenant: &TenantId) -> Result<Box<dyn Transaction + '_>, StoreError> {
        let guard = self.tenants.lock().map_err(|_| StoreError::Backend {
            detail: "a previous transaction panicked while holding the memory store".into(),
        })?;
        Ok(Box::new(MemoryTransaction {
            guard,
            tenant: tenant.clone(),
            undo: Vec::new(),
            committed: false,
        }))
    }
}

/// A stored row: (insertion sequence, resource).
type Row = (u64, Value);

struct MemoryTransaction<'s> {
    guard: MutexGuard<'s, HashMap<TenantId, TenantData>>,
    tenant: TenantId,
    /// (kind, id, previous row) in the order written; replayed backwards on rollback.
    undo: Vec<(ResourceKind, String, Option<Row>)>,
    committed: bool,
}

impl MemoryTransaction<'_> {
    fn data(&mut self) -> &mut TenantData {
        self.guard.entry(self.tenant.clone()).or_default()
    }

    fn data_ref(&self) -> Option<&TenantData> {
        self.guard.get(&self.tenant)
    }

    fn write(&mut self, kind: ResourceKind, id: &str, row: Option<(u64, Value)>) {
        let old = self.data().put(kind, id, row);
        self.undo.push((kind, id.to_owned(), old));
    }
}

impl Transaction for MemoryTransaction<'_> {
    fn get(&mut self, kind: ResourceKind, id: &str) -> Result<Option<Value>, StoreError> {
        Ok(self
            .data_ref()
            .and_then(|d| d.table_ref(kind).rows.get(id))
            .map(|(_, v)| v.clone()))
    }

    fn find(&mut self, kind: ResourceKind, filter: Option<&Filter>) -> Result<Vec<Value>, StoreError> {
        let Some(data) = self.data_ref() else {
            return Ok(Vec::new());
        };
        let table = data.table_ref(kind);
        let mut rows: Vec<&(u64, Value)> = match filter.and_then(|f| indexed_ids(data, kind, f)) {
            Some(ids) => ids.iter().filter_map(|id| table.rows.get(id)).collect(),
            None => table.rows.values().collect(),
        };
        rows.sort_by_key(|(seq, _)| *seq);
        Ok(rows.into_iter().map(|(_, v)| v.clone()).collect())
    }

    fn insert(&mut self, kind: ResourceKind, resource: &Value) -> Result<(), StoreError> {
        let id = id_of(resource)?.to_owned();
        let data = self.data();
        if data.table_ref(kind).rows.contains_key(&id) {
            return Err(StoreError::DuplicateId {
                kind: kind.name(),
                id,
            });
        }
        data.check_user_name(kind, &id, resource)?;
        let seq = data.next_seq;
        data.next_seq += 1;
        self.write(kind, &id, Some((seq, resource.clone())));
        Ok(())
    }

    fn update(&mut self, kind: ResourceKind, resource: &Value) -> Result<(), StoreError> {
        let id = id_of(resource)?.to_owned();
        let data = self.data();
        let Some((seq, _)) = data.table_ref(kind).rows.get(&id) else {
            return Err(StoreError::NotFound {
                kind: kind.name(),
                id,
            });
        };
        let seq = *seq;
        data.check_user_name(kind, &id, resource)?;
        self.write(kind, &id, Some((seq, resource.clone())));
        Ok(())
    }

    fn delete(&mut self, kind: ResourceKind, id: &str) -> Result<bool, StoreError> {
        if !self.data().table_ref(kind).rows.contains_key(id) {
            return Ok(false);
        }
        self.write(kind, id, None);
        Ok(true)
    }

    fn memberships(&mut self, member_ids_wanted: &[&str]) -> Result<Vec<Membership>, StoreError> {
        let Some(data) = self.data_ref() else {
            return Ok(Vec::new());
        };
        let wanted: std::collections::HashSet<&str> = member_ids_wanted.iter().copied().collect();
        let mut out = Vec::new();
        for (group_id, (_, group)) in &data.groups.rows {
            let display = group
                .as_object()
                .and_then(|o| fedkit_scim::resource::get_attr(o, "displayName"))
                .and_then(Value::as_str);
            for member in member_ids(group) {
                if wanted.contains(member) {
                    out.push(Membership {
                        member_id: member.to_owned(),
                        group_id: group_id.clone(),
                        group_display: display.map(str::to_owned),
                    });
                }
            }
        }
        Ok(out)
    }

    fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        self.committed = true;
        self.undo.clear();
        Ok(())
    }
}

impl Drop for MemoryTransaction<'_> {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        while let Some((kind, id, old)) = self.undo.pop() {
            self.data().put(kind, &id, old);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conformance() {
        super::super::conformance::run(&MemoryStore::new());
    }
}
