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

mod pushdown;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use fedkit_scim::filter::Filter;
use fedkit_scim_service::auth::TenantId;
use fedkit_scim_service::store::{
    attach_members, drop_members, member_value, split_members, user_name_key, Chunk, Membership, Page,
    PageQuery, ResourceKind, SortKey, Store, StoreError, Transaction,
};
use postgres::error::SqlState;
use postgres::types::{ToSql, Type};
use postgres::Client;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::migrate::{self, Step};
use crate::pool::{Pool, PoolConfig, PoolError, PooledClient};
use pushdown::{cut, index_form, indexed_values, Indexed, PushDown};

/// How long a write waits for a row another transaction holds, by default.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// Longest resource id accepted, in bytes (the handler's ids are 36-byte UUIDs). Longer
/// ids, and ids holding U+0000, are refused with [`StoreError::MalformedResource`] and are
/// never found.
pub const MAX_ID_BYTES: usize = 1024;

/// How many resources [`PgStore::import`] writes per statement.
const IMPORT_BATCH: usize = 1000;

/// The schema migrations of the SCIM store (append-only).
const STEPS: &[Step] = &[
    Step {
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
    },
    Step {
        version: 2,
        description: "SCIM group members as rows of their own, counted on the group",
        // The rows are filled (and fedkit_scim_members dropped) by `move_members_out`, in Rust:
        // the index form of a value is Rust's lowercasing, which SQL's lower() does not match.
        sql: "CREATE TABLE fedkit_scim_group_members (
              ord bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
              group_seq bigint NOT NULL,
              tenant text NOT NULL,
              member_key bytea NOT NULL,
              v text COLLATE \"C\" NOT NULL,
              cut boolean NOT NULL,
              member jsonb,
              member_json json,
              CHECK ((member IS NULL) <> (member_json IS NULL))
          );
          CREATE UNIQUE INDEX fedkit_scim_group_members_group
              ON fedkit_scim_group_members (group_seq, member_key);
          CREATE INDEX fedkit_scim_group_members_member ON fedkit_scim_group_members (tenant, member_key);
          CREATE INDEX fedkit_scim_group_members_lookup
              ON fedkit_scim_group_members (tenant, v) INCLUDE (group_seq, cut);
          ALTER TABLE fedkit_scim_resources ADD COLUMN member_count bigint NOT NULL DEFAULT 0;",
    },
    Step {
        version: 3,
        description: "SCIM users' lowercased userName as a sort key",
        // Filled for the users already stored (and fedkit_scim_sort_pending dropped) by
        // `fill_sort_keys`, in Rust: the key is Rust's lowercasing, which SQL's lower() does
        // not match. The index holds a prefix (a userName may be longer than a B-tree entry);
        // the prefix's order is the whole key's order, ties within a prefix are sorted after.
        sql: "ALTER TABLE fedkit_scim_resources ADD COLUMN user_name_sort bytea;
          CREATE INDEX fedkit_scim_resources_user_name_sort
              ON fedkit_scim_resources (tenant, kind, substring(user_name_sort FROM 1 FOR 1024));
          CREATE TABLE fedkit_scim_sort_pending ();",
    },
];

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
            move_members_out(&mut client).map_err(|e| match e {
                StoreError::Backend { detail } => StoreError::Backend {
                    detail: format!("cannot move group members to their own table at {target}: {detail}"),
                },
                other => other,
            })?;
            fill_sort_keys(&mut client).map_err(|e| match e {
                StoreError::Backend { detail } => StoreError::Backend {
                    detail: format!(
                        "cannot fill the userName sort keys of the stored users at {target}: {detail}"
                    ),
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

/// The statements of [`Transaction::find_page`] (parameters `$1` tenant, `$2` kind, `$3`
/// the group whose members are listed or -1, `$4` limit, `$5` offset; then a filter's).
struct PageSql {
    /// How many match; when sorted by `userName`, also how many of them have a name.
    count: String,
    /// The page (when sorted by `userName`: of the users with a name).
    page: String,
    /// When sorted by `userName`: the users without one, in creation order.
    unnamed: Option<String>,
}

impl PageSql {
    /// `by_name`: `Some(descending)` when sorted by `userName`; `filter`: an exact
    /// pushed-down condition the resources must meet, its parameters after the statement's
    /// own (from `$4` in `count`, from `$6` in the row statements).
    fn new(member_of: bool, by_name: Option<bool>, filter: Option<&pushdown::Cond>) -> Self {
        let (from, base) = if member_of {
            (
                "fedkit_scim_group_members m JOIN fedkit_scim_resources r
                     ON r.tenant = m.tenant AND r.kind = $2 AND r.id = coalesce(m.member->>'value', m.member_json->>'value')",
                "m.group_seq = $3 AND r.tenant = $1",
            )
        } else {
            (
                "fedkit_scim_resources r",
                "r.tenant = $1 AND r.kind = $2 AND $3::bigint IS NOT NULL",
            )
        };
        let restrict = |first: usize| match filter {
            Some(f) => format!("{base} AND r.seq IN ({})", f.numbered_from(first)),
            None => base.to_owned(),
        };
        let (count_cond, cond) = (restrict(4), restrict(6));
        let select = "SELECT r.body, r.body_json, r.seq FROM";
        let Some(descending) = by_name else {
            return Self {
                count: format!("SELECT count(*) FROM {from} WHERE {count_cond}"),
                page: format!("{select} {from} WHERE {cond} ORDER BY r.seq LIMIT $4 OFFSET $5"),
                unnamed: None,
            };
        };
        // By `userName` as `sort_resources` orders it: the users with a (non-empty) name by
        // their sort key, then those without one in creation order, in both directions. The
        // first part reads the sort index in order (a prefix of the key; ties within a
        // prefix are sorted on the whole key), so a page costs `offset + limit` rows.
        let dir = if descending { "DESC" } else { "ASC" };
        let keyed = "r.user_name_sort <> ''::bytea";
        Self {
            count: format!("SELECT count(*), count(*) FILTER (WHERE {keyed}) FROM {from} WHERE {count_cond}"),
            page: format!(
                "{select} {from} WHERE {cond} AND {keyed}
                 ORDER BY substring(r.user_name_sort FROM 1 FOR 1024) {dir}, r.user_name_sort {dir}, r.seq
                 LIMIT $4 OFFSET $5"
            ),
            unnamed: Some(format!(
                "{select} {from} WHERE {cond} AND NOT coalesce({keyed}, false) ORDER BY r.seq LIMIT $4 OFFSET $5"
            )),
        }
    }
}

/// The SQL of [`Transaction::find`] and the values of its parameters after `$1` (tenant)
/// and `$2` (kind).
fn find_query(kind: ResourceKind, filter: Option<&Filter>) -> (String, Vec<String>) {
    let mut sql = String::from(
        "SELECT r.body, r.body_json, r.seq FROM fedkit_scim_resources r WHERE r.tenant = $1 AND r.kind = $2",
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
    member_counts: Vec<i64>,
}

/// Member rows about to be written, as arrays for `unnest`.
#[derive(Default)]
struct MemberRows {
    /// The group's id (to join with the inserted resources).
    group_ids: Vec<String>,
    keys: Vec<Vec<u8>>,
    vs: Vec<String>,
    cuts: Vec<bool>,
    bodies: Vec<Option<Value>>,
    raw_bodies: Vec<Option<Value>>,
    /// The member ids, for the caller.
    ids: Vec<String>,
}

impl MemberRows {
    fn push(&mut self, group_id: &str, id: &str, member: &Value) {
        let full = index_form(&Indexed::MemberValue.normalize(id));
        let (kept, was_cut) = cut(&full);
        self.group_ids.push(group_id.to_owned());
        self.keys.push(member_key(id));
        self.vs.push(kept.to_owned());
        self.cuts.push(was_cut);
        if holds_nul(member) {
            self.bodies.push(None);
            self.raw_bodies.push(Some(member.clone()));
        } else {
            self.bodies.push(Some(member.clone()));
            self.raw_bodies.push(None);
        }
        self.ids.push(id.to_owned());
    }
}

/// The key of a member id: its SHA-256 (so an id of any length and content fits the index).
fn member_key(id: &str) -> Vec<u8> {
    Sha256::digest(id.as_bytes()).to_vec()
}

/// A member row's object from its `member` (JSONB) or `member_json` (JSON) column.
fn member_of_row(row: &postgres::Row, first: usize) -> Result<Value, StoreError> {
    let broken = |e: postgres::Error| StoreError::Backend {
        detail: format!(
            "a stored group member cannot be read ({e}); was the database changed outside fedkit?"
        ),
    };
    let body: Option<Value> = row.try_get(first).map_err(broken)?;
    let raw: Option<Value> = row.try_get(first + 1).map_err(broken)?;
    body.or(raw).ok_or_else(|| StoreError::Backend {
        detail: "a stored group member has no value; was the database changed outside fedkit?".into(),
    })
}

/// Starts a one-time data step of a migration: a transaction holding the step's advisory
/// lock (one node at a time), or `None` when `marker`, the table whose presence says the step
/// is still pending, is gone (another node did it).
fn begin_data_step<'c>(
    client: &'c mut Client,
    lock: i64,
    marker: &str,
) -> Result<Option<postgres::Transaction<'c>>, StoreError> {
    let err = |e: postgres::Error| pg_error("", &e);
    let mut tx = client.transaction().map_err(err)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&lock])
        .map_err(err)?;
    let pending: bool = tx
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&marker])
        .and_then(|r| r.try_get(0))
        .map_err(err)?;
    if pending {
        Ok(Some(tx))
    } else {
        tx.commit().map_err(err)?;
        Ok(None)
    }
}

/// The advisory-lock key of the members data step (as for migrations: one node at a time).
const MEMBERS_STEP_LOCK: i64 = 0x6665_646b_6974_6d32;

/// Migration 2's data step, once (while `fedkit_scim_members` exists): each group's members
/// become rows of `fedkit_scim_group_members`, its body and indexed values lose them.
fn move_members_out(client: &mut Client) -> Result<(), StoreError> {
    let err = |e: postgres::Error| pg_error("", &e);
    let Some(mut tx) = begin_data_step(client, MEMBERS_STEP_LOCK, "fedkit_scim_members")? else {
        return Ok(());
    };
    let rows = tx
        .query(
            "SELECT seq, tenant, id, body, body_json FROM fedkit_scim_resources WHERE kind = 'Group' ORDER BY seq",
            &[],
        )
        .map_err(err)?;
    for row in rows {
        let seq: i64 = row.try_get(0).map_err(err)?;
        let tenant: String = row.try_get(1).map_err(err)?;
        let id: String = row.try_get(2).map_err(err)?;
        let group = body_of(ResourceKind::Group, &row, 3)?;
        let (body, members) = split_members(&group);
        let (jsonb, json) = if holds_nul(&body) {
            (None, Some(&body))
        } else {
            (Some(&body), None)
        };
        let values: Vec<pushdown::IndexRow> =
            indexed_values(ResourceKind::Group, &body).into_iter().collect();
        let attrs: Vec<i16> = values.iter().map(|r| pushdown::code(r.attr)).collect();
        let vs: Vec<Option<String>> = values.iter().map(|r| r.value.clone()).collect();
        let cuts: Vec<bool> = values.iter().map(|r| r.cut).collect();
        tx.execute(
            "UPDATE fedkit_scim_resources SET body = $2, body_json = $3, member_count = $4 WHERE seq = $1",
            &[&seq, &jsonb, &json, &(members.len() as i64)],
        )
        .map_err(err)?;
        tx.execute("DELETE FROM fedkit_scim_values WHERE seq = $1", &[&seq])
            .map_err(err)?;
        tx.execute(
            "INSERT INTO fedkit_scim_values (seq, tenant, kind, attr, v, cut)
             SELECT $1, $2, 'Group', y.a, y.v, y.c FROM unnest($3::smallint[], $4::text[], $5::boolean[]) AS y(a, v, c)",
            &[&seq, &tenant, &attrs, &vs, &cuts],
        )
        .map_err(err)?;
        let mut m = MemberRows::default();
        for (mid, member) in &members {
            m.push(&id, mid, member);
        }
        tx.execute(
            "INSERT INTO fedkit_scim_group_members (group_seq, tenant, member_key, v, cut, member, member_json)
             SELECT $1, $2, x.k, x.v, x.c, x.m, x.mj
             FROM unnest($3::bytea[], $4::text[], $5::boolean[], $6::jsonb[], $7::json[]) WITH ORDINALITY AS x(k, v, c, m, mj, n)
             ORDER BY x.n",
            &[&seq, &tenant, &m.keys, &m.vs, &m.cuts, &m.bodies, &m.raw_bodies],
        )
        .map_err(err)?;
    }
    tx.batch_execute("DROP TABLE fedkit_scim_members").map_err(err)?;
    tx.commit().map_err(err)
}

/// The advisory-lock key of the sort-key data step (as for migrations: one node at a time).
const SORT_STEP_LOCK: i64 = 0x6665_646b_6974_6d33;

/// How many users [`fill_sort_keys`] reads and writes per statement.
const SORT_STEP_BATCH: i64 = 1000;

/// Migration 3's data step, once (while `fedkit_scim_sort_pending` exists): every stored
/// user gets its `user_name_sort`, the same key every write sets ([`user_name_key`]), read
/// and written 1000 users at a time.
fn fill_sort_keys(client: &mut Client) -> Result<(), StoreError> {
    let err = |e: postgres::Error| pg_error("", &e);
    let Some(mut tx) = begin_data_step(client, SORT_STEP_LOCK, "fedkit_scim_sort_pending")? else {
        return Ok(());
    };
    let mut last = i64::MIN;
    loop {
        let rows = tx
            .query(
                "SELECT seq, body, body_json FROM fedkit_scim_resources WHERE kind = 'User' AND seq > $1
                 ORDER BY seq LIMIT $2",
                &[&last, &SORT_STEP_BATCH],
            )
            .map_err(err)?;
        if rows.is_empty() {
            break;
        }
        let mut seqs = Vec::with_capacity(rows.len());
        let mut keys = Vec::with_capacity(rows.len());
        for row in &rows {
            let seq: i64 = row.try_get(0).map_err(err)?;
            let user = body_of(ResourceKind::User, row, 1)?;
            seqs.push(seq);
            keys.push(user_name_key(&user).map(String::into_bytes));
            last = seq;
        }
        tx.execute(
            "UPDATE fedkit_scim_resources r SET user_name_sort = x.k
             FROM unnest($1::bigint[], $2::bytea[]) AS x(s, k) WHERE r.seq = x.s",
            &[&seqs, &keys],
        )
        .map_err(err)?;
    }
    tx.batch_execute("DROP TABLE fedkit_scim_sort_pending")
        .map_err(err)?;
    tx.commit().map_err(err)
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
            rows.member_counts.push(0);
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
        INSERT INTO fedkit_scim_resources (tenant, kind, id, user_name_key, user_name_sort, display_name, body, body_json, member_count)
        SELECT $1, $2, x.id, sha256(x.un), x.un, x.dn, x.b, x.bj, x.mc
        FROM unnest($3::text[], $4::bytea[], $5::text[], $6::jsonb[], $7::json[], $12::bigint[])
             WITH ORDINALITY AS x(id, un, dn, b, bj, mc, n)
        ORDER BY x.n
        RETURNING seq, id
    ), v AS (
        INSERT INTO fedkit_scim_values (seq, tenant, kind, attr, v, cut)
        SELECT r.seq, $1, $2, y.a, y.v, y.c
        FROM unnest($8::text[], $9::smallint[], $10::text[], $11::boolean[]) AS y(id, a, v, c)
        JOIN r ON r.id = y.id
    ), m AS (
        INSERT INTO fedkit_scim_group_members (group_seq, tenant, member_key, v, cut, member, member_json)
        SELECT r.seq, $1, z.k, z.v, z.c, z.m, z.mj
        FROM unnest($13::text[], $14::bytea[], $15::text[], $16::boolean[], $17::jsonb[], $18::json[])
             WITH ORDINALITY AS z(id, k, v, c, m, mj, n)
        JOIN r ON r.id = z.id
        ORDER BY z.n
    )
    SELECT count(*) FROM r";

/// Replaces a resource's attributes and indexed values; its member rows stay.
const UPDATE_SQL: &str = "WITH r AS (
        UPDATE fedkit_scim_resources
        SET user_name_key = sha256($4::bytea), user_name_sort = $4::bytea, display_name = $5, body = $6, body_json = $7
        WHERE tenant = $1 AND kind = $2 AND id = $3
        RETURNING seq
    ), dv AS (
        DELETE FROM fedkit_scim_values WHERE seq IN (SELECT seq FROM r)
    ), v AS (
        INSERT INTO fedkit_scim_values (seq, tenant, kind, attr, v, cut)
        SELECT r.seq, $1, $2, y.a, y.v, y.c
        FROM r, unnest($8::smallint[], $9::text[], $10::boolean[]) AS y(a, v, c)
    )
    SELECT seq FROM r";

const DELETE_SQL: &str = "WITH r AS (
        DELETE FROM fedkit_scim_resources WHERE tenant = $1 AND kind = $2 AND id = $3
        RETURNING seq
    ), dv AS (
        DELETE FROM fedkit_scim_values WHERE seq IN (SELECT seq FROM r)
    ), dm AS (
        DELETE FROM fedkit_scim_group_members WHERE group_seq IN (SELECT seq FROM r)
    )
    SELECT count(*) FROM r";

/// Replaces the attributes and indexed values of several groups; their member rows stay.
const UPDATE_MANY_GROUPS_SQL: &str = "WITH x AS (
        SELECT * FROM unnest($3::text[], $4::text[], $5::jsonb[], $6::json[]) AS x(id, dn, b, bj)
    ), r AS (
        UPDATE fedkit_scim_resources t SET display_name = x.dn, body = x.b, body_json = x.bj
        FROM x WHERE t.tenant = $1 AND t.kind = $2 AND t.id = x.id
        RETURNING t.seq, t.id
    ), dv AS (
        DELETE FROM fedkit_scim_values WHERE seq IN (SELECT seq FROM r)
    ), v AS (
        INSERT INTO fedkit_scim_values (seq, tenant, kind, attr, v, cut)
        SELECT r.seq, $1, $2, y.a, y.v, y.c
        FROM unnest($7::text[], $8::smallint[], $9::text[], $10::boolean[]) AS y(id, a, v, c)
        JOIN r ON r.id = y.id
    )
    SELECT count(*) FROM r";

/// Adds member rows to group `$1` (a key it has already is skipped) and counts them.
const ADD_MEMBERS_SQL: &str = "WITH ins AS (
        INSERT INTO fedkit_scim_group_members (group_seq, tenant, member_key, v, cut, member, member_json)
        SELECT $1, $2, x.k, x.v, x.c, x.m, x.mj
        FROM unnest($3::bytea[], $4::text[], $5::boolean[], $6::jsonb[], $7::json[])
             WITH ORDINALITY AS x(k, v, c, m, mj, n)
        ORDER BY x.n
        ON CONFLICT (group_seq, member_key) DO NOTHING
        RETURNING member_key
    ), c AS (
        UPDATE fedkit_scim_resources SET member_count = member_count + (SELECT count(*) FROM ins) WHERE seq = $1
    )
    SELECT member_key FROM ins";

/// Removes member rows of group `$1` by key and counts them.
const REMOVE_MEMBERS_SQL: &str = "WITH d AS (
        DELETE FROM fedkit_scim_group_members WHERE group_seq = $1 AND member_key = ANY($2::bytea[])
        RETURNING member_key
    ), c AS (
        UPDATE fedkit_scim_resources SET member_count = member_count - (SELECT count(*) FROM d) WHERE seq = $1
    )
    SELECT member_key FROM d";

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

impl PgTransaction<'_> {
    /// The row of a resource (`seq`, stored body), locked in a write transaction.
    fn stored(&mut self, kind: ResourceKind, id: &str) -> Result<Option<(i64, Value)>, StoreError> {
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

    /// The member objects of groups `seqs`, in the order they were added.
    fn members_by_group(&mut self, seqs: &[i64]) -> Result<HashMap<i64, Vec<Value>>, StoreError> {
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

    /// Runs a query whose rows start with (body, body_json, seq); with `members`, groups
    /// with at most that many members get them attached, larger ones come without.
    fn bodies(
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

    fn group_seq(&mut self, group_id: &str) -> Result<i64, StoreError> {
        match self.stored(ResourceKind::Group, group_id)? {
            Some((seq, _)) => Ok(seq),
            None => Err(StoreError::NotFound {
                kind: "Group",
                id: group_id.to_owned(),
            }),
        }
    }

    /// Writes member rows of group `seq`; returns the ids added.
    fn insert_members(
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
    fn delete_members(&mut self, seq: i64, ids: &[&str]) -> Result<Vec<String>, StoreError> {
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

    /// Runs a page's count statement (`$1` tenant, `$2` kind, `$3` group): its first
    /// column, and its second when it has one (else 0).
    fn page_counts(
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
    fn page_rows(
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

    /// Writes a resource's attributes (the stored body: for a group, its members taken out).
    fn write_attributes(
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

#[cfg(test)]
mod migration_tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use serde_json::json;

    use super::*;
    use crate::testing::TestServer;

    #[test]
    fn a_version_1_database_moves_its_members_into_rows() {
        if crate::testing::skip_without_postgres() {
            return;
        }
        let server = TestServer::start().expect("PostgreSQL test server");
        let url = server.create_database("members_v1").unwrap();
        let pool = Arc::new(Pool::connect(&url, PoolConfig::default()).unwrap());
        {
            // The database as fedkit wrote it before step 2: members inside the group body.
            let mut client = pool.get().unwrap();
            migrate::apply(&mut client, "scim", &STEPS[..1]).unwrap();
            let group = json!({"id": "g1", "displayName": "Eng",
                "members": [{"value": "u1", "display": "One"}, {"value": "U2"}, {"value": "u1"}, {"display": "no value"}]});
            client
                .execute(
                    "INSERT INTO fedkit_scim_resources (tenant, kind, id, display_name, body) VALUES ('acme', 'Group', 'g1', 'eng', $1)",
                    &[&group],
                )
                .unwrap();
            client
                .execute(
                    "INSERT INTO fedkit_scim_members (group_seq, tenant, member_key)
                     SELECT seq, 'acme', sha256(convert_to(m, 'UTF8')) FROM fedkit_scim_resources, unnest(ARRAY['u1', 'U2']) AS m",
                    &[],
                )
                .unwrap();
            client
                .execute(
                    "INSERT INTO fedkit_scim_values (seq, tenant, kind, attr, v, cut)
                     SELECT seq, 'acme', 'Group', 5, v, false FROM fedkit_scim_resources, unnest(ARRAY['u1', 'u2']) AS v",
                    &[],
                )
                .unwrap();
        }
        let store = PgStore::new(Arc::clone(&pool)).unwrap();
        // A second start finds nothing left to move.
        let store2 = PgStore::new(Arc::clone(&pool)).unwrap();
        let t = TenantId::new("acme").unwrap();
        let mut tx = store.begin(&t).unwrap();
        let g = tx.get(ResourceKind::Group, "g1").unwrap().unwrap();
        assert_eq!(
            g["members"],
            json!([{"value": "u1", "display": "One"}, {"value": "U2"}, {"display": "no value"}])
        );
        assert_eq!(tx.member_count("g1").unwrap(), Some(2));
        let attrs = tx.get_attributes(ResourceKind::Group, "g1").unwrap().unwrap();
        assert_eq!(attrs["members"], json!([{"display": "no value"}]));
        assert_eq!(tx.memberships(&["U2"]).unwrap().len(), 1);
        let f = Filter::parse(r#"members.value eq "u2""#).unwrap();
        assert_eq!(tx.find(ResourceKind::Group, Some(&f)).unwrap().len(), 1);
        assert_eq!(tx.remove_from_all_groups("u1").unwrap(), ["g1"]);
        tx.commit().unwrap();
        let mut tx = store2.begin_read(&t).unwrap();
        assert_eq!(tx.member_count("g1").unwrap(), Some(1));
        let mut client = pool.get().unwrap();
        let old: bool = client
            .query_one("SELECT to_regclass('fedkit_scim_members') IS NULL", &[])
            .unwrap()
            .get(0);
        assert!(old, "the version 1 table is dropped");
    }

    #[test]
    fn a_version_2_database_fills_the_user_name_sort_keys() {
        if crate::testing::skip_without_postgres() {
            return;
        }
        use fedkit_scim_service::store::SortKey;

        let server = TestServer::start().expect("PostgreSQL test server");
        let url = server.create_database("sort_v2").unwrap();
        let pool = Arc::new(Pool::connect(&url, PoolConfig::default()).unwrap());
        let users = [
            json!({"id": "u1", "userName": "bob"}),
            json!({"id": "u2", "USERNAME": "Émile"}),
            json!({"id": "u3", "userName": "alice"}),
            json!({"id": "u4"}),
            json!({"id": "u5", "userName": "Zoë\u{0}x"}),
        ];
        {
            // The database as fedkit wrote it before step 3: no sort column.
            let mut client = pool.get().unwrap();
            migrate::apply(&mut client, "scim", &STEPS[..2]).unwrap();
            for u in &users {
                let name = user_name_key(u).map(String::into_bytes);
                let (jsonb, json) = if holds_nul(u) {
                    (None, Some(u))
                } else {
                    (Some(u), None)
                };
                client
                    .execute(
                        "INSERT INTO fedkit_scim_resources (tenant, kind, id, user_name_key, body, body_json)
                         VALUES ('acme', 'User', $1, sha256($2), $3, $4)",
                        &[&u["id"].as_str().unwrap(), &name, &jsonb, &json],
                    )
                    .unwrap();
            }
        }
        let store = PgStore::new(Arc::clone(&pool)).unwrap();
        // A second start finds nothing left to fill.
        let store2 = PgStore::new(Arc::clone(&pool)).unwrap();
        let t = TenantId::new("acme").unwrap();
        let mut tx = store2.begin_read(&t).unwrap();
        for (descending, want) in [
            (false, ["u3", "u1", "u5", "u2", "u4"]),
            (true, ["u2", "u5", "u1", "u3", "u4"]),
        ] {
            let mut q = PageQuery::new(0, 10);
            q.sort = Some((SortKey::UserName, descending));
            let page = tx.find_page(ResourceKind::User, &q).unwrap().unwrap();
            let got: Vec<&str> = page.resources.iter().map(|r| r["id"].as_str().unwrap()).collect();
            assert_eq!(got, want, "descending: {descending}");
        }
        drop(tx);
        drop(store);
        let mut client = pool.get().unwrap();
        let key: Vec<u8> = client
            .query_one(
                "SELECT user_name_sort FROM fedkit_scim_resources WHERE id = 'u2'",
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(key, "émile".as_bytes());
        let gone: bool = client
            .query_one("SELECT to_regclass('fedkit_scim_sort_pending') IS NULL", &[])
            .unwrap()
            .get(0);
        assert!(gone, "the pending marker is dropped");
    }
}
