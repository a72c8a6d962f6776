//! Group members in a [`PgTransaction`]: the member rows of groups (read, added, removed)
//! and the groups a user belongs to.

use std::collections::{BTreeSet, HashMap, HashSet};

use fedkit_scim_service::store::{Membership, ResourceKind, StoreError};
use postgres::types::Type;
use serde_json::Value;

use super::rows::{body_of, display_name, member_key, member_of_row, MemberRows};
use super::sql::{ADD_MEMBERS_SQL, REMOVE_MEMBERS_SQL};
use super::tx::PgTransaction;

impl PgTransaction<'_> {
    /// The memberships of `wanted`, read from the database.
    pub(crate) fn read_memberships(
        &mut self,
        wanted: &BTreeSet<&str>,
    ) -> Result<Vec<Membership>, StoreError> {
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<&[u8]> = wanted.iter().map(|m| m.as_bytes()).collect();
        let tenant = self.tenant.clone();
        let rows = self.run(|c| {
            c.query_typed(
                "SELECT x.m, r.id, r.display_name, r.seq
                 FROM unnest($2::bytea[]) AS x(m)
                 JOIN fedkit_scim_group_members sm ON sm.tenant = $1 AND sm.member_key = sha256(x.m)
                 JOIN fedkit_scim_resources r ON r.seq = sm.group_seq AND r.tenant = $1
                 ORDER BY x.m, r.seq",
                &[(&tenant, Type::TEXT), (&keys, Type::BYTEA_ARRAY)],
            )
        })?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let read = |e: postgres::Error| StoreError::Backend {
                detail: format!("a group membership cannot be read ({e})"),
            };
            let member: Vec<u8> = row.try_get(0).map_err(read)?;
            let group_id: String = row.try_get(1).map_err(read)?;
            let display: Option<String> = row.try_get(2).map_err(read)?;
            let seq: i64 = row.try_get(3).map_err(read)?;
            out.push(Membership {
                member_id: String::from_utf8(member).map_err(|_| StoreError::Backend {
                    detail: "PostgreSQL returned a member id that is not UTF-8".into(),
                })?,
                group_id,
                group_display: self.exact_display(seq, display)?,
            });
        }
        Ok(out)
    }

    /// The display name of group `seq` as stored, from its body when the column's copy had
    /// U+0000 replaced (or holds U+FFFD, which may be such a replacement).
    pub(crate) fn exact_display(
        &mut self,
        seq: i64,
        column: Option<String>,
    ) -> Result<Option<String>, StoreError> {
        match column {
            Some(d) if d.contains('\u{FFFD}') => {
                let row = self.run(|c| {
                    c.query_typed_opt(
                        "SELECT body, body_json FROM fedkit_scim_resources WHERE seq = $1",
                        &[(&seq, Type::INT8)],
                    )
                })?;
                match row {
                    Some(row) => Ok(display_name(&body_of(ResourceKind::Group, &row, 0)?).map(str::to_owned)),
                    None => Ok(Some(d)),
                }
            }
            other => Ok(other),
        }
    }

    /// The member objects of groups `seqs`, in the order they were added.
    pub(crate) fn members_by_group(&mut self, seqs: &[i64]) -> Result<HashMap<i64, Vec<Value>>, StoreError> {
        let mut out: HashMap<i64, Vec<Value>> = HashMap::new();
        if seqs.is_empty() {
            return Ok(out);
        }
        let seqs = seqs.to_vec();
        let rows = self.run(|c| {
            c.query_typed(
                "SELECT group_seq, member, member_json FROM fedkit_scim_group_members
                 WHERE group_seq = ANY($1) ORDER BY group_seq, ord",
                &[(&seqs, Type::INT8_ARRAY)],
            )
        })?;
        for row in rows {
            let seq: i64 = row.try_get(0).map_err(|e| self.error(&e))?;
            out.entry(seq).or_default().push(member_of_row(&row, 1)?);
        }
        Ok(out)
    }

    pub(crate) fn group_seq(&mut self, group_id: &str) -> Result<i64, StoreError> {
        match self.stored(ResourceKind::Group, group_id)? {
            Some((seq, _)) => Ok(seq),
            None => Err(StoreError::NotFound {
                kind: "Group",
                id: group_id.to_owned(),
            }),
        }
    }

    /// Writes member rows of group `seq`; returns the ids added.
    pub(crate) fn insert_members(
        &mut self,
        seq: i64,
        group_id: &str,
        list: &[(String, Value)],
    ) -> Result<Vec<String>, StoreError> {
        if list.is_empty() {
            return Ok(Vec::new());
        }
        let mut rows = MemberRows::default();
        for (mid, m) in list {
            rows.push(group_id, mid, m);
        }
        let tenant = self.tenant.clone();
        let added = self.atomically(|tx, client| {
            client
                .query_typed(
                    ADD_MEMBERS_SQL,
                    &[
                        (&seq, Type::INT8),
                        (&tenant, Type::TEXT),
                        (&rows.keys, Type::BYTEA_ARRAY),
                        (&rows.vs, Type::TEXT_ARRAY),
                        (&rows.cuts, Type::BOOL_ARRAY),
                        (&rows.bodies, Type::JSONB_ARRAY),
                        (&rows.raw_bodies, Type::JSON_ARRAY),
                    ],
                )
                .map_err(|e| tx.error(&e))
        })?;
        let added: HashSet<Vec<u8>> = added
            .iter()
            .filter_map(|r| r.try_get::<_, Vec<u8>>(0).ok())
            .collect();
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for (id, key) in rows.ids.iter().zip(&rows.keys) {
            if added.contains(key) && seen.insert(key.clone()) {
                out.push(id.clone());
            }
        }
        Ok(out)
    }

    /// Deletes member rows of group `seq`; returns the ids removed.
    pub(crate) fn delete_members(&mut self, seq: i64, ids: &[&str]) -> Result<Vec<String>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<Vec<u8>> = ids.iter().map(|id| member_key(id)).collect();
        let gone = self.atomically(|tx, client| {
            client
                .query_typed(
                    REMOVE_MEMBERS_SQL,
                    &[(&seq, Type::INT8), (&keys, Type::BYTEA_ARRAY)],
                )
                .map_err(|e| tx.error(&e))
        })?;
        let gone: HashSet<Vec<u8>> = gone
            .iter()
            .filter_map(|r| r.try_get::<_, Vec<u8>>(0).ok())
            .collect();
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for (id, key) in ids.iter().zip(keys) {
            if gone.contains(&key) && seen.insert(key) {
                out.push((*id).to_owned());
            }
        }
        Ok(out)
    }
}
