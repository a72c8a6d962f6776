//! The SCIM [`Store`] on PostgreSQL: [`PgStore`], shared by every app server (node) that
//! points at the same database.
//!
//! # Schema
//!
//! Created on [`PgStore::new`] by the crate's migrations (component `scim`, recorded in
//! `fedkit_migrations`, applied once under an advisory lock however many nodes start at
//! once), in the first schema of the connection's `search_path`:
//!
//! * `fedkit_scim_resources(seq, tenant, kind, id, user_name_key, display_name, body,
//!   body_json)`: one row per resource. `body` is the document as JSONB, exactly as the
//!   handler gave it; a document holding U+0000 (valid JSON, refused by JSONB) goes to the
//!   `json` column `body_json` instead, byte for byte. `seq` grows with every insert, so
//!   ordering by it is creation order; an update keeps it. `(tenant, kind, id)` is unique;
//!   so is `(tenant, user_name_key)`, the SHA-256 of the lowercased `userName` of a user
//!   ([`StoreError::Conflict`] on a clash; a digest, so a `userName` of any length and
//!   content fits the index). `display_name` answers [`Transaction::memberships`].
//! * `fedkit_scim_values(seq, tenant, kind, attr, v, cut)`: the indexed leaf values of
//!   `userName`, `externalId`, `displayName`, `emails.value` (users) and `members.value`
//!   (groups), lowercased except caseExact `externalId`, in the `C` collation (so `LIKE
//!   'prefix%'` uses the B-tree index), indexed on `(tenant, kind, attr, v)`.
//! * `fedkit_scim_group_members(ord, group_seq, tenant, member_key, v, cut, member,
//!   member_json)` (step 2): one row per member of a group with a string `value`, `member`
//!   the member object as JSONB (`member_json` when it holds U+0000), `member_key` the
//!   SHA-256 of the value (unique per group; indexed by `(tenant, member_key)` for
//!   [`Transaction::memberships`] and a user's deletion), `v`/`cut` the value in index form
//!   as in `fedkit_scim_values` (indexed by `(tenant, v)` for pushed-down `members.value`
//!   filters), `ord` the order members were added. A group's stored body keeps its
//!   `members` attribute without those members; `fedkit_scim_resources.member_count` counts
//!   them. Step 1's `fedkit_scim_members` is converted and dropped by the first node that
//!   starts (see `docs/scale.md`, "Migrations").
//!
//! A member change ([`Transaction::add_members`], [`Transaction::remove_members`],
//! [`Transaction::remove_from_all_groups`]) writes one row per member concerned; an update
//! of a group diffs its member rows. [`Transaction::find_page`] pages lists without filter,
//! and `groups.value eq` on users, with `LIMIT`/`OFFSET`, in creation order or by
//! `userName` (see below); filtered lists go back to [`Transaction::find`].
//!
//! * `fedkit_scim_resources.user_name_sort` (step 3): a user's lowercased `userName` as
//!   UTF-8 bytes ([`user_name_key`], the key `SqliteStore` sorts by), set by every write and
//!   filled for the users stored before step 3 by the first node that starts. Indexed on
//!   `(tenant, kind, substring(user_name_sort FROM 1 FOR 1024))`: a prefix, since a
//!   `userName` may be longer than a B-tree entry; bytes compare as code points, so the
//!   prefix's order is the key's order and ties within a prefix are sorted on the whole key.
//!   A page sorted by `userName` ([`PgStore::explain_page`] shows the plan) reads the users
//!   with a name in key order (ascending or descending) through that index, then those
//!   without one (or with `""`) in creation order, last in both directions, as
//!   [`fedkit_scim::list::sort_resources`] orders them: `offset + limit` rows, not the
//!   directory.
//!
//! Every write of a resource and of its index rows is one SQL statement, inside a savepoint,
//! so a failed write leaves nothing half-done even if the caller goes on and commits.
//!
//! # Filter push-down
//!
//! [`Transaction::find`] translates the filter with the core crate's filter
//! [`Visitor`](fedkit_scim::filter::Visitor) into a query over the indexes whose values are
//! always bind parameters (`$n`). Pushed down: `eq`, `sw`, `co`, `ew` with a string literal
//! and `pr`, on `id`, `userName`, `externalId`, `displayName`, `emails.value` (also
//! `emails` and `emails[value …]`) and `members.value` (also `members`, `members[value …]`);
//! `and` (one translatable side is enough) and `or` (both sides needed). Everything else
//! (`not`, `ne`, ordering operators, other attributes, URN-qualified paths, `null`, boolean
//! and number literals) adds no condition, so more rows come back: the result is always a
//! superset of the matches, and the handler evaluates the filter exactly. See the crate
//! README for the table and for which of these are index lookups and which are scans.
//!
//! # Concurrency
//!
//! Each transaction holds one pooled connection from [`Store::begin`] to commit or drop.
//! Write transactions run in `READ COMMITTED` and [`Transaction::get`] locks the row it
//! returns (`SELECT … FOR NO KEY UPDATE`) until the end of the transaction. The handler's
//! read-modify-write (read, check `If-Match`, write) therefore runs one at a time per
//! resource across every node: the second request waits for the first to commit, then reads
//! the *new* version, and its `If-Match` fails (412) instead of overwriting the first
//! write. A lock held longer than the lock timeout (5 s by default,
//! [`PgStore::with_lock_timeout`]) fails the waiting request with [`StoreError::Busy`]
//! (503 with `Retry-After`), as does a deadlock PostgreSQL breaks.
//!
//! Read-only requests use [`Store::begin_read`]: a `REPEATABLE READ READ ONLY`
//! transaction, one consistent snapshot that never waits for writers; it refuses writes.

// Where things are: this file holds the public API (`PgStore`); `schema` the tables, their
// migrations and one-time data steps; `tx` the `Transaction` implementation, with its reads
// (`read`), writes (`write`) and group members (`members`) beside it; `sql` the statement
// texts; `pushdown` the filter translation; `rows` the column values of resources; `error`
// how driver and pool errors become `StoreError`s.

mod error;
mod members;
#[cfg(test)]
mod migration_tests;
mod pushdown;
mod read;
mod rows;
mod schema;
mod sql;
mod tx;
mod write;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use fedkit_scim::filter::Filter;
use fedkit_scim_service::auth::TenantId;
use fedkit_scim_service::store::{user_name_key, ResourceKind, Store, StoreError, Transaction};
use postgres::types::{ToSql, Type};
use serde_json::Value;

use crate::pool::{Pool, PoolSettings};
use error::{connection_lost, pg_error, pool_error};
use pushdown::PushDown;
use rows::checked_id;
use sql::{find_params, find_query, kind_name, PageSql};
use tx::PgTransaction;

/// How long a write waits for a row another transaction holds, by default.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// Longest resource id accepted, in bytes (the handler's ids are 36-byte UUIDs). Longer
/// ids, and ids holding U+0000, are refused with [`StoreError::MalformedResource`] and are
/// never found.
pub const MAX_ID_BYTES: usize = 1024;

/// How many resources [`PgStore::import`] writes per statement.
const IMPORT_BATCH: usize = 1000;

/// A [`Store`] in a PostgreSQL database, shared by every node. See the
/// [module docs](self) for the schema, what is pushed down and concurrency, and the crate
/// README for a getting-started example.
pub struct PgStore {
    pool: Arc<Pool>,
    lock_timeout: Duration,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("pool", &self.pool)
            .field("lock_timeout", &self.lock_timeout)
            .finish()
    }
}

impl PgStore {
    /// Connects a pool with the default [`PoolSettings`] to `url`
    /// (`postgres://user:password@host:port/db` or the `key=value` form) and sets up the
    /// schema (see [`PgStore::new`]).
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = Pool::connect(url, PoolSettings::default()).map_err(pool_error)?;
        Self::new(Arc::new(pool))
    }

    /// A store over `pool` (which the SAML caches of this crate can share). Checks that the
    /// database is UTF-8 and applies the missing schema migrations.
    pub fn new(pool: Arc<Pool>) -> Result<Self, StoreError> {
        {
            let mut client = pool.get().map_err(pool_error)?;
            schema::set_up(&mut client, pool.target())?;
        }
        Ok(Self {
            pool,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
        })
    }

    /// How long a write waits for a resource another request is changing before
    /// [`StoreError::Busy`] (PostgreSQL's `lock_timeout`, per transaction). Default 5 s;
    /// rounded to whole milliseconds, at least 1.
    #[must_use]
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// The connection pool (to share with [`crate::saml`]'s caches).
    pub fn pool(&self) -> &Arc<Pool> {
        &self.pool
    }

    fn error(&self, e: &postgres::Error) -> StoreError {
        pg_error(self.pool.target(), e)
    }

    /// Opens a transaction on a pooled connection. A connection the server closed since it
    /// was last used (restart, idle timeout) fails its `BEGIN`; it is discarded and the next
    /// one tried, so a restarted database costs no request once it is back.
    fn open(&self, tenant: &TenantId, read_only: bool) -> Result<PgTransaction<'_>, StoreError> {
        let begin = if read_only {
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY".to_owned()
        } else {
            // A number this code computes, not input.
            format!(
                "BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE; SET LOCAL lock_timeout = {}",
                self.lock_timeout.as_millis().max(1)
            )
        };
        // Every stale connection of a full pool, and one fresh one.
        const ATTEMPTS: usize = 64;
        let mut last = None;
        for _ in 0..ATTEMPTS {
            let mut client = self.pool.get().map_err(pool_error)?;
            match client.batch_execute(&begin) {
                Ok(()) => return Ok(PgTransaction::new(self, client, tenant, read_only)),
                Err(e) if connection_lost(&e) => {
                    client.discard();
                    last = Some(self.error(&e));
                }
                Err(e) => {
                    let err = self.error(&e);
                    // Whatever state it is in, it is not one to hand out again.
                    client.discard();
                    return Err(err);
                }
            }
        }
        Err(last.unwrap_or_else(|| StoreError::Backend {
            detail: format!("no working connection to PostgreSQL at {}", self.pool.target()),
        }))
    }

    /// Stores many new resources of one kind for `tenant` in one transaction (all or
    /// nothing), in batches of 1000 per statement: the fast way to migrate a directory
    /// into the store (e.g. from `SqliteStore`, or a benchmark's million users). Each
    /// resource is indexed exactly as [`Transaction::insert`] would, and the same
    /// uniqueness rules apply ([`StoreError::DuplicateId`], [`StoreError::Conflict`]).
    /// Creation order is the order of `resources`. Returns how many were stored.
    pub fn import(
        &self,
        tenant: &TenantId,
        kind: ResourceKind,
        resources: &[Value],
    ) -> Result<usize, StoreError> {
        let mut ids = HashSet::new();
        let mut names = HashSet::new();
        for r in resources {
            let id = checked_id(r)?;
            if !ids.insert(id) {
                return Err(StoreError::DuplicateId {
                    kind: kind.name(),
                    id: id.to_owned(),
                });
            }
            if kind == ResourceKind::User {
                if let Some(name) = user_name_key(r) {
                    if !names.insert(name.clone()) {
                        return Err(StoreError::Conflict {
                            kind: kind.name(),
                            attribute: "userName",
                            value: name,
                        });
                    }
                }
            }
        }
        let mut tx = self.open(tenant, false)?;
        for batch in resources.chunks(IMPORT_BATCH) {
            tx.atomically(|tx, client| tx.insert_rows(client, kind, batch))?;
        }
        Box::new(tx).commit()?;
        Ok(resources.len())
    }
}

impl PgStore {
    /// PostgreSQL's plan (`EXPLAIN`, without running it) for the query
    /// [`Transaction::find`] sends for `filter`: for an operator checking whether a filter
    /// its IdP sends is an index lookup or a scan (see the README's push-down table).
    pub fn explain(
        &self,
        tenant: &TenantId,
        kind: ResourceKind,
        filter: Option<&Filter>,
    ) -> Result<String, StoreError> {
        let (sql, values) = find_query(kind, filter);
        let tenant = tenant.as_str().to_owned();
        let params = find_params(&tenant, kind, &values);
        let mut client = self.pool.get().map_err(pool_error)?;
        let rows = client
            .query_typed(&format!("EXPLAIN {sql}"), &params)
            .map_err(|e| self.error(&e))?;
        let lines: Result<Vec<String>, _> = rows.iter().map(|r| r.try_get::<_, String>(0)).collect();
        Ok(lines.map_err(|e| self.error(&e))?.join("\n"))
    }
}

impl PgStore {
    /// PostgreSQL's plans (`EXPLAIN`, without running them) for the row statements
    /// [`Transaction::find_page`] sends for a list of `kind`, unfiltered (`filter: None`) or
    /// filtered, in creation order (`sort_by_user_name: None`) or by `userName`
    /// (`Some(descending)`), `limit` rows from `offset`; separated by blank lines. Empty when
    /// `find_page` sends none: for a filter the indexes do not answer exactly (the handler
    /// then evaluates it). For checking that a sorted page reads the sort index rather than
    /// every user.
    pub fn explain_page(
        &self,
        tenant: &TenantId,
        kind: ResourceKind,
        sort_by_user_name: Option<bool>,
        filter: Option<&Filter>,
        offset: usize,
        limit: usize,
    ) -> Result<String, StoreError> {
        let cond = match filter {
            None => None,
            Some(f) => match PushDown::translate_exact(kind, f) {
                Some(cond) => Some(cond),
                None => return Ok(String::new()),
            },
        };
        let sql = PageSql::new(
            false,
            sort_by_user_name.filter(|_| kind == ResourceKind::User),
            cond.as_ref(),
        );
        let values: &[String] = cond.as_ref().map_or(&[], |c| c.params.as_slice());
        let tenant = tenant.as_str().to_owned();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let mut params: Vec<(&(dyn ToSql + Sync), Type)> = vec![
            (&tenant, Type::TEXT),
            (kind_name(kind), Type::TEXT),
            (&-1_i64, Type::INT8),
            (&limit, Type::INT8),
            (&offset, Type::INT8),
        ];
        params.extend(values.iter().map(|p| (p as &(dyn ToSql + Sync), Type::TEXT)));
        let mut client = self.pool.get().map_err(pool_error)?;
        let mut plans = Vec::new();
        for statement in std::iter::once(&sql.page).chain(sql.unnamed.as_ref()) {
            let rows = client
                .query_typed(&format!("EXPLAIN {statement}"), &params)
                .map_err(|e| self.error(&e))?;
            let lines: Result<Vec<String>, _> = rows.iter().map(|r| r.try_get::<_, String>(0)).collect();
            plans.push(lines.map_err(|e| self.error(&e))?.join("\n"));
        }
        Ok(plans.join("\n\n"))
    }
}

impl Store for PgStore {
    fn begin(&self, tenant: &TenantId) -> Result<Box<dyn Transaction + '_>, StoreError> {
        Ok(Box::new(self.open(tenant, false)?))
    }

    fn begin_read(&self, tenant: &TenantId) -> Result<Box<dyn Transaction + '_>, StoreError> {
        Ok(Box::new(self.open(tenant, true)?))
    }
}
