//! The reads of a [`PgTransaction`]: one resource's row (locked in a write transaction),
//! documents with or without their group members, and the statements of a page.

use std::collections::HashSet;

use fedkit_scim_service::store::{attach_members, drop_members, ResourceKind, StoreError};
use postgres::types::{ToSql, Type};
use serde_json::Value;

use super::rows::{body_of, storable_id};
use super::sql::kind_name;
use super::tx::PgTransaction;

impl PgTransaction<'_> {
    /// The row of a resource (`seq`, stored body), locked in a write transaction.
    pub(crate) fn stored(
        &mut self,
        kind: ResourceKind,
        id: &str,
    ) -> Result<Option<(i64, Value)>, StoreError> {
        if !storable_id(id) {
            return Ok(None);
        }
        // In a write transaction, the row stays locked until the end: see the module docs.
        let sql = if self.read_only {
            "SELECT body, body_json, seq FROM fedkit_scim_resources WHERE tenant = $1 AND kind = $2 AND id = $3"
        } else {
            "SELECT body, body_json, seq FROM fedkit_scim_resources WHERE tenant = $1 AND kind = $2 AND id = $3
             FOR NO KEY UPDATE"
        };
        let tenant = self.tenant.clone();
        let row = self.run(|c| {
            c.query_typed_opt(
                sql,
                &[
                    (&tenant, Type::TEXT),
                    (kind_name(kind), Type::TEXT),
                    (&id, Type::TEXT),
                ],
            )
        })?;
        row.map(|row| {
            let seq: i64 = row.try_get(2).map_err(|e| self.error(&e))?;
            Ok((seq, body_of(kind, &row, 0)?))
        })
        .transpose()
    }

    /// Runs a query whose rows start with (body, body_json, seq); with `members`, groups
    /// with at most that many members get them attached, larger ones come without.
    pub(crate) fn bodies(
        &mut self,
        kind: ResourceKind,
        rows: &[postgres::Row],
        members: Option<usize>,
    ) -> Result<Vec<Value>, StoreError> {
        let mut found = Vec::with_capacity(rows.len());
        let mut seqs = Vec::new();
        for row in rows {
            let seq: i64 = row.try_get(2).map_err(|e| self.error(&e))?;
            found.push((seq, body_of(kind, row, 0)?));
        }
        if kind != ResourceKind::Group {
            return Ok(found.into_iter().map(|(_, v)| v).collect());
        }
        let cap = members.unwrap_or(0);
        if members.is_some() {
            if cap == usize::MAX {
                seqs = found.iter().map(|(seq, _)| *seq).collect();
            } else {
                let all: Vec<i64> = found.iter().map(|(seq, _)| *seq).collect();
                let counted = self.run(|c| {
                    c.query_typed(
                        "SELECT seq, member_count FROM fedkit_scim_resources WHERE seq = ANY($1)",
                        &[(&all, Type::INT8_ARRAY)],
                    )
                })?;
                for row in counted {
                    let seq: i64 = row.try_get(0).map_err(|e| self.error(&e))?;
                    let n: i64 = row.try_get(1).map_err(|e| self.error(&e))?;
                    if usize::try_from(n).unwrap_or(usize::MAX) <= cap {
                        seqs.push(seq);
                    }
                }
            }
        }
        let mut by_group = self.members_by_group(&seqs)?;
        let with: HashSet<i64> = seqs.into_iter().collect();
        Ok(found
            .into_iter()
            .map(|(seq, mut v)| {
                if with.contains(&seq) {
                    attach_members(&mut v, by_group.remove(&seq).unwrap_or_default());
                } else {
                    drop_members(&mut v);
                }
                v
            })
            .collect())
    }

    /// Runs a page's count statement (`$1` tenant, `$2` kind, `$3` group): its first
    /// column, and its second when it has one (else 0).
    pub(crate) fn page_counts(
        &mut self,
        sql: &str,
        tenant: &str,
        kind: ResourceKind,
        group_seq: i64,
        filter: &[String],
    ) -> Result<(i64, i64), StoreError> {
        let mut params: Vec<(&(dyn ToSql + Sync), Type)> = vec![
            (&tenant, Type::TEXT),
            (kind_name(kind), Type::TEXT),
            (&group_seq, Type::INT8),
        ];
        params.extend(filter.iter().map(|p| (p as &(dyn ToSql + Sync), Type::TEXT)));
        let row = self.run(|c| c.query_typed_one(sql, &params))?;
        let total: i64 = row.try_get(0).map_err(|e| self.error(&e))?;
        let second = if row.len() > 1 {
            row.try_get(1).map_err(|e| self.error(&e))?
        } else {
            0
        };
        Ok((total, second))
    }

    /// Runs a page's row statement (`$1`–`$3` as [`Self::page_counts`], `$4` limit, `$5`
    /// offset).
    pub(crate) fn page_rows(
        &mut self,
        sql: &str,
        kind: ResourceKind,
        group_seq: i64,
        limit: i64,
        offset: i64,
        filter: &[String],
    ) -> Result<Vec<postgres::Row>, StoreError> {
        let tenant = self.tenant.clone();
        let mut params: Vec<(&(dyn ToSql + Sync), Type)> = vec![
            (&tenant, Type::TEXT),
            (kind_name(kind), Type::TEXT),
            (&group_seq, Type::INT8),
            (&limit, Type::INT8),
            (&offset, Type::INT8),
        ];
        params.extend(filter.iter().map(|p| (p as &(dyn ToSql + Sync), Type::TEXT)));
        self.run(|c| c.query_typed(sql, &params))
    }
}
