//! [`SqliteStore`]: fedkit-scim-service's [`Store`] on one SQLite file (bundled SQLite, no
//! system library), with filters on indexed attributes pushed down to SQL. The embedded
//! default: what `fedkit scim serve` runs.
//!
//! # Schema
//!
//! Applied on [`SqliteStore::open`] by numbered migrations, inside one `BEGIN IMMEDIATE`
//! transaction; the number of the last one applied is kept in `scim_schema_version`. A file
//! written by a newer fedkit (a higher version) is refused rather than guessed at, and so is
//! a database that already holds tables of another application.
//!
//! Version 1:
//!
//! * `scim_resources(seq, tenant, kind, id, user_name_lc, display_name, body)`: one row per
//!   resource, `body` the JSON document exactly as the handler gave it. `seq` (the rowid)
//!   grows with every insert, so ordering by it is creation order; an update keeps it.
//!   `(tenant, kind, id)` is unique; so is `(tenant, user_name_lc)`, the lowercased
//!   `userName` of a user ([`StoreError::Conflict`] on a clash). `display_name` answers
//!   [`Transaction::memberships`].
//! * `scim_values(seq, tenant, kind, attr, v)`: the indexed leaf values of `userName`,
//!   `externalId`, `displayName`, `emails.value` (users) and `members.value` (groups),
//!   lowercased except caseExact `externalId`; indexed on `(tenant, kind, attr, v)`.
//! * `scim_members(tenant, group_seq, group_id, member_id)`: each group's `members[].value`
//!   (dropped by version 2).
//!
//! Version 2 (members as rows of their own; a version-1 file is converted on open, in the
//! same transaction):
//!
//! * `scim_group_members(ord, tenant, group_seq, member_id, member_key, member)`: one row
//!   per member of a group with a string `value` (the first of duplicates), `member` the
//!   member object as given, `ord` (the rowid) the order members were added, `member_key`
//!   the value lowercased (`members.value` is case-insensitive). Unique on
//!   `(group_seq, member_id)`; indexed on `(tenant, member_key)`, which answers
//!   [`Transaction::memberships`], a user's deletion and pushed-down `members.value`
//!   filters. A group's stored `body` keeps its `members` attribute without those members
//!   (usually `[]`; members without a string `value` stay there); reads put them back.
//! * `scim_resources.member_count`: how many member rows the group has, kept by every write.
//!
//! `scim_values` and the member rows are written with the resource, inside the same SQLite
//! transaction (and inside a savepoint, so a failed write leaves nothing half-done even if
//! the caller goes on and commits). An update rewrites the resource's `scim_values` rows and
//! diffs its member rows; the member operations
//! ([`Transaction::add_members`], [`Transaction::remove_members`],
//! [`Transaction::remove_from_all_groups`]) write one row per member concerned.
//!
//! # Paging
//!
//! [`Transaction::find_page`] answers lists without filter and `groups.value eq` (users
//! that are members of a group) with `LIMIT`/`OFFSET` and a `count(*)`, in creation order or
//! by `userName` (its lowercased column: the order [`fedkit_scim::list::sort_resources`]
//! gives); other queries go back to [`Transaction::find`].
//!
//! # Filter push-down
//!
//! [`Transaction::find`] translates the filter with the core crate's filter
//! [`Visitor`](fedkit_scim::filter::Visitor) into a SQL condition whose values are always
//! bound parameters. Pushed down:
//!
//! * `eq`, `sw`, `co`, `ew` with a string literal and `pr`, on `id` (compared exactly),
//!   `userName`, `displayName`, `emails.value` / `emails` / `emails[value …]`,
//!   `members.value` / `members` / `members[value …]` (compared lowercased: they are
//!   case-insensitive) and `externalId` (caseExact: compared as written). `sw`/`co`/`ew` use
//!   `LIKE` with `%`, `_` and `\` escaped (`ESCAPE '\'`); a value holding a NUL character is
//!   always kept, as `LIKE` stops at NUL.
//! * `and` (of which one translatable side is enough), `or` (both sides needed).
//!
//! Not pushed down (no condition from that part, so more rows come back): `not`, `ne`,
//! `gt`/`ge`/`lt`/`le`, `null`, boolean and number literals, every other attribute,
//! URN-qualified paths, other value-filter conditions (`emails[type eq "work"]`), and
//! anything beyond 64 pushed expressions or a 10 000-byte `LIKE` pattern. The result is
//! therefore always a superset of the matches; the handler evaluates the filter exactly.
//! The translation assumes the core schema's caseExact flags for the attributes above
//! (RFC 7643: only `id` and `externalId` are caseExact).
//!
//! # Concurrency
//!
//! One connection, checked out by [`Store::begin`] and held by the transaction until commit
//! or drop, so transactions of this store run one at a time, each in `BEGIN IMMEDIATE`
//! (the write lock is taken up front, so two processes sharing the file cannot deadlock
//! upgrading a read). A `begin` waits up to the busy timeout (5 s by default,
//! [`SqliteStore::with_busy_timeout`]) for the connection, then fails with
//! [`StoreError::Busy`]; SQLite's own `busy_timeout` is the same, for other processes.
//! Beginning a second transaction on the same store while holding one, on the same
//! thread, waits for the timeout and fails.
//!
//! Read-only requests (GET, list, `.search`) use [`Store::begin_read`] instead, which a
//! file-backed store serves from a pool of up to 8 read-only connections: in WAL mode each
//! reads a consistent snapshot (what was committed when its first read ran) and never waits
//! for the writer, nor the writer for it, so lookups do not queue behind a commit's fsync.
//! A read transaction refuses writes. A store opened with [`SqliteStore::open_in_memory`]
//! has a single private database and serves reads on the write connection.
//!
//! # Durability
//!
//! The file is in WAL mode with `synchronous=FULL` by default: a committed transaction
//! survives a crash of the process and of the machine ([`Durability`] trades the machine
//! crash for faster commits). Dropping a transaction without commit rolls it back;
//! so does a failed commit. `secure_delete` is on, so a deleted resource is overwritten in
//! the database file (copies can live on in the WAL file until the next checkpoint, and in
//! backups). A new file is created readable by its owner only (Unix).

#![forbid(unsafe_code)]

mod pushdown;
/// The README's example, compiled by `cargo test`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

use fedkit_scim::filter::Filter;
use rusqlite::{params, params_from_iter, Connection, ErrorCode, OpenFlags, OptionalExtension};
use serde_json::Value;

use fedkit_scim_service::auth::TenantId;
use fedkit_scim_service::store::{
    attach_members, drop_members, member_value, split_members, user_name_key, Chunk, Membership, Page,
    PageQuery, ResourceKind, SortKey, Store, StoreError, Transaction,
};
use pushdown::{indexed_values, Indexed, PushDown};

/// How long `begin` waits for the connection, and SQLite for a lock, by default.
const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The migrations, in order; `scim_schema_version.version` is how many were applied.
const MIGRATIONS: &[&str] = &[
    // 1: resources, indexed values, group members.
    "CREATE TABLE scim_resources (
         seq INTEGER PRIMARY KEY,
         tenant TEXT NOT NULL,
         kind TEXT NOT NULL CHECK (kind IN ('User', 'Group')),
         id TEXT NOT NULL,
         user_name_lc TEXT,
         display_name TEXT,
         body TEXT NOT NULL,
         UNIQUE (tenant, kind, id)
     ) STRICT;
     CREATE UNIQUE INDEX scim_resources_user_name ON scim_resources (tenant, user_name_lc);
     CREATE INDEX scim_resources_order ON scim_resources (tenant, kind, seq);
     CREATE TABLE scim_values (
         seq INTEGER NOT NULL,
         tenant TEXT NOT NULL,
         kind TEXT NOT NULL,
         attr TEXT NOT NULL,
         v TEXT
     ) STRICT;
     CREATE INDEX scim_values_lookup ON scim_values (tenant, kind, attr, v);
     CREATE INDEX scim_values_owner ON scim_values (seq);
     CREATE TABLE scim_members (
         tenant TEXT NOT NULL,
         group_seq INTEGER NOT NULL,
         group_id TEXT NOT NULL,
         member_id TEXT NOT NULL,
         PRIMARY KEY (group_seq, member_id)
     ) STRICT, WITHOUT ROWID;
     CREATE INDEX scim_members_member ON scim_members (tenant, member_id);",
    // 2: a group's members as rows of their own (the group's body no longer holds them), so
    // adding or removing one member, or deleting a user, writes only the rows concerned.
    "CREATE TABLE scim_group_members (
         ord INTEGER PRIMARY KEY,
         tenant TEXT NOT NULL,
         group_seq INTEGER NOT NULL,
         member_id TEXT NOT NULL,
         member_key TEXT NOT NULL,
         member TEXT NOT NULL
     ) STRICT;
     CREATE UNIQUE INDEX scim_group_members_group ON scim_group_members (group_seq, member_id);
     CREATE INDEX scim_group_members_key ON scim_group_members (tenant, member_key);
     ALTER TABLE scim_resources ADD COLUMN member_count INTEGER NOT NULL DEFAULT 0;
     DROP TABLE scim_members;",
];

/// The schema version this build writes ([`SqliteStore::open`] migrates older files to it).
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// When [`Transaction::commit`] returns, what the data survives
/// ([`SqliteStore::with_durability`]). Either way the database file is never corrupted and a
/// transaction is applied entirely or not at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Durability {
    /// A crash of the process or of the machine (power loss): every commit waits for the
    /// disk (`synchronous=FULL`, one fsync per commit: about 2 ms on the benchmark machine).
    #[default]
    Full,
    /// A crash of the process only: a power loss or OS crash can undo the last commits
    /// (WAL with `synchronous=NORMAL`; about 5× faster commits). An IdP whose recent
    /// changes were undone finds the resources missing or stale on its next sync.
    Process,
}

/// A [`Store`] in one SQLite database: the embedded default. See the
/// [crate docs](crate) for the schema, what is pushed down, concurrency and durability.
///
/// ```
/// use fedkit_scim::filter::Filter;
/// use fedkit_scim_service::auth::TenantId;
/// use fedkit_scim_service::store::{ResourceKind, Store};
/// use fedkit_scim_sqlite::SqliteStore;
/// use serde_json::json;
///
/// let dir = std::env::temp_dir().join(format!("fedkit-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("scim.sqlite3");
/// let acme = TenantId::new("acme")?;
/// {
///     let store = SqliteStore::open(&path)?;
///     let mut tx = store.begin(&acme)?;
///     tx.insert(ResourceKind::User, &json!({"id": "u1", "userName": "BJensen"}))?;
///     tx.commit()?;
/// }
/// // Data survives a restart; `userName` is looked up in its index, case-insensitively.
/// let store = SqliteStore::open(&path)?;
/// let mut tx = store.begin(&acme)?;
/// let filter = Filter::parse(r#"userName eq "bjensen""#)?;
/// assert_eq!(tx.find(ResourceKind::User, Some(&filter))?.len(), 1);
/// # drop(tx); drop(store); std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SqliteStore {
    /// The connection, `None` while a transaction holds it.
    slot: Mutex<Option<Connection>>,
    returned: Condvar,
    /// Read-only connections to the same file (`None` in memory).
    readers: Option<ReaderPool>,
    busy_timeout: Duration,
    location: String,
}

/// Most read-only connections a file-backed store opens.
const MAX_READERS: usize = 8;

/// The idle read-only connections, and how many exist in all.
struct ReaderPool {
    path: std::path::PathBuf,
    state: Mutex<ReaderState>,
    returned: Condvar,
}

#[derive(Default)]
struct ReaderState {
    idle: Vec<Connection>,
    open: usize,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("location", &self.location)
            .field("busy_timeout", &self.busy_timeout)
            .finish_non_exhaustive()
    }
}

/// A driver error as a [`StoreError`] (lock contention is [`StoreError::Busy`]).
fn db(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) =>
        {
            StoreError::Busy {
                detail: format!("{e} (another process holds the SQLite database lock; retry)"),
            }
        }
        _ => StoreError::Backend {
            detail: e.to_string(),
        },
    }
}

impl SqliteStore {
    /// Opens (creating it if needed) the database file at `path`, applies the schema
    /// migrations and turns on WAL mode. Data written by committed transactions is there the
    /// next time the file is opened.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        let location = path.display().to_string();
        create_private(path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| StoreError::Backend {
            detail: format!(
                "cannot open the SQLite database {location}: {e}; check the path and its permissions"
            ),
        })?;
        let mut store = Self::setup(conn, location, true)?;
        store.readers = Some(ReaderPool {
            path: path.to_path_buf(),
            state: Mutex::new(ReaderState::default()),
            returned: Condvar::new(),
        });
        Ok(store)
    }

    /// A private database in memory, gone when the store is dropped (tests, demos).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory().map_err(db)?;
        Self::setup(conn, ":memory:".to_owned(), false)
    }

    /// How long [`Store::begin`] waits for the running transaction to finish, and SQLite
    /// for another process's lock, before [`StoreError::Busy`]. Default 5 s.
    pub fn with_busy_timeout(mut self, timeout: Duration) -> Result<Self, StoreError> {
        let slot = self.slot.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let Some(conn) = slot.as_ref() {
            conn.busy_timeout(timeout).map_err(db)?;
        }
        self.busy_timeout = timeout;
        Ok(self)
    }

    /// How many rows the store's writes have inserted, updated or deleted since it was
    /// opened (SQLite's `total_changes()`, rolled-back writes included): a machine-independent
    /// measure of what an operation costs, for tests and monitoring. Waits for the running
    /// write transaction like [`Store::begin`].
    pub fn rows_changed(&self) -> Result<u64, StoreError> {
        let conn = self.checkout()?;
        let n = conn.total_changes();
        self.checkin(conn);
        Ok(n)
    }

    /// When a commit counts as durable; default [`Durability::Full`].
    pub fn with_durability(mut self, durability: Durability) -> Result<Self, StoreError> {
        let mode = match durability {
            Durability::Full => "FULL",
            Durability::Process => "NORMAL",
        };
        let slot = self.slot.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let Some(conn) = slot.as_ref() {
            conn.pragma_update(None, "synchronous", mode).map_err(db)?;
        }
        Ok(self)
    }

    fn setup(mut conn: Connection, location: String, file: bool) -> Result<Self, StoreError> {
        let in_context = |e: rusqlite::Error| match db(e) {
            StoreError::Backend { detail } => StoreError::Backend {
                detail: format!("cannot use the SQLite database {location}: {detail}"),
            },
            other => other,
        };
        conn.busy_timeout(DEFAULT_BUSY_TIMEOUT).map_err(in_context)?;
        if file {
            // Returns the mode in force; a file system without WAL support keeps the rollback
            // journal, which is slower but just as correct.
            let _mode: String = conn
                .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
                .map_err(in_context)?;
        }
        conn.execute_batch(
            "PRAGMA synchronous = FULL; PRAGMA secure_delete = ON; PRAGMA trusted_schema = OFF;",
        )
        .map_err(in_context)?;
        migrate(&mut conn, &location)?;
        Ok(Self {
            slot: Mutex::new(Some(conn)),
            returned: Condvar::new(),
            readers: None,
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            location,
        })
    }

    /// Takes the connection, waiting up to the busy timeout for the running transaction.
    fn checkout(&self) -> Result<Connection, StoreError> {
        let slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        let (mut slot, _) = self
            .returned
            .wait_timeout_while(slot, self.busy_timeout, |s| s.is_none())
            .unwrap_or_else(PoisonError::into_inner);
        slot.take().ok_or_else(|| StoreError::Busy {
            detail: format!(
                "another request kept the SQLite store {} busy for more than {} ms",
                self.location,
                self.busy_timeout.as_millis()
            ),
        })
    }

    fn checkin(&self, conn: Connection) {
        *self.slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(conn);
        self.returned.notify_one();
    }

    /// An idle read-only connection, a new one while fewer than [`MAX_READERS`] exist, or
    /// the first one handed back within the busy timeout.
    fn checkout_reader(&self, pool: &ReaderPool) -> Result<Connection, StoreError> {
        let state = pool.state.lock().unwrap_or_else(PoisonError::into_inner);
        let (mut state, _) = pool
            .returned
            .wait_timeout_while(state, self.busy_timeout, |s| {
                s.idle.is_empty() && s.open >= MAX_READERS
            })
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(conn) = state.idle.pop() {
            return Ok(conn);
        }
        if state.open >= MAX_READERS {
            return Err(StoreError::Busy {
                detail: format!(
                    "{MAX_READERS} read requests kept the SQLite store {} busy for more than {} ms",
                    self.location,
                    self.busy_timeout.as_millis()
                ),
            });
        }
        state.open += 1;
        drop(state);
        let opened = self.open_reader(&pool.path);
        if opened.is_err() {
            let mut state = pool.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.open -= 1;
            pool.returned.notify_one();
        }
        opened
    }

    fn open_reader(&self, path: &Path) -> Result<Connection, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| StoreError::Backend {
            detail: format!(
                "cannot open the SQLite database {} for reading: {e}",
                self.location
            ),
        })?;
        conn.busy_timeout(self.busy_timeout).map_err(db)?;
        conn.execute_batch("PRAGMA trusted_schema = OFF;").map_err(db)?;
        Ok(conn)
    }

    fn checkin_reader(&self, conn: Connection) {
        if let Some(pool) = &self.readers {
            let mut state = pool.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.idle.push(conn);
            drop(state);
            pool.returned.notify_one();
        }
    }
}

/// Creates `path` readable and writable by its owner only, unless it exists.
#[cfg(unix)]
fn create_private(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Backend {
            detail: format!(
                "cannot create the SQLite database {}: {e}; check that the directory exists and is writable",
                path.display()
            ),
        }),
    }
}

#[cfg(not(unix))]
fn create_private(_path: &Path) -> Result<(), StoreError> {
    Ok(())
}

/// Applies the missing migrations in one immediate transaction.
fn migrate(conn: &mut Connection, location: &str) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(db)?;
    let has_version: bool = tx
        .query_row(
            "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = 'scim_schema_version'",
            [],
            |r| r.get(0),
        )
        .map_err(db)?;
    let version: i64 = if has_version {
        tx.query_row("SELECT max(version) FROM scim_schema_version", [], |r| {
            r.get::<_, Option<i64>>(0)
        })
        .map_err(db)?
        .unwrap_or(0)
    } else {
        let foreign: i64 = tx
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
                [],
                |r| r.get(0),
            )
            .map_err(db)?;
        if foreign > 0 {
            return Err(StoreError::Backend {
                detail: format!(
                    "{location} is not a fedkit SCIM database: it already holds {foreign} table(s) of another \
                     application; use a new file for the SCIM store"
                ),
            });
        }
        tx.execute_batch("CREATE TABLE scim_schema_version (version INTEGER NOT NULL) STRICT; INSERT INTO scim_schema_version VALUES (0);")
            .map_err(db)?;
        0
    };
    let known = i64::from(SCHEMA_VERSION);
    if !(0..=known).contains(&version) {
        return Err(StoreError::Backend {
            detail: format!(
                "{location} has SCIM schema version {version}, newer than the {known} this fedkit knows; \
                 upgrade fedkit or point it at another file"
            ),
        });
    }
    for (i, migration) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(version).unwrap_or(0))
    {
        if i == 1 {
            // Before the tables change: read the groups, members still in their bodies.
            let groups = groups_with_members(&tx)?;
            tx.execute_batch(migration).map_err(db)?;
            move_members_out(&tx, groups)?;
        } else {
            tx.execute_batch(migration).map_err(db)?;
        }
    }
    tx.execute("UPDATE scim_schema_version SET version = ?1", [known])
        .map_err(db)?;
    tx.commit().map_err(db)
}

/// Every group of a version-1 database: (seq, tenant, body).
fn groups_with_members(conn: &Connection) -> Result<Vec<(i64, String, Value)>, StoreError> {
    let mut stmt = conn
        .prepare("SELECT seq, tenant, body FROM scim_resources WHERE kind = 'Group' ORDER BY seq")
        .map_err(db)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(db)?;
    rows.into_iter()
        .map(|(seq, tenant, body)| Ok((seq, tenant, parse_body(ResourceKind::Group, &body)?)))
        .collect()
}

/// Migration 2's data step: each group's members become rows of `scim_group_members`, its
/// body and indexed values lose them.
fn move_members_out(conn: &Connection, groups: Vec<(i64, String, Value)>) -> Result<(), StoreError> {
    for (seq, tenant, group) in groups {
        let (body, members) = split_members(&group);
        conn.execute(
            "UPDATE scim_resources SET body = ?1 WHERE seq = ?2",
            params![SqliteTransaction::body(&body)?, seq],
        )
        .map_err(db)?;
        conn.execute("DELETE FROM scim_values WHERE seq = ?1", [seq])
            .map_err(db)?;
        write_values(conn, &tenant, seq, ResourceKind::Group, &body)?;
        insert_members(conn, &tenant, seq, &members)?;
    }
    Ok(())
}

/// The indexed values of a stored body.
fn write_values(
    conn: &Connection,
    tenant: &str,
    seq: i64,
    kind: ResourceKind,
    body: &Value,
) -> Result<(), StoreError> {
    let mut values = conn
        .prepare_cached("INSERT INTO scim_values (seq, tenant, kind, attr, v) VALUES (?1, ?2, ?3, ?4, ?5)")
        .map_err(db)?;
    for (attr, v) in indexed_values(kind, body) {
        values
            .execute(params![seq, tenant, kind.name(), attr.name(), v])
            .map_err(db)?;
    }
    Ok(())
}

/// Inserts member rows (a `value` the group already has is skipped); returns the values
/// inserted and keeps `member_count` right.
fn insert_members(
    conn: &Connection,
    tenant: &str,
    group_seq: i64,
    members: &[(String, Value)],
) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO scim_group_members (tenant, group_seq, member_id, member_key, member)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(db)?;
    let mut added = Vec::new();
    for (id, member) in members {
        let json = SqliteTransaction::body(member)?;
        let key = Indexed::MemberValue.normalize(id);
        if stmt
            .execute(params![tenant, group_seq, id, key, json])
            .map_err(db)?
            > 0
        {
            added.push(id.clone());
        }
    }
    if !added.is_empty() {
        conn.prepare_cached("UPDATE scim_resources SET member_count = member_count + ?1 WHERE seq = ?2")
            .and_then(|mut s| s.execute(params![added.len() as i64, group_seq]))
            .map_err(db)?;
    }
    Ok(added)
}

/// Deletes member rows; returns the values deleted and keeps `member_count` right.
fn delete_members(conn: &Connection, group_seq: i64, ids: &[&str]) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn
        .prepare_cached("DELETE FROM scim_group_members WHERE group_seq = ?1 AND member_id = ?2")
        .map_err(db)?;
    let mut removed = Vec::new();
    for id in ids {
        if stmt.execute(params![group_seq, id]).map_err(db)? > 0 {
            removed.push((*id).to_owned());
        }
    }
    if !removed.is_empty() {
        conn.prepare_cached("UPDATE scim_resources SET member_count = member_count - ?1 WHERE seq = ?2")
            .and_then(|mut s| s.execute(params![removed.len() as i64, group_seq]))
            .map_err(db)?;
    }
    Ok(removed)
}

/// The member rows of a group, in the order they were added: (value, member object JSON).
fn member_rows(conn: &Connection, group_seq: i64) -> Result<Vec<(String, String)>, StoreError> {
    conn.prepare_cached("SELECT member_id, member FROM scim_group_members WHERE group_seq = ?1 ORDER BY ord")
        .and_then(|mut s| {
            s.query_map([group_seq], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(db)
}

fn member_objects(rows: Vec<(String, String)>) -> Result<Vec<Value>, StoreError> {
    rows.iter()
        .map(|(_, m)| parse_body(ResourceKind::Group, m))
        .collect()
}

impl SqliteStore {
    /// Wraps a checked-out connection in a transaction opened with `begin` (`BEGIN
    /// IMMEDIATE` for writers; `BEGIN DEFERRED` for readers, whose snapshot is taken by the
    /// first read and kept until the end).
    fn start(
        &self,
        conn: Connection,
        tenant: &TenantId,
        read_only: bool,
    ) -> Result<Box<dyn Transaction + '_>, StoreError> {
        let tx = SqliteTransaction {
            store: self,
            conn: Some(conn),
            tenant: tenant.as_str().to_owned(),
            committed: false,
            read_only,
        };
        // From here on, an error drops `tx`, which hands the connection back.
        let conn = tx.conn()?;
        if !conn.is_autocommit() {
            conn.execute_batch("ROLLBACK").map_err(db)?;
        }
        let begin = if read_only {
            "BEGIN DEFERRED"
        } else {
            "BEGIN IMMEDIATE"
        };
        conn.execute_batch(begin).map_err(db)?;
        Ok(Box::new(tx))
    }
}

impl Store for SqliteStore {
    fn begin_read(&self, tenant: &TenantId) -> Result<Box<dyn Transaction + '_>, StoreError> {
        match &self.readers {
            Some(pool) => self.start(self.checkout_reader(pool)?, tenant, true),
            None => self.begin(tenant),
        }
    }

    fn begin(&self, tenant: &TenantId) -> Result<Box<dyn Transaction + '_>, StoreError> {
        self.start(self.checkout()?, tenant, false)
    }
}

struct SqliteTransaction<'s> {
    store: &'s SqliteStore,
    /// `Some` until dropped.
    conn: Option<Connection>,
    tenant: String,
    committed: bool,
    /// From [`Store::begin_read`]: a read-only connection of the pool.
    read_only: bool,
}

fn parse_body(kind: ResourceKind, body: &str) -> Result<Value, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::Backend {
        detail: format!(
            "a stored {} is not valid JSON ({e}); was the database changed outside fedkit?",
            kind.name()
        ),
    })
}

fn display_name(resource: &Value) -> Option<&str> {
    resource
        .as_object()
        .and_then(|o| fedkit_scim::resource::get_attr(o, "displayName"))
        .and_then(Value::as_str)
}

impl SqliteTransaction<'_> {
    fn conn(&self) -> Result<&Connection, StoreError> {
        self.conn.as_ref().ok_or_else(|| StoreError::Backend {
            detail: "the SQLite transaction has already released its connection".into(),
        })
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

    /// Runs `f` inside a savepoint: all of its writes or none.
    fn atomically<T>(
        &self,
        f: impl FnOnce(&Self, &Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = self.conn()?;
        conn.execute_batch("SAVEPOINT scim_write").map_err(db)?;
        match f(self, conn) {
            Ok(v) => {
                conn.execute_batch("RELEASE scim_write").map_err(db)?;
                Ok(v)
            }
            Err(e) => {
                // If even this fails, the caller drops the transaction, which rolls back.
                let _ = conn.execute_batch("ROLLBACK TO scim_write; RELEASE scim_write");
                Err(e)
            }
        }
    }

    fn seq_of(&self, kind: ResourceKind, id: &str) -> Result<Option<i64>, StoreError> {
        self.conn()?
            .prepare_cached("SELECT seq FROM scim_resources WHERE tenant = ?1 AND kind = ?2 AND id = ?3")
            .and_then(|mut s| {
                s.query_row(params![self.tenant, kind.name(), id], |r| r.get(0))
                    .optional()
            })
            .map_err(db)
    }

    /// The lowercased `userName` of a user, after checking no other user of the tenant has it.
    fn claim_user_name(
        &self,
        kind: ResourceKind,
        id: &str,
        resource: &Value,
    ) -> Result<Option<String>, StoreError> {
        if kind != ResourceKind::User {
            return Ok(None);
        }
        let Some(name) = user_name_key(resource) else {
            return Ok(None);
        };
        let owner: Option<String> = self
            .conn()?
            .prepare_cached("SELECT id FROM scim_resources WHERE tenant = ?1 AND user_name_lc = ?2")
            .and_then(|mut s| s.query_row(params![self.tenant, name], |r| r.get(0)).optional())
            .map_err(db)?;
        match owner {
            Some(owner) if owner != id => Err(StoreError::Conflict {
                kind: kind.name(),
                attribute: "userName",
                value: name,
            }),
            _ => Ok(Some(name)),
        }
    }

    /// Writes a resource's indexed values and, for a group, its member rows (`body` is the
    /// stored body, members taken out).
    fn write_side_tables(
        &self,
        conn: &Connection,
        seq: i64,
        kind: ResourceKind,
        body: &Value,
        members: &[(String, Value)],
    ) -> Result<(), StoreError> {
        write_values(conn, &self.tenant, seq, kind, body)?;
        if kind == ResourceKind::Group {
            insert_members(conn, &self.tenant, seq, members)?;
        }
        Ok(())
    }

    /// Brings a group's member rows to `members`: deletes the rows that are gone or changed,
    /// inserts the new ones; rows that stay are not touched.
    fn diff_members(
        &self,
        conn: &Connection,
        seq: i64,
        members: &[(String, Value)],
    ) -> Result<(), StoreError> {
        let mut wanted: std::collections::HashMap<&str, String> = std::collections::HashMap::new();
        for (id, m) in members {
            wanted.insert(id.as_str(), Self::body(m)?);
        }
        let mut keep = std::collections::HashSet::new();
        let mut gone = Vec::new();
        for (id, json) in member_rows(conn, seq)? {
            if wanted.get(id.as_str()) == Some(&json) {
                keep.insert(id);
            } else {
                gone.push(id);
            }
        }
        let gone: Vec<&str> = gone.iter().map(String::as_str).collect();
        delete_members(conn, seq, &gone)?;
        let new: Vec<(String, Value)> = members
            .iter()
            .filter(|(id, _)| !keep.contains(id))
            .cloned()
            .collect();
        insert_members(conn, &self.tenant, seq, &new)?;
        Ok(())
    }

    fn clear_values(conn: &Connection, seq: i64) -> Result<(), StoreError> {
        conn.prepare_cached("DELETE FROM scim_values WHERE seq = ?1")
            .and_then(|mut s| s.execute([seq]))
            .map_err(db)?;
        Ok(())
    }

    /// Replaces the stored body and indexed values of the resource at `seq`.
    fn write_body(
        &self,
        conn: &Connection,
        seq: i64,
        kind: ResourceKind,
        id: &str,
        body: &Value,
    ) -> Result<(), StoreError> {
        let user_name = self.claim_user_name(kind, id, body)?;
        let text = Self::body(body)?;
        conn.prepare_cached(
            "UPDATE scim_resources SET user_name_lc = ?1, display_name = ?2, body = ?3 WHERE seq = ?4",
        )
        .and_then(|mut s| s.execute(params![user_name, display_name(body), text, seq]))
        .map_err(db)?;
        Self::clear_values(conn, seq)?;
        write_values(conn, &self.tenant, seq, kind, body)
    }

    /// The group's seq, or NotFound.
    fn group_seq(&self, group_id: &str) -> Result<i64, StoreError> {
        self.seq_of(ResourceKind::Group, group_id)?
            .ok_or_else(|| StoreError::NotFound {
                kind: "Group",
                id: group_id.to_owned(),
            })
    }

    /// Runs a `SELECT r.seq, r.body …` and parses the bodies; with `members`, groups with at
    /// most that many members get them attached, larger ones come without `members`.
    fn bodies(
        &self,
        kind: ResourceKind,
        sql: &str,
        params: &[String],
        members: Option<usize>,
    ) -> Result<Vec<Value>, StoreError> {
        Ok(self
            .bodies_with_seq(kind, sql, params, members)?
            .into_iter()
            .map(|(_, v)| v)
            .collect())
    }

    /// [`Self::bodies`], each with its `seq`.
    fn bodies_with_seq(
        &self,
        kind: ResourceKind,
        sql: &str,
        params: &[String],
        members: Option<usize>,
    ) -> Result<Vec<(i64, Value)>, StoreError> {
        let conn = self.conn()?;
        let rows: Vec<(i64, String)> = conn
            .prepare_cached(sql)
            .and_then(|mut stmt| {
                stmt.query_map(params_from_iter(params.iter()), |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(db)?;
        let mut out = Vec::with_capacity(rows.len());
        for (seq, body) in rows {
            let mut value = parse_body(kind, &body)?;
            if kind == ResourceKind::Group {
                match members {
                    None => drop_members(&mut value),
                    Some(usize::MAX) => {
                        attach_members(&mut value, member_objects(member_rows(conn, seq)?)?);
                    }
                    Some(cap) => {
                        let count: i64 = conn
                            .prepare_cached("SELECT member_count FROM scim_resources WHERE seq = ?1")
                            .and_then(|mut s| s.query_row([seq], |r| r.get(0)))
                            .map_err(db)?;
                        if usize::try_from(count).unwrap_or(usize::MAX) > cap {
                            drop_members(&mut value);
                        } else {
                            attach_members(&mut value, member_objects(member_rows(conn, seq)?)?);
                        }
                    }
                }
            }
            out.push((seq, value));
        }
        Ok(out)
    }

    /// The statement of `find`, `find_attributes` and `find_chunk`: the candidates of `kind`
    /// the push-down selects, with `seq` after `after` (-1: all), in creation order, at most
    /// `limit` of them.
    fn candidates(
        &self,
        kind: ResourceKind,
        filter: Option<&Filter>,
        after: i64,
        limit: Option<usize>,
    ) -> (String, Vec<String>) {
        let mut sql = String::from(
            "SELECT r.seq, r.body FROM scim_resources r WHERE r.tenant = ? AND r.kind = ? AND r.seq > ?",
        );
        let mut params = vec![self.tenant.clone(), kind.name().to_owned(), after.to_string()];
        if let Some(cond) = filter.and_then(|f| PushDown::translate(kind, &self.tenant, f)) {
            sql.push_str(" AND ");
            sql.push_str(&cond.sql);
            params.extend(cond.params);
        }
        sql.push_str(" ORDER BY r.seq");
        if let Some(limit) = limit {
            sql.push_str(&format!(" LIMIT {}", i64::try_from(limit).unwrap_or(i64::MAX)));
        }
        (sql, params)
    }

    fn body(resource: &Value) -> Result<String, StoreError> {
        serde_json::to_string(resource).map_err(|e| StoreError::Backend {
            detail: format!("cannot serialize the resource: {e}"),
        })
    }
}

impl Transaction for SqliteTransaction<'_> {
    fn get(&mut self, kind: ResourceKind, id: &str) -> Result<Option<Value>, StoreError> {
        let row: Option<(i64, String)> = self
            .conn()?
            .prepare_cached(
                "SELECT seq, body FROM scim_resources WHERE tenant = ?1 AND kind = ?2 AND id = ?3",
            )
            .and_then(|mut s| {
                s.query_row(params![self.tenant, kind.name(), id], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()
            })
            .map_err(db)?;
        let Some((seq, body)) = row else {
            return Ok(None);
        };
        let mut value = parse_body(kind, &body)?;
        if kind == ResourceKind::Group {
            attach_members(&mut value, member_objects(member_rows(self.conn()?, seq)?)?);
        }
        Ok(Some(value))
    }

    fn get_attributes(&mut self, kind: ResourceKind, id: &str) -> Result<Option<Value>, StoreError> {
        let body: Option<String> = self
            .conn()?
            .prepare_cached("SELECT body FROM scim_resources WHERE tenant = ?1 AND kind = ?2 AND id = ?3")
            .and_then(|mut s| {
                s.query_row(params![self.tenant, kind.name(), id], |r| r.get(0))
                    .optional()
            })
            .map_err(db)?;
        body.map(|b| parse_body(kind, &b)).transpose()
    }

    fn member_count(&mut self, group_id: &str) -> Result<Option<usize>, StoreError> {
        let n: Option<i64> = self
            .conn()?
            .prepare_cached(
                "SELECT member_count FROM scim_resources WHERE tenant = ?1 AND kind = 'Group' AND id = ?2",
            )
            .and_then(|mut s| {
                s.query_row(params![self.tenant, group_id], |r| r.get(0))
                    .optional()
            })
            .map_err(db)?;
        Ok(n.map(|n| usize::try_from(n).unwrap_or(0)))
    }

    fn find(&mut self, kind: ResourceKind, filter: Option<&Filter>) -> Result<Vec<Value>, StoreError> {
        let (sql, params) = self.candidates(kind, filter, -1, None);
        self.bodies(kind, &sql, &params, Some(usize::MAX))
    }

    fn find_attributes(
        &mut self,
        kind: ResourceKind,
        filter: Option<&Filter>,
    ) -> Result<Vec<Value>, StoreError> {
        let (sql, params) = self.candidates(kind, filter, -1, None);
        self.bodies(kind, &sql, &params, None)
    }

    fn find_chunk(
        &mut self,
        kind: ResourceKind,
        filter: Option<&Filter>,
        members: bool,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Chunk, StoreError> {
        let after = after
            .map_or(Ok(-1), i64::try_from)
            .map_err(|_| StoreError::Backend {
                detail: "a chunk position beyond the store's sequence numbers".into(),
            })?;
        let limit = limit.max(1);
        let (sql, params) = self.candidates(kind, filter, after, Some(limit));
        let rows = self.bodies_with_seq(kind, &sql, &params, members.then_some(usize::MAX))?;
        let next = match rows.last() {
            Some((seq, _)) if rows.len() == limit => u64::try_from(*seq).ok(),
            _ => None,
        };
        Ok(Chunk::new(rows.into_iter().map(|(_, v)| v).collect(), next))
    }

    fn find_page(&mut self, kind: ResourceKind, query: &PageQuery<'_>) -> Result<Option<Page>, StoreError> {
        let mut cond = String::from("r.tenant = ? AND r.kind = ?");
        let mut params = vec![self.tenant.clone(), kind.name().to_owned()];
        if let Some(filter) = query.filter {
            // Only a filter the indexes answer exactly; otherwise the handler's evaluator.
            let Some(pushed) = PushDown::translate_exact(kind, &self.tenant, filter) else {
                return Ok(None);
            };
            cond.push_str(" AND ");
            cond.push_str(&pushed.sql);
            params.extend(pushed.params);
        }
        let mut from = String::from("scim_resources r");
        if let Some(group) = query.member_of {
            if kind != ResourceKind::User {
                return Ok(None);
            }
            // Driven by the group's member rows, each joined to its user by id.
            let group_seq = match self.seq_of(ResourceKind::Group, group)? {
                Some(seq) => Some(seq),
                None => self
                    .conn()?
                    .prepare_cached(
                        "SELECT seq FROM scim_resources WHERE tenant = ?1 AND kind = 'Group' AND lower(id) = ?2
                         ORDER BY seq LIMIT 1",
                    )
                    .and_then(|mut s| {
                        s.query_row(params![self.tenant, group.to_ascii_lowercase()], |r| r.get(0))
                            .optional()
                    })
                    .map_err(db)?,
            };
            from = "scim_group_members m JOIN scim_resources r ON r.tenant = m.tenant AND r.kind = 'User' AND r.id = m.member_id"
                .to_owned();
            cond.push_str(" AND m.group_seq = ?");
            params.push(group_seq.unwrap_or(-1).to_string());
        }
        let order = match query.sort {
            None => "r.seq".to_owned(),
            Some((SortKey::UserName, descending)) if kind == ResourceKind::User => format!(
                "(r.user_name_lc IS NULL OR r.user_name_lc = ''), r.user_name_lc {}, r.seq",
                if descending { "DESC" } else { "ASC" }
            ),
            Some(_) => return Ok(None),
        };
        let total: i64 = self
            .conn()?
            .prepare_cached(&format!("SELECT count(*) FROM {from} WHERE {cond}"))
            .and_then(|mut s| s.query_row(params_from_iter(params.iter()), |r| r.get(0)))
            .map_err(db)?;
        let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
        let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
        let sql = format!(
            "SELECT r.seq, r.body FROM {from} WHERE {cond} ORDER BY {order} LIMIT {limit} OFFSET {offset}"
        );
        let cap = query.members.then_some(query.member_cap);
        let resources = self.bodies(kind, &sql, &params, cap)?;
        Ok(Some(Page::new(usize::try_from(total).unwrap_or(0), resources)))
    }

    fn insert(&mut self, kind: ResourceKind, resource: &Value) -> Result<(), StoreError> {
        self.writable()?;
        let id = id_of(resource)?;
        if self.seq_of(kind, id)?.is_some() {
            return Err(StoreError::DuplicateId {
                kind: kind.name(),
                id: id.to_owned(),
            });
        }
        let (body, members) = if kind == ResourceKind::Group {
            split_members(resource)
        } else {
            (resource.clone(), Vec::new())
        };
        let user_name = self.claim_user_name(kind, id, &body)?;
        let text = Self::body(&body)?;
        self.atomically(|tx, conn| {
            conn.prepare_cached(
                "INSERT INTO scim_resources (tenant, kind, id, user_name_lc, display_name, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    tx.tenant,
                    kind.name(),
                    id,
                    user_name,
                    display_name(&body),
                    text
                ])
            })
            .map_err(db)?;
            tx.write_side_tables(conn, conn.last_insert_rowid(), kind, &body, &members)
        })
    }

    fn update(&mut self, kind: ResourceKind, resource: &Value) -> Result<(), StoreError> {
        self.writable()?;
        let id = id_of(resource)?;
        let Some(seq) = self.seq_of(kind, id)? else {
            return Err(StoreError::NotFound {
                kind: kind.name(),
                id: id.to_owned(),
            });
        };
        let (body, members) = if kind == ResourceKind::Group {
            split_members(resource)
        } else {
            (resource.clone(), Vec::new())
        };
        self.atomically(|tx, conn| {
            tx.write_body(conn, seq, kind, id, &body)?;
            if kind == ResourceKind::Group {
                tx.diff_members(conn, seq, &members)?;
            }
            Ok(())
        })
    }

    fn update_attributes(&mut self, kind: ResourceKind, resource: &Value) -> Result<(), StoreError> {
        self.writable()?;
        let id = id_of(resource)?;
        let Some(seq) = self.seq_of(kind, id)? else {
            return Err(StoreError::NotFound {
                kind: kind.name(),
                id: id.to_owned(),
            });
        };
        // String members are rows and stay as they are; the others are part of the body.
        let body = if kind == ResourceKind::Group {
            split_members(resource).0
        } else {
            resource.clone()
        };
        self.atomically(|tx, conn| tx.write_body(conn, seq, kind, id, &body))
    }

    fn members_named(&mut self, group_id: &str, values: &[&str]) -> Result<Vec<Value>, StoreError> {
        let Some(seq) = self.seq_of(ResourceKind::Group, group_id)? else {
            return Ok(Vec::new());
        };
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT member FROM scim_group_members WHERE tenant = ?1 AND member_key = ?2 AND group_seq = ?3 ORDER BY ord",
            )
            .map_err(db)?;
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for v in values {
            let key = Indexed::MemberValue.normalize(v);
            if !seen.insert(key.clone()) {
                continue;
            }
            let rows = stmt
                .query_map(params![self.tenant, key, seq], |r| r.get::<_, String>(0))
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(db)?;
            for m in rows {
                out.push(parse_body(ResourceKind::Group, &m)?);
            }
        }
        Ok(out)
    }

    fn add_members(&mut self, group_id: &str, members: &[Value]) -> Result<Vec<String>, StoreError> {
        self.writable()?;
        let seq = self.group_seq(group_id)?;
        let rows: Vec<(String, Value)> = members
            .iter()
            .filter_map(|m| member_value(m).map(|v| (v.to_owned(), m.clone())))
            .collect();
        self.atomically(|tx, conn| insert_members(conn, &tx.tenant, seq, &rows))
    }

    fn remove_members(&mut self, group_id: &str, values: &[&str]) -> Result<Vec<String>, StoreError> {
        self.writable()?;
        let seq = self.group_seq(group_id)?;
        self.atomically(|_, conn| delete_members(conn, seq, values))
    }

    fn remove_from_all_groups(&mut self, member_id: &str) -> Result<Vec<String>, StoreError> {
        self.writable()?;
        let key = Indexed::MemberValue.normalize(member_id);
        let groups: Vec<(i64, String)> = self
            .conn()?
            .prepare_cached(
                "SELECT m.group_seq, r.id FROM scim_group_members m JOIN scim_resources r ON r.seq = m.group_seq
                 WHERE m.tenant = ?1 AND m.member_key = ?2 AND m.member_id = ?3 ORDER BY r.id",
            )
            .and_then(|mut s| {
                s.query_map(params![self.tenant, key, member_id], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(db)?;
        self.atomically(|_, conn| {
            for (seq, _) in &groups {
                delete_members(conn, *seq, &[member_id])?;
            }
            Ok(())
        })?;
        Ok(groups.into_iter().map(|(_, id)| id).collect())
    }

    fn delete(&mut self, kind: ResourceKind, id: &str) -> Result<bool, StoreError> {
        self.writable()?;
        let Some(seq) = self.seq_of(kind, id)? else {
            return Ok(false);
        };
        self.atomically(|_, conn| {
            Self::clear_values(conn, seq)?;
            conn.prepare_cached("DELETE FROM scim_group_members WHERE group_seq = ?1")
                .and_then(|mut s| s.execute([seq]))
                .map_err(db)?;
            conn.prepare_cached("DELETE FROM scim_resources WHERE seq = ?1")
                .and_then(|mut s| s.execute([seq]))
                .map_err(db)?;
            Ok(true)
        })
    }

    fn memberships(&mut self, member_ids: &[&str]) -> Result<Vec<Membership>, StoreError> {
        if member_ids.is_empty() {
            return Ok(Vec::new());
        }
        let wanted = serde_json::to_string(member_ids).map_err(|e| StoreError::Backend {
            detail: format!("cannot encode member ids: {e}"),
        })?;
        let keys: Vec<String> = member_ids
            .iter()
            .map(|m| Indexed::MemberValue.normalize(m))
            .collect();
        let keys = serde_json::to_string(&keys).map_err(|e| StoreError::Backend {
            detail: format!("cannot encode member ids: {e}"),
        })?;
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT m.member_id, r.id, r.display_name
                 FROM scim_group_members m JOIN scim_resources r ON r.seq = m.group_seq AND r.tenant = m.tenant
                 WHERE m.tenant = ?1 AND m.member_key IN (SELECT value FROM json_each(?2))
                   AND m.member_id IN (SELECT value FROM json_each(?3))
                 ORDER BY m.member_id, r.seq",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map(params![self.tenant, keys, wanted], |r| {
                Ok(Membership {
                    member_id: r.get(0)?,
                    group_id: r.get(1)?,
                    group_display: r.get(2)?,
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(db)?;
        Ok(rows)
    }

    fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        // A failed COMMIT leaves the transaction open; Drop then rolls it back.
        self.conn()?.execute_batch("COMMIT").map_err(db)?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for SqliteTransaction<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if !self.committed && !conn.is_autocommit() {
                // Nothing to report to: `begin` rolls back a connection still in a
                // transaction before using it again.
                let _ = conn.execute_batch("ROLLBACK");
            }
            if self.read_only {
                self.store.checkin_reader(conn);
            } else {
                self.store.checkin(conn);
            }
        }
    }
}

/// The `id` of a stored resource.
fn id_of(resource: &Value) -> Result<&str, StoreError> {
    resource
        .get("id")
        .and_then(Value::as_str)
        .ok_or(StoreError::MalformedResource)
}
