//! [`PgTransaction`], the store's [`Transaction`]: the connection it holds, how a statement
//! runs (alone, or inside a savepoint with [`PgTransaction::atomically`]), commit and
//! rollback. Its reads, writes and member operations are in `read`, `write` and `members`.

use std::collections::{BTreeSet, HashMap, HashSet};

use fedkit_scim::filter::Filter;
use fedkit_scim_service::auth::TenantId;
use fedkit_scim_service::store::{
    attach_members, member_value, split_members, Chunk, Membership, Page, PageQuery, ResourceKind, SortKey,
    StoreError, Transaction,
};
use postgres::types::{ToSql, Type};
use postgres::Client;
use serde_json::Value;

use super::error::{connection_lost, released};
use super::pushdown::{cut, index_form, Indexed, PushDown};
use super::rows::{body_of, checked_id, member_key, member_of_row, storable_id, Rows};
use super::sql::{find_params, find_query, kind_name, PageSql, DELETE_SQL, UPDATE_MANY_GROUPS_SQL};
use super::PgStore;
use crate::pool::PooledClient;

/// A [`Transaction`] on one pooled connection, from `BEGIN` to `COMMIT` or, when dropped
/// uncommitted, `ROLLBACK` (see the module docs, "Concurrency").
pub(crate) struct PgTransaction<'s> {
    store: &'s PgStore,
    /// `Some` until dropped.
    client: Option<PooledClient<'s>>,
    pub(crate) tenant: String,
    /// From [`Store::begin_read`](fedkit_scim_service::store::Store::begin_read).
    pub(crate) read_only: bool,
    committed: bool,
    /// A statement failed outside a savepoint: PostgreSQL has aborted the transaction and
    /// would answer `COMMIT` with a rollback, so [`Transaction::commit`] must fail.
    failed: bool,
    /// Read-only transactions: the ids of the users the last `find` returned, in order,
    /// with their positions (built on the first membership lookup), and the memberships
    /// already read. See [`Transaction::memberships`].
    found: Vec<String>,
    positions: Option<HashMap<String, usize>>,
    member_cache: HashMap<String, Vec<Membership>>,
}

impl<'s> PgTransaction<'s> {
    /// A transaction of `tenant` on `client`, on which `BEGIN` has run.
    pub(crate) fn new(
        store: &'s PgStore,
        client: PooledClient<'s>,
        tenant: &TenantId,
        read_only: bool,
    ) -> Self {
        Self {
            store,
            client: Some(client),
            tenant: tenant.as_str().to_owned(),
            read_only,
            committed: false,
            failed: false,
            found: Vec::new(),
            positions: None,
            member_cache: HashMap::new(),
        }
    }
}

/// How many users of the last `find` result one membership lookup covers (a page).
pub(crate) const MEMBERSHIP_WINDOW: usize = 128;

impl PgTransaction<'_> {
    pub(crate) fn target(&self) -> &str {
        self.store.pool.target()
    }

    pub(crate) fn error(&self, e: &postgres::Error) -> StoreError {
        self.store.error(e)
    }

    /// Runs one statement outside a savepoint; a failure marks the transaction failed.
    pub(crate) fn run<T>(
        &mut self,
        f: impl FnOnce(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        let Some(client) = self.client.as_mut() else {
            return Err(released());
        };
        match f(client) {
            Ok(v) => Ok(v),
            Err(e) => {
                self.failed = true;
                Err(self.error(&e))
            }
        }
    }

    /// Refuses a write in a transaction from
    /// [`Store::begin_read`](fedkit_scim_service::store::Store::begin_read).
    pub(crate) fn writable(&self) -> Result<(), StoreError> {
        if self.read_only {
            return Err(StoreError::Backend {
                detail: "a write was attempted in a read-only transaction (Store::begin_read)".into(),
            });
        }
        Ok(())
    }

    /// Runs `f` inside a savepoint: all of its writes or none, and the transaction stays
    /// usable after an error (PostgreSQL otherwise refuses every later statement).
    pub(crate) fn atomically<T>(
        &mut self,
        f: impl FnOnce(&Self, &mut Client) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut client = self.client.take().ok_or_else(released)?;
        let result = match client.batch_execute("SAVEPOINT fedkit_write") {
            Err(e) => {
                self.failed = true;
                Err(self.error(&e))
            }
            Ok(()) => match f(self, &mut client) {
                Ok(v) => client
                    .batch_execute("RELEASE SAVEPOINT fedkit_write")
                    .map(|()| v)
                    .map_err(|e| {
                        self.failed = true;
                        self.error(&e)
                    }),
                Err(err) => {
                    if client
                        .batch_execute("ROLLBACK TO SAVEPOINT fedkit_write; RELEASE SAVEPOINT fedkit_write")
                        .is_err()
                    {
                        self.failed = true;
                    }
                    Err(err)
                }
            },
        };
        self.client = Some(client);
        result
    }
}

impl Transaction for PgTransaction<'_> {
    fn get(&mut self, kind: ResourceKind, id: &str) -> Result<Option<Value>, StoreError> {
        let Some((seq, mut body)) = self.stored(kind, id)? else {
            return Ok(None);
        };
        if kind == ResourceKind::Group {
            let members = self.members_by_group(&[seq])?.remove(&seq).unwrap_or_default();
            attach_members(&mut body, members);
        }
        Ok(Some(body))
    }

    fn get_attributes(&mut self, kind: ResourceKind, id: &str) -> Result<Option<Value>, StoreError> {
        Ok(self.stored(kind, id)?.map(|(_, body)| body))
    }

    fn member_count(&mut self, group_id: &str) -> Result<Option<usize>, StoreError> {
        if !storable_id(group_id) {
            return Ok(None);
        }
        let tenant = self.tenant.clone();
        let row = self.run(|c| {
            c.query_typed_opt(
                "SELECT member_count FROM fedkit_scim_resources WHERE tenant = $1 AND kind = 'Group' AND id = $2",
                &[(&tenant, Type::TEXT), (&group_id, Type::TEXT)],
            )
        })?;
        row.map(|r| {
            r.try_get::<_, i64>(0)
                .map(|n| usize::try_from(n).unwrap_or(0))
                .map_err(|e| self.error(&e))
        })
        .transpose()
    }

    fn members_named(&mut self, group_id: &str, values: &[&str]) -> Result<Vec<Value>, StoreError> {
        let Some((seq, _)) = self.stored(ResourceKind::Group, group_id)? else {
            return Ok(Vec::new());
        };
        let vs: Vec<String> = values
            .iter()
            .map(|v| cut(&index_form(&Indexed::MemberValue.normalize(v))).0.to_owned())
            .collect();
        let tenant = self.tenant.clone();
        let rows = self.run(|c| {
            c.query_typed(
                "SELECT member, member_json FROM fedkit_scim_group_members
                 WHERE tenant = $1 AND v = ANY($2) AND group_seq = $3 ORDER BY ord",
                &[(&tenant, Type::TEXT), (&vs, Type::TEXT_ARRAY), (&seq, Type::INT8)],
            )
        })?;
        rows.iter().map(|r| member_of_row(r, 0)).collect()
    }

    fn find(&mut self, kind: ResourceKind, filter: Option<&Filter>) -> Result<Vec<Value>, StoreError> {
        let (sql, values) = find_query(kind, filter);
        let tenant = self.tenant.clone();
        let params = find_params(&tenant, kind, &values);
        let rows = self.run(|c| c.query_typed(&sql, &params))?;
        let found = self.bodies(kind, &rows, Some(usize::MAX))?;
        if self.read_only && kind == ResourceKind::User {
            self.found = found
                .iter()
                .filter_map(|r| r.get("id").and_then(Value::as_str).map(str::to_owned))
                .collect();
            self.positions = None;
        }
        Ok(found)
    }

    fn find_attributes(
        &mut self,
        kind: ResourceKind,
        filter: Option<&Filter>,
    ) -> Result<Vec<Value>, StoreError> {
        let (sql, values) = find_query(kind, filter);
        let tenant = self.tenant.clone();
        let params = find_params(&tenant, kind, &values);
        let rows = self.run(|c| c.query_typed(&sql, &params))?;
        self.bodies(kind, &rows, None)
    }

    fn find_chunk(
        &mut self,
        kind: ResourceKind,
        filter: Option<&Filter>,
        members: bool,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Chunk, StoreError> {
        let (sql, values) = find_query(kind, filter);
        // Numbers this code computes, not input.
        let after = after
            .map_or(Ok(-1), i64::try_from)
            .map_err(|_| StoreError::Backend {
                detail: "a chunk position beyond the store's sequence numbers".into(),
            })?;
        let limit = limit.max(1);
        let sql = format!(
            "{} AND r.seq > {after} ORDER BY r.seq LIMIT {}",
            sql.strip_suffix(" ORDER BY r.seq").unwrap_or(&sql),
            i64::try_from(limit).unwrap_or(i64::MAX)
        );
        let tenant = self.tenant.clone();
        let params = find_params(&tenant, kind, &values);
        let rows = self.run(|c| c.query_typed(&sql, &params))?;
        let next = match rows.last() {
            Some(row) if rows.len() == limit => {
                let seq: i64 = row.try_get(2).map_err(|e| self.error(&e))?;
                u64::try_from(seq).ok()
            }
            _ => None,
        };
        let found = self.bodies(kind, &rows, members.then_some(usize::MAX))?;
        if self.read_only && kind == ResourceKind::User {
            // The memberships of this chunk's users are read together, and only theirs
            // are kept: the cache follows the chunk, not the directory.
            self.found = found
                .iter()
                .filter_map(|r| r.get("id").and_then(Value::as_str).map(str::to_owned))
                .collect();
            self.positions = None;
            self.member_cache.clear();
        }
        Ok(Chunk::new(found, next))
    }

    fn find_page(&mut self, kind: ResourceKind, query: &PageQuery<'_>) -> Result<Option<Page>, StoreError> {
        // Only a filter the indexes answer exactly; otherwise the handler's evaluator.
        let filter = match query.filter {
            None => None,
            Some(f) => match PushDown::translate_exact(kind, f) {
                Some(cond) => Some(cond),
                None => return Ok(None),
            },
        };
        let values: &[String] = filter.as_ref().map_or(&[], |c| c.params.as_slice());
        // `Some(descending)`: by `userName`.
        let by_name = match query.sort {
            None => None,
            Some((SortKey::UserName, descending)) if kind == ResourceKind::User => Some(descending),
            Some(_) => return Ok(None),
        };
        let tenant = self.tenant.clone();
        let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
        let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
        // `$3`: the group whose members are listed (-1: none).
        let group_seq = match query.member_of {
            None => -1,
            Some(_) if kind != ResourceKind::User => return Ok(None),
            Some(group) => match self.stored(ResourceKind::Group, group)? {
                Some((seq, _)) => seq,
                None => {
                    let lower = group.to_ascii_lowercase();
                    let row = self.run(|c| {
                        c.query_typed_opt(
                            "SELECT seq FROM fedkit_scim_resources WHERE tenant = $1 AND kind = 'Group' AND lower(id) = $2
                             ORDER BY seq LIMIT 1",
                            &[(&tenant, Type::TEXT), (&lower, Type::TEXT)],
                        )
                    })?;
                    match row {
                        Some(r) => r.try_get(0).map_err(|e| self.error(&e))?,
                        None => -1,
                    }
                }
            },
        };
        let sql = PageSql::new(query.member_of.is_some(), by_name, filter.as_ref());
        let members = query.members.then_some(query.member_cap);
        let Some(unnamed_sql) = sql.unnamed else {
            let (total, _) = self.page_counts(&sql.count, &tenant, kind, group_seq, values)?;
            let rows = self.page_rows(&sql.page, kind, group_seq, limit, offset, values)?;
            let resources = self.bodies(kind, &rows, members)?;
            return Ok(Some(Page::new(usize::try_from(total).unwrap_or(0), resources)));
        };
        let named_sql = sql.page;
        let total_sql = sql.count;
        let (total, named) = self.page_counts(&total_sql, &tenant, kind, group_seq, values)?;
        let mut resources = Vec::new();
        if offset < named && limit > 0 {
            let rows = self.page_rows(&named_sql, kind, group_seq, limit, offset, values)?;
            resources = self.bodies(kind, &rows, members)?;
        }
        let taken = i64::try_from(resources.len()).unwrap_or(i64::MAX);
        let rest = limit.saturating_sub(taken);
        if rest > 0 && offset.saturating_add(limit) > named {
            let skip = offset.saturating_sub(named).max(0);
            let rows = self.page_rows(&unnamed_sql, kind, group_seq, rest, skip, values)?;
            resources.extend(self.bodies(kind, &rows, members)?);
        }
        Ok(Some(Page::new(usize::try_from(total).unwrap_or(0), resources)))
    }

    fn update_attributes(&mut self, kind: ResourceKind, resource: &Value) -> Result<(), StoreError> {
        self.writable()?;
        let Some(id) = resource.get("id").and_then(Value::as_str) else {
            return Err(StoreError::MalformedResource);
        };
        let not_found = || StoreError::NotFound {
            kind: kind.name(),
            id: id.to_owned(),
        };
        if !storable_id(id) {
            return Err(not_found());
        }
        // String members are rows and stay as they are; the others are part of the body.
        let body = if kind == ResourceKind::Group {
            split_members(resource).0
        } else {
            resource.clone()
        };
        match self.write_attributes(kind, id, &body)? {
            Some(_) => Ok(()),
            None => Err(not_found()),
        }
    }

    fn get_attributes_many(&mut self, kind: ResourceKind, ids: &[&str]) -> Result<Vec<Value>, StoreError> {
        let ids: Vec<&str> = ids.iter().copied().filter(|id| storable_id(id)).collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // In a write transaction the rows stay locked, in id order (as `remove_from_all_groups`
        // locks them), until the end.
        let sql = if self.read_only {
            "SELECT body, body_json, id FROM fedkit_scim_resources WHERE tenant = $1 AND kind = $2 AND id = ANY($3)"
        } else {
            "SELECT body, body_json, id FROM fedkit_scim_resources WHERE tenant = $1 AND kind = $2 AND id = ANY($3)
             ORDER BY seq FOR NO KEY UPDATE"
        };
        let tenant = self.tenant.clone();
        let rows = self.run(|c| {
            c.query_typed(
                sql,
                &[
                    (&tenant, Type::TEXT),
                    (kind_name(kind), Type::TEXT),
                    (&ids, Type::TEXT_ARRAY),
                ],
            )
        })?;
        let mut by_id: HashMap<String, Value> = HashMap::new();
        for row in &rows {
            let id: String = row.try_get(2).map_err(|e| self.error(&e))?;
            by_id.insert(id, body_of(kind, row, 0)?);
        }
        Ok(ids.iter().filter_map(|id| by_id.remove(*id)).collect())
    }

    fn update_attributes_many(&mut self, kind: ResourceKind, resources: &[Value]) -> Result<(), StoreError> {
        self.writable()?;
        if kind != ResourceKind::Group || resources.len() < 2 {
            for r in resources {
                self.update_attributes(kind, r)?;
            }
            return Ok(());
        }
        let mut bodies = Vec::with_capacity(resources.len());
        for r in resources {
            checked_id(r)?;
            bodies.push(split_members(r).0);
        }
        let rows = Rows::build(kind, &bodies)?;
        let updated = self.atomically(|tx, client| {
            let params: [(&(dyn ToSql + Sync), Type); 10] = [
                (&tx.tenant, Type::TEXT),
                (kind_name(kind), Type::TEXT),
                (&rows.ids, Type::TEXT_ARRAY),
                (&rows.displays, Type::TEXT_ARRAY),
                (&rows.bodies, Type::JSONB_ARRAY),
                (&rows.raw_bodies, Type::JSON_ARRAY),
                (&rows.value_ids, Type::TEXT_ARRAY),
                (&rows.value_attrs, Type::INT2_ARRAY),
                (&rows.values, Type::TEXT_ARRAY),
                (&rows.value_cuts, Type::BOOL_ARRAY),
            ];
            let row = client
                .query_typed_one(UPDATE_MANY_GROUPS_SQL, &params)
                .map_err(|e| tx.error(&e))?;
            row.try_get::<_, i64>(0).map_err(|e| tx.error(&e))
        })?;
        if usize::try_from(updated).unwrap_or(0) != resources.len() {
            return Err(StoreError::NotFound {
                kind: kind.name(),
                id: "(one of several)".into(),
            });
        }
        Ok(())
    }

    fn add_members(&mut self, group_id: &str, members: &[Value]) -> Result<Vec<String>, StoreError> {
        self.writable()?;
        let seq = self.group_seq(group_id)?;
        let list: Vec<(String, Value)> = members
            .iter()
            .filter_map(|m| member_value(m).map(|v| (v.to_owned(), m.clone())))
            .collect();
        self.insert_members(seq, group_id, &list)
    }

    fn remove_members(&mut self, group_id: &str, values: &[&str]) -> Result<Vec<String>, StoreError> {
        self.writable()?;
        let seq = self.group_seq(group_id)?;
        self.delete_members(seq, values)
    }

    fn remove_from_all_groups(&mut self, member_id: &str) -> Result<Vec<String>, StoreError> {
        self.writable()?;
        let key = member_key(member_id);
        let tenant = self.tenant.clone();
        // The groups, locked in one order (by seq) so concurrent deletes cannot deadlock.
        let groups = self.run(|c| {
            c.query_typed(
                "SELECT r.seq, r.id FROM fedkit_scim_resources r
                 WHERE r.seq IN (SELECT group_seq FROM fedkit_scim_group_members WHERE tenant = $1 AND member_key = $2)
                 ORDER BY r.seq FOR NO KEY UPDATE",
                &[(&tenant, Type::TEXT), (&key, Type::BYTEA)],
            )
        })?;
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        self.atomically(|tx, client| {
            client
                .execute(
                    "WITH d AS (
                         DELETE FROM fedkit_scim_group_members WHERE tenant = $1 AND member_key = $2
                         RETURNING group_seq
                     )
                     UPDATE fedkit_scim_resources r SET member_count = member_count - 1 FROM d WHERE r.seq = d.group_seq",
                    &[&tenant, &key],
                )
                .map_err(|e| tx.error(&e))
        })?;
        let mut ids: Vec<String> = groups
            .iter()
            .filter_map(|r| r.try_get::<_, String>(1).ok())
            .collect();
        ids.sort();
        Ok(ids)
    }

    fn insert(&mut self, kind: ResourceKind, resource: &Value) -> Result<(), StoreError> {
        self.writable()?;
        checked_id(resource)?;
        self.atomically(|tx, client| tx.insert_rows(client, kind, std::slice::from_ref(resource)))
    }

    fn update(&mut self, kind: ResourceKind, resource: &Value) -> Result<(), StoreError> {
        self.writable()?;
        let Some(id) = resource.get("id").and_then(Value::as_str) else {
            return Err(StoreError::MalformedResource);
        };
        let not_found = || StoreError::NotFound {
            kind: kind.name(),
            id: id.to_owned(),
        };
        if !storable_id(id) {
            return Err(not_found());
        }
        if kind != ResourceKind::Group {
            return match self.write_attributes(kind, id, resource)? {
                Some(_) => Ok(()),
                None => Err(not_found()),
            };
        }
        let (body, members) = split_members(resource);
        let Some(seq) = self.write_attributes(kind, id, &body)? else {
            return Err(not_found());
        };
        // Diff the member rows: those gone or changed are deleted, new ones inserted.
        let current = self.members_by_group(&[seq])?.remove(&seq).unwrap_or_default();
        let wanted: HashMap<&str, &Value> = members.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let mut keep = HashSet::new();
        let mut gone = Vec::new();
        for m in &current {
            if let Some(v) = member_value(m) {
                if wanted.get(v) == Some(&m) {
                    keep.insert(v.to_owned());
                } else {
                    gone.push(v.to_owned());
                }
            }
        }
        let gone: Vec<&str> = gone.iter().map(String::as_str).collect();
        self.delete_members(seq, &gone)?;
        let new: Vec<(String, Value)> = members.into_iter().filter(|(k, _)| !keep.contains(k)).collect();
        self.insert_members(seq, id, &new)?;
        Ok(())
    }

    fn delete(&mut self, kind: ResourceKind, id: &str) -> Result<bool, StoreError> {
        self.writable()?;
        if !storable_id(id) {
            return Ok(false);
        }
        let deleted = self.atomically(|tx, client| {
            let row = client
                .query_typed_one(
                    DELETE_SQL,
                    &[
                        (&tx.tenant, Type::TEXT),
                        (kind_name(kind), Type::TEXT),
                        (&id, Type::TEXT),
                    ],
                )
                .map_err(|e| tx.error(&e))?;
            row.try_get::<_, i64>(0).map_err(|e| tx.error(&e))
        })?;
        Ok(deleted > 0)
    }

    /// In a read-only transaction (one snapshot, so nothing read can change), a lookup of
    /// ids that are among the users the last `find` returned also reads the memberships of
    /// the next [`MEMBERSHIP_WINDOW`] of them, and later lookups are answered from what was
    /// read: the handler renders a page of users one at a time, and this makes the page one
    /// query instead of one per user.
    fn memberships(&mut self, member_ids: &[&str]) -> Result<Vec<Membership>, StoreError> {
        let wanted: BTreeSet<&str> = member_ids.iter().copied().collect();
        if !self.read_only {
            return self.read_memberships(&wanted);
        }
        let missing: Vec<&str> = wanted
            .iter()
            .copied()
            .filter(|id| !self.member_cache.contains_key(*id))
            .collect();
        if !missing.is_empty() {
            let mut fetch: BTreeSet<&str> = missing.iter().copied().collect();
            if !self.found.is_empty() {
                let found = &self.found;
                let positions = self
                    .positions
                    .get_or_insert_with(|| found.iter().enumerate().map(|(i, id)| (id.clone(), i)).collect());
                for id in &missing {
                    if let Some(&p) = positions.get(*id) {
                        let end = p.saturating_add(MEMBERSHIP_WINDOW).min(found.len());
                        fetch.extend(found.get(p..end).unwrap_or_default().iter().map(String::as_str));
                    }
                    if fetch.len() > 4 * MEMBERSHIP_WINDOW {
                        break;
                    }
                }
            }
            let fetch: BTreeSet<String> = fetch.into_iter().map(str::to_owned).collect();
            let borrowed: BTreeSet<&str> = fetch.iter().map(String::as_str).collect();
            let read = self.read_memberships(&borrowed)?;
            for id in fetch {
                self.member_cache.entry(id).or_default();
            }
            for m in read {
                self.member_cache.entry(m.member_id.clone()).or_default().push(m);
            }
        }
        Ok(wanted
            .iter()
            .filter_map(|id| self.member_cache.get(*id))
            .flatten()
            .cloned()
            .collect())
    }

    fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        let target = self.target().to_owned();
        if self.failed {
            return Err(StoreError::Backend {
                detail: "an earlier statement of this transaction failed, so PostgreSQL rolled it back; \
                         nothing was committed"
                    .into(),
            });
        }
        let result = match self.client.as_mut() {
            Some(c) => c.batch_execute("COMMIT"),
            None => return Err(released()),
        };
        match result {
            Ok(()) => {
                self.committed = true;
                Ok(())
            }
            Err(e) if connection_lost(&e) => Err(StoreError::Backend {
                detail: format!(
                    "lost the connection to PostgreSQL at {target} while committing ({e}); the changes may or may \
                     not have been applied: read the resource again before retrying"
                ),
            }),
            // PostgreSQL ended the transaction without applying it; Drop cleans up.
            Err(e) => Err(self.error(&e)),
        }
    }
}

impl Drop for PgTransaction<'_> {
    fn drop(&mut self) {
        if let Some(mut client) = self.client.take() {
            if self.committed {
                return;
            }
            // Nothing to report to. A connection that cannot even roll back is in an
            // unknown state: close it rather than hand it to the next request.
            if client.batch_execute("ROLLBACK").is_err() {
                client.discard();
            }
        }
    }
}
