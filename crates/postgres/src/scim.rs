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
//! * `fedkit_scim_members(group_seq, tenant, member_key)`: the SHA-256 of each group's
//!   `members[].value`, indexed by `(tenant, member_key)` for
//!   [`Transaction::memberships`].
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

mod pushdown;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use fedkit_scim::filter::Filter;
use fedkit_scim_service::auth::TenantId;
use fedkit_scim_service::store::{
    member_ids, user_name_key, Membership, ResourceKind, Store, StoreError, Transaction,
};
use postgres::error::SqlState;
use postgres::types::{ToSql, Type};
use postgres::Client;
use serde_json::Value;

use crate::migrate::{self, Step};
use crate::pool::{Pool, PoolConfig, PoolError, PooledClient};
use pushdown::{index_form, indexed_values, PushDown};

/// How long a write waits for a row another transaction holds, by default.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// Longest resource id accepted, in bytes (the handler's ids are 36-byte UUIDs). Longer
/// ids, and ids holding U+0000, are refused with [`StoreError::MalformedResource`] and are
/// never found.
pub const MAX_ID_BYTES: usize = 1024;

/// How many resources [`PgStore::import`] writes per statement.
const IMPORT_BATCH: usize = 1000;

/// The schema migrations of the SCIM store (append-only).
const STEPS: &[Step] = &[Step {
    version: 1,
    description: "SCIM resources, indexed values, group members",
    sql: "CREATE TABLE fedkit_scim_resources (
              seq bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
              tenant text NOT NULL,
              kind text NOT NULL CHECK (kind IN ('User', 'Group')),
              id text COLLATE \"C\" NOT NULL,
              user_name_key bytea,
              display_name text,
              body jsonb,
              body_json json,
              CHECK ((body IS NULL) <> (body_json IS NULL))
          );
          CREATE UNIQUE INDEX fedkit_scim_resources_id ON fedkit_scim_resources (tenant, kind, id);
          CREATE UNIQUE INDEX fedkit_scim_resources_user_name
              ON fedkit_scim_resources (tenant, user_name_key);
          CREATE INDEX fedkit_scim_resources_order ON fedkit_scim_resources (tenant, kind, seq);
          CREATE TABLE fedkit_scim_values (
              seq bigint NOT NULL,
              tenant text NOT NULL,
              kind text NOT NULL,
              attr smallint NOT NULL,
              v text COLLATE \"C\",
              cut boolean NOT NULL
          );
          CREATE INDEX fedkit_scim_values_lookup
              ON fedkit_scim_values (tenant, kind, attr, v) INCLUDE (seq, cut);
          CREATE INDEX fedkit_scim_values_owner ON fedkit_scim_values (seq);
          CREATE TABLE fedkit_scim_members (
              group_seq bigint NOT NULL,
              tenant text NOT NULL,
              member_key bytea NOT NULL
          );
          CREATE INDEX fedkit_scim_members_member ON fedkit_scim_members (tenant, member_key);
          CREATE INDEX fedkit_scim_members_group ON fedkit_scim_members (group_seq);",
}];

/// Unique index names, to tell a duplicate id from a `userName` clash.
const ID_INDEX: &str = "fedkit_scim_resources_id";
const USER_NAME_INDEX: &str = "fedkit_scim_resources_user_name";

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

// ---------------------------------------------------------------------------------------------
// Errors.

/// Whether `e` means the connection is gone (so the same statement on another connection
/// may succeed).
fn connection_lost(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.code() {
        // Class 08 (connection exception) and the server shutting down or starting up.
        Some(code) => {
            code.code().starts_with("08")
                || *code == SqlState::ADMIN_SHUTDOWN
                || *code == SqlState::CRASH_SHUTDOWN
                || *code == SqlState::CANNOT_CONNECT_NOW
        }
        // Not an error the server sent: I/O on the socket failed.
        None => e.as_db_error().is_none(),
    }
}

/// A driver error as a [`StoreError`] naming the server (`target`: host and port, never the
/// password). Conflicts PostgreSQL resolved by aborting a transaction are
/// [`StoreError::Busy`]; everything else is [`StoreError::Backend`].
fn pg_error(target: &str, e: &postgres::Error) -> StoreError {
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        let message = db.message();
        if *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED {
            return StoreError::Busy {
                detail: format!(
                    "PostgreSQL at {target} aborted this transaction to resolve a conflict with a concurrent one ({message})"
                ),
            };
        }
        if *code == SqlState::LOCK_NOT_AVAILABLE || *code == SqlState::QUERY_CANCELED {
            return StoreError::Busy {
                detail: format!(
                    "another request held the same SCIM resource at PostgreSQL {target} for longer than the lock timeout ({message})"
                ),
            };
        }
        if connection_lost(e) {
            return StoreError::Backend {
                detail: format!(
                    "PostgreSQL at {target} is shutting down or restarting ({message}); the request was not applied, retry when it is back"
                ),
            };
        }
        return StoreError::Backend {
            detail: format!(
                "PostgreSQL at {target} refused a statement: {message} (SQLSTATE {})",
                code.code()
            ),
        };
    }
    if connection_lost(e) {
        return StoreError::Backend {
            detail: format!(
                "lost the connection to PostgreSQL at {target} ({e}); check that the server is running and reachable"
            ),
        };
    }
    StoreError::Backend {
        detail: format!("PostgreSQL at {target}: {e}"),
    }
}

fn pool_error(e: PoolError) -> StoreError {
    match e {
        PoolError::Timeout { .. } => StoreError::Busy {
            detail: e.to_string(),
        },
        other => StoreError::Backend {
            detail: other.to_string(),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// The store.

impl PgStore {
    /// Connects a pool with the default [`PoolConfig`] to `url` (`postgres://user:password@host:port/db`
    /// or the `key=value` form) and sets up the schema (see [`PgStore::new`]).
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = Pool::connect(url, PoolConfig::default()).map_err(pool_error)?;
        Self::new(Arc::new(pool))
    }

    /// A store over `pool` (which the SAML caches of this crate can share). Checks that the
    /// database is UTF-8 and applies the missing schema migrations.
    pub fn new(pool: Arc<Pool>) -> Result<Self, StoreError> {
        {
            let target = pool.target().to_owned();
            let mut client = pool.get().map_err(pool_error)?;
            let encoding: String = client
                .query_one("SELECT current_setting('server_encoding')", &[])
                .and_then(|row| row.try_get(0))
                .map_err(|e| pg_error(&target, &e))?;
            if encoding != "UTF8" {
                return Err(StoreError::Backend {
                    detail: format!(
                        "the database at {target} uses the {encoding} encoding; the SCIM store needs UTF8 \
                         (create the database with ENCODING 'UTF8')"
                    ),
                });
            }
            migrate::apply(&mut client, "scim", STEPS).map_err(|e| match pg_error(&target, &e) {
                StoreError::Backend { detail } => StoreError::Backend {
                    detail: format!("cannot set up the SCIM tables: {detail}"),
                },
                other => other,
            })?;
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
                Ok(()) => {
                    return Ok(PgTransaction {
                        store: self,
                        client: Some(client),
                        tenant: tenant.as_str().to_owned(),
                        read_only,
                        committed: false,
                        failed: false,
                        found: Vec::new(),
                        positions: None,
                        member_cache: HashMap::new(),
                    })
                }
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

impl Store for PgStore {
    fn begin(&self, tenant: &TenantId) -> Result<Box<dyn Transaction + '_>, StoreError> {
        Ok(Box::new(self.open(tenant, false)?))
    }

    fn begin_read(&self, tenant: &TenantId) -> Result<Box<dyn Transaction + '_>, StoreError> {
        Ok(Box::new(self.open(tenant, true)?))
    }
}

/// The SQL of [`Transaction::find`] and the values of its parameters after `$1` (tenant)
/// and `$2` (kind).
fn find_query(kind: ResourceKind, filter: Option<&Filter>) -> (String, Vec<String>) {
    let mut sql = String::from(
        "SELECT r.body, r.body_json FROM fedkit_scim_resources r WHERE r.tenant = $1 AND r.kind = $2",
    );
    let cond = filter.and_then(|f| PushDown::translate(kind, f));
    let mut values = Vec::new();
    if let Some(cond) = cond {
        sql.push_str(" AND r.seq IN (");
        sql.push_str(&cond.numbered());
        sql.push(')');
        values = cond.params;
    }
    sql.push_str(" ORDER BY r.seq");
    (sql, values)
}

/// The parameters of [`find_query`], typed (every one is `text`).
fn find_params<'a>(
    tenant: &'a String,
    kind: ResourceKind,
    values: &'a [String],
) -> Vec<(&'a (dyn ToSql + Sync), Type)> {
    let mut params: Vec<(&(dyn ToSql + Sync), Type)> =
        vec![(tenant, Type::TEXT), (kind_name(kind), Type::TEXT)];
    params.extend(values.iter().map(|p| (p as &(dyn ToSql + Sync), Type::TEXT)));
    params
}

/// `kind.name()` as a `'static` reference to a `&str` (a bind parameter).
fn kind_name(kind: ResourceKind) -> &'static &'static str {
    match kind {
        ResourceKind::Group => &"Group",
        _ => &"User",
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers over resources.

/// The `id` of a resource, if the store can keep it.
fn checked_id(resource: &Value) -> Result<&str, StoreError> {
    resource
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| storable_id(id))
        .ok_or(StoreError::MalformedResource)
}

/// Ids are compared exactly, so they are stored as they are: no U+0000, bounded length.
fn storable_id(id: &str) -> bool {
    id.len() <= MAX_ID_BYTES && !id.contains('\0')
}

fn display_name(resource: &Value) -> Option<&str> {
    resource
        .as_object()
        .and_then(|o| fedkit_scim::resource::get_attr(o, "displayName"))
        .and_then(Value::as_str)
}

/// Whether any string or key of `v` holds U+0000 (which JSONB cannot store).
fn holds_nul(v: &Value) -> bool {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) => {
                if s.contains('\0') {
                    return true;
                }
            }
            Value::Array(items) => stack.extend(items),
            Value::Object(m) => {
                if m.keys().any(|k| k.contains('\0')) {
                    return true;
                }
                stack.extend(m.values());
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
    false
}

/// The document from a row's `body` (JSONB) or `body_json` (JSON) column.
fn body_of(kind: ResourceKind, row: &postgres::Row, first: usize) -> Result<Value, StoreError> {
    let broken = |e: postgres::Error| StoreError::Backend {
        detail: format!(
            "a stored {} cannot be read ({e}); was the database changed outside fedkit?",
            kind.name()
        ),
    };
    let body: Option<Value> = row.try_get(first).map_err(broken)?;
    let raw: Option<Value> = row.try_get(first + 1).map_err(broken)?;
    body.or(raw).ok_or_else(|| StoreError::Backend {
        detail: format!(
            "a stored {} has no body; was the database changed outside fedkit?",
            kind.name()
        ),
    })
}

/// The column values of resources about to be written, as arrays for `unnest`.
#[derive(Default)]
struct Rows<'v> {
    ids: Vec<&'v str>,
    user_names: Vec<Option<Vec<u8>>>,
    displays: Vec<Option<String>>,
    bodies: Vec<Option<&'v Value>>,
    raw_bodies: Vec<Option<&'v Value>>,
    value_ids: Vec<&'v str>,
    value_attrs: Vec<i16>,
    values: Vec<Option<String>>,
    value_cuts: Vec<bool>,
    member_ids: Vec<&'v str>,
    member_keys: Vec<Vec<u8>>,
}

impl<'v> Rows<'v> {
    fn build(kind: ResourceKind, resources: &'v [Value]) -> Result<Self, StoreError> {
        let mut rows = Rows::default();
        for r in resources {
            let id = checked_id(r)?;
            rows.ids.push(id);
            rows.user_names.push(match kind {
                ResourceKind::User => user_name_key(r).map(String::into_bytes),
                _ => None,
            });
            rows.displays.push(display_name(r).map(index_form));
            if holds_nul(r) {
                rows.bodies.push(None);
                rows.raw_bodies.push(Some(r));
            } else {
                rows.bodies.push(Some(r));
                rows.raw_bodies.push(None);
            }
            for row in indexed_values(kind, r) {
                rows.value_ids.push(id);
                rows.value_attrs.push(pushdown::code(row.attr));
                rows.values.push(row.value);
                rows.value_cuts.push(row.cut);
            }
            if kind == ResourceKind::Group {
                let distinct: BTreeSet<&str> = member_ids(r).into_iter().collect();
                for m in distinct {
                    rows.member_ids.push(id);
                    rows.member_keys.push(m.as_bytes().to_vec());
                }
            }
        }
        Ok(rows)
    }
}

// ---------------------------------------------------------------------------------------------
// Transactions.

fn released() -> StoreError {
    StoreError::Backend {
        detail: "the PostgreSQL transaction has already released its connection".into(),
    }
}

struct PgTransaction<'s> {
    store: &'s PgStore,
    /// `Some` until dropped.
    client: Option<PooledClient<'s>>,
    tenant: String,
    /// From [`Store::begin_read`].
    read_only: bool,
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

/// How many users of the last `find` result one membership lookup covers (a page).
const MEMBERSHIP_WINDOW: usize = 128;

const INSERT_SQL: &str = "WITH r AS (
        INSERT INTO fedkit_scim_resources (tenant, kind, id, user_name_key, display_name, body, body_json)
        SELECT $1, $2, x.id, sha256(x.un), x.dn, x.b, x.bj
        FROM unnest($3::text[], $4::bytea[], $5::text[], $6::jsonb[], $7::json[])
             WITH ORDINALITY AS x(id, un, dn, b, bj, n)
        ORDER BY x.n
        RETURNING seq, id
    ), v AS (
        INSERT INTO fedkit_scim_values (seq, tenant, kind, attr, v, cut)
        SELECT r.seq, $1, $2, y.a, y.v, y.c
        FROM unnest($8::text[], $9::smallint[], $10::text[], $11::boolean[]) AS y(id, a, v, c)
        JOIN r ON r.id = y.id
    ), m AS (
        INSERT INTO fedkit_scim_members (group_seq, tenant, member_key)
        SELECT r.seq, $1, sha256(z.m)
        FROM unnest($12::text[], $13::bytea[]) AS z(id, m)
        JOIN r ON r.id = z.id
    )
    SELECT count(*) FROM r";

const UPDATE_SQL: &str = "WITH r AS (
        UPDATE fedkit_scim_resources
        SET user_name_key = sha256($4::bytea), display_name = $5, body = $6, body_json = $7
        WHERE tenant = $1 AND kind = $2 AND id = $3
        RETURNING seq
    ), dv AS (
        DELETE FROM fedkit_scim_values WHERE seq IN (SELECT seq FROM r)
    ), dm AS (
        DELETE FROM fedkit_scim_members WHERE group_seq IN (SELECT seq FROM r)
    ), v AS (
        INSERT INTO fedkit_scim_values (seq, tenant, kind, attr, v, cut)
        SELECT r.seq, $1, $2, y.a, y.v, y.c
        FROM r, unnest($8::smallint[], $9::text[], $10::boolean[]) AS y(a, v, c)
    ), m AS (
        INSERT INTO fedkit_scim_members (group_seq, tenant, member_key)
        SELECT r.seq, $1, sha256(z.m)
        FROM r, unnest($11::bytea[]) AS z(m)
    )
    SELECT count(*) FROM r";

const DELETE_SQL: &str = "WITH r AS (
        DELETE FROM fedkit_scim_resources WHERE tenant = $1 AND kind = $2 AND id = $3
        RETURNING seq
    ), dv AS (
        DELETE FROM fedkit_scim_values WHERE seq IN (SELECT seq FROM r)
    ), dm AS (
        DELETE FROM fedkit_scim_members WHERE group_seq IN (SELECT seq FROM r)
    )
    SELECT count(*) FROM r";

impl PgTransaction<'_> {
    fn target(&self) -> &str {
        self.store.pool.target()
    }

    fn error(&self, e: &postgres::Error) -> StoreError {
        self.store.error(e)
    }

    /// Runs one statement outside a savepoint; a failure marks the transaction failed.
    fn run<T>(&mut self, f: impl FnOnce(&mut Client) -> Result<T, postgres::Error>) -> Result<T, StoreError> {
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

    /// Refuses a write in a transaction from [`Store::begin_read`].
    fn writable(&self) -> Result<(), StoreError> {
        if self.read_only {
            return Err(StoreError::Backend {
                detail: "a write was attempted in a read-only transaction (Store::begin_read)".into(),
            });
        }
        Ok(())
    }

    /// Runs `f` inside a savepoint: all of its writes or none, and the transaction stays
    /// usable after an error (PostgreSQL otherwise refuses every later statement).
    fn atomically<T>(
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

    /// Writes new resources and their index rows (one statement).
    fn insert_rows(
        &self,
        client: &mut Client,
        kind: ResourceKind,
        resources: &[Value],
    ) -> Result<(), StoreError> {
        let rows = Rows::build(kind, resources)?;
        let params: [(&(dyn ToSql + Sync), Type); 13] = [
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
            (&rows.member_ids, Type::TEXT_ARRAY),
            (&rows.member_keys, Type::BYTEA_ARRAY),
        ];
        match client.query_typed_one(INSERT_SQL, &params) {
            Ok(_) => Ok(()),
            Err(e) => Err(self.unique_error(client, kind, &rows, &e)),
        }
    }

    /// A unique violation as [`StoreError::DuplicateId`] / [`StoreError::Conflict`] naming
    /// the clashing value (looked up when several resources were written at once).
    fn unique_error(
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

    /// The memberships of `wanted`, read from the database.
    fn read_memberships(&mut self, wanted: &BTreeSet<&str>) -> Result<Vec<Membership>, StoreError> {
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<&[u8]> = wanted.iter().map(|m| m.as_bytes()).collect();
        let tenant = self.tenant.clone();
        let rows = self.run(|c| {
            c.query_typed(
                "SELECT x.m, r.id, r.display_name, r.seq
                 FROM unnest($2::bytea[]) AS x(m)
                 JOIN fedkit_scim_members sm ON sm.tenant = $1 AND sm.member_key = sha256(x.m)
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
    fn exact_display(&mut self, seq: i64, column: Option<String>) -> Result<Option<String>, StoreError> {
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
}

impl Transaction for PgTransaction<'_> {
    fn get(&mut self, kind: ResourceKind, id: &str) -> Result<Option<Value>, StoreError> {
        if !storable_id(id) {
            return Ok(None);
        }
        // In a write transaction, the row stays locked until the end: see the module docs.
        let sql = if self.read_only {
            "SELECT body, body_json FROM fedkit_scim_resources WHERE tenant = $1 AND kind = $2 AND id = $3"
        } else {
            "SELECT body, body_json FROM fedkit_scim_resources WHERE tenant = $1 AND kind = $2 AND id = $3
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
        row.map(|row| body_of(kind, &row, 0)).transpose()
    }

    fn find(&mut self, kind: ResourceKind, filter: Option<&Filter>) -> Result<Vec<Value>, StoreError> {
        let (sql, values) = find_query(kind, filter);
        let tenant = self.tenant.clone();
        let params = find_params(&tenant, kind, &values);
        let rows = self.run(|c| c.query_typed(&sql, &params))?;
        let found: Vec<Value> = rows
            .iter()
            .map(|row| body_of(kind, row, 0))
            .collect::<Result<_, _>>()?;
        if self.read_only && kind == ResourceKind::User {
            self.found = found
                .iter()
                .filter_map(|r| r.get("id").and_then(Value::as_str).map(str::to_owned))
                .collect();
            self.positions = None;
        }
        Ok(found)
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
        if !storable_id(id) {
            return Err(StoreError::NotFound {
                kind: kind.name(),
                id: id.to_owned(),
            });
        }
        let rows = Rows::build(kind, std::slice::from_ref(resource))?;
        let user_name: Option<&Vec<u8>> = rows.user_names.first().and_then(Option::as_ref);
        let display = rows.displays.first().cloned().flatten();
        let body = rows.bodies.first().copied().flatten();
        let raw = rows.raw_bodies.first().copied().flatten();
        let updated = self.atomically(|tx, client| {
            let params: [(&(dyn ToSql + Sync), Type); 11] = [
                (&tx.tenant, Type::TEXT),
                (kind_name(kind), Type::TEXT),
                (&id, Type::TEXT),
                (&user_name, Type::BYTEA),
                (&display, Type::TEXT),
                (&body, Type::JSONB),
                (&raw, Type::JSON),
                (&rows.value_attrs, Type::INT2_ARRAY),
                (&rows.values, Type::TEXT_ARRAY),
                (&rows.value_cuts, Type::BOOL_ARRAY),
                (&rows.member_keys, Type::BYTEA_ARRAY),
            ];
            let row = client
                .query_typed_one(UPDATE_SQL, &params)
                .map_err(|e| tx.unique_error(client, kind, &rows, &e))?;
            row.try_get::<_, i64>(0).map_err(|e| tx.error(&e))
        })?;
        if updated == 0 {
            return Err(StoreError::NotFound {
                kind: kind.name(),
                id: id.to_owned(),
            });
        }
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
