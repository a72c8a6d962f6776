//! The writes of a [`PgTransaction`]: new resources with their index and member rows, a
//! resource's attributes, and unique violations told apart (duplicate id or `userName`).

use fedkit_scim_service::store::{split_members, ResourceKind, StoreError};
use postgres::error::SqlState;
use postgres::types::{ToSql, Type};
use postgres::Client;
use serde_json::Value;

use super::rows::{checked_id, MemberRows, Rows};
use super::schema::{ID_INDEX, USER_NAME_INDEX};
use super::sql::{kind_name, INSERT_SQL, UPDATE_SQL};
use super::tx::PgTransaction;

impl PgTransaction<'_> {
    /// Writes new resources and their index rows (one statement).
    pub(crate) fn insert_rows(
        &self,
        client: &mut Client,
        kind: ResourceKind,
        resources: &[Value],
    ) -> Result<(), StoreError> {
        let mut members = MemberRows::default();
        let mut counts = Vec::new();
        let stored: std::borrow::Cow<'_, [Value]> = if kind == ResourceKind::Group {
            let mut bodies = Vec::with_capacity(resources.len());
            for r in resources {
                let id = checked_id(r)?;
                let (body, list) = split_members(r);
                counts.push(list.len() as i64);
                for (mid, m) in &list {
                    members.push(id, mid, m);
                }
                bodies.push(body);
            }
            std::borrow::Cow::Owned(bodies)
        } else {
            counts.resize(resources.len(), 0);
            std::borrow::Cow::Borrowed(resources)
        };
        let mut rows = Rows::build(kind, &stored)?;
        rows.member_counts = counts;
        let params: [(&(dyn ToSql + Sync), Type); 18] = [
            (&self.tenant, Type::TEXT),
            (kind_name(kind), Type::TEXT),
            (&rows.ids, Type::TEXT_ARRAY),
            (&rows.user_names, Type::BYTEA_ARRAY),
            (&rows.displays, Type::TEXT_ARRAY),
            (&rows.bodies, Type::JSONB_ARRAY),
            (&rows.raw_bodies, Type::JSON_ARRAY),
            (&rows.value_ids, Type::TEXT_ARRAY),
            (&rows.value_attrs, Type::INT2_ARRAY),
            (&rows.values, Type::TEXT_ARRAY),
            (&rows.value_cuts, Type::BOOL_ARRAY),
            (&rows.member_counts, Type::INT8_ARRAY),
            (&members.group_ids, Type::TEXT_ARRAY),
            (&members.keys, Type::BYTEA_ARRAY),
            (&members.vs, Type::TEXT_ARRAY),
            (&members.cuts, Type::BOOL_ARRAY),
            (&members.bodies, Type::JSONB_ARRAY),
            (&members.raw_bodies, Type::JSON_ARRAY),
        ];
        match client.query_typed_one(INSERT_SQL, &params) {
            Ok(_) => Ok(()),
            Err(e) => Err(self.unique_error(client, kind, &rows, &e)),
        }
    }

    /// A unique violation as [`StoreError::DuplicateId`] / [`StoreError::Conflict`] naming
    /// the clashing value (looked up when several resources were written at once).
    pub(crate) fn unique_error(
        &self,
        client: &mut Client,
        kind: ResourceKind,
        rows: &Rows<'_>,
        e: &postgres::Error,
    ) -> StoreError {
        let Some(db) = e
            .as_db_error()
            .filter(|db| *db.code() == SqlState::UNIQUE_VIOLATION)
        else {
            return self.error(e);
        };
        // The failed statement aborted the transaction: undo it (this runs inside
        // `atomically`, whose savepoint stays defined) before looking the clash up. If the
        // lookup fails, `atomically` rolls back to the savepoint again.
        let mut lookup = |sql: &str, params: &[&(dyn ToSql + Sync)]| -> Option<String> {
            client.batch_execute("ROLLBACK TO SAVEPOINT fedkit_write").ok()?;
            client.query_opt(sql, params).ok().flatten().and_then(|row| {
                row.try_get::<_, String>(0).ok().or_else(|| {
                    row.try_get::<_, Vec<u8>>(0)
                        .ok()
                        .and_then(|b| String::from_utf8(b).ok())
                })
            })
        };
        match db.constraint() {
            Some(ID_INDEX) => {
                let id = match rows.ids.as_slice() {
                    [one] => Some((*one).to_owned()),
                    _ => None,
                }
                .or_else(|| {
                    lookup(
                        "SELECT id FROM fedkit_scim_resources WHERE tenant = $1 AND kind = $2 AND id = ANY($3) LIMIT 1",
                        &[&self.tenant, &kind.name(), &rows.ids],
                    )
                });
                StoreError::DuplicateId {
                    kind: kind.name(),
                    id: id.unwrap_or_default(),
                }
            }
            Some(USER_NAME_INDEX) => {
                let name = match rows.user_names.as_slice() {
                    [Some(one)] => String::from_utf8(one.clone()).ok(),
                    _ => None,
                }
                .or_else(|| {
                    lookup(
                        "SELECT x.n FROM unnest($2::bytea[]) AS x(n) WHERE EXISTS (
                             SELECT 1 FROM fedkit_scim_resources
                             WHERE tenant = $1 AND user_name_key = sha256(x.n)) LIMIT 1",
                        &[&self.tenant, &rows.user_names],
                    )
                });
                StoreError::Conflict {
                    kind: kind.name(),
                    attribute: "userName",
                    value: name.unwrap_or_default(),
                }
            }
            _ => self.error(e),
        }
    }

    /// Writes a resource's attributes (the stored body: for a group, its members taken out).
    pub(crate) fn write_attributes(
        &mut self,
        kind: ResourceKind,
        id: &str,
        body: &Value,
    ) -> Result<Option<i64>, StoreError> {
        let rows = Rows::build(kind, std::slice::from_ref(body))?;
        let user_name: Option<&Vec<u8>> = rows.user_names.first().and_then(Option::as_ref);
        let display = rows.displays.first().cloned().flatten();
        let jsonb = rows.bodies.first().copied().flatten();
        let raw = rows.raw_bodies.first().copied().flatten();
        self.atomically(|tx, client| {
            let params: [(&(dyn ToSql + Sync), Type); 10] = [
                (&tx.tenant, Type::TEXT),
                (kind_name(kind), Type::TEXT),
                (&id, Type::TEXT),
                (&user_name, Type::BYTEA),
                (&display, Type::TEXT),
                (&jsonb, Type::JSONB),
                (&raw, Type::JSON),
                (&rows.value_attrs, Type::INT2_ARRAY),
                (&rows.values, Type::TEXT_ARRAY),
                (&rows.value_cuts, Type::BOOL_ARRAY),
            ];
            let row = client
                .query_typed_opt(UPDATE_SQL, &params)
                .map_err(|e| tx.unique_error(client, kind, &rows, &e))?;
            row.map(|r| r.try_get::<_, i64>(0).map_err(|e| tx.error(&e)))
                .transpose()
        })
    }
}
