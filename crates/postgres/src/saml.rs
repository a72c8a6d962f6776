//! fedkit-saml's [`ReplayCache`] and [`RequestStore`] on PostgreSQL, shared by every SP node
//! that uses the same database.
//!
//! * [`PgReplayCache`] records each accepted assertion ID until it expires. The check and the
//!   insert are one statement (`INSERT ... ON CONFLICT ... DO UPDATE ... WHERE <expired>
//!   RETURNING`), so of two nodes (or two threads) handed the same assertion at the same
//!   moment, exactly one gets a row back and accepts it.
//! * [`PgRequestStore`] keeps outstanding AuthnRequest IDs; [`consume`](RequestStore::consume)
//!   marks one answered with a single conditional `UPDATE ... RETURNING`, so each request
//!   completes one login, across nodes. For `fedkit_saml::flow::LoginFlow` it also keeps the
//!   SHA-256 digest of each login's browser binding (never the cookie value) and the host's
//!   RelayState (migration `saml` version 2 adds the two columns).
//!
//! Both fail closed: when the database cannot be reached they answer
//! [`StoreError::Unavailable`], never a verdict; the validator refuses the login with
//! [`fedkit_saml::Error::ReplayStoreUnavailable`] (code `replay_store_unavailable`) or
//! [`fedkit_saml::Error::RequestStoreUnavailable`] (`request_store_unavailable`), so an outage
//! is never reported as a replay or as an unknown request.
//!
//! IDs are stored as their SHA-256 digest (an assertion ID of any length fits the index), under
//! a namespace (default `"default"`) so several SP connections can share the tables. Expired
//! rows are deleted in bounded batches: automatically every
//! [`DEFAULT_PURGE_EVERY`] writes of a node, or by the host calling `purge` (see
//! [`PgReplayCache::purge`]).
//!
//! Times are the caller's `now`, like everywhere in fedkit (the database clock is not used).
//! Nodes whose clocks differ stay safe: an entry outlives everything the validator would still
//! accept for its assertion, so a node whose clock says the entry has expired also finds the
//! assertion expired.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use fedkit_saml::replay::{PendingLogin, StoreError};
use fedkit_saml::{ReplayCache, RequestStore};
use postgres::Client;
use sha2::{Digest, Sha256};

use crate::migrate::{self, Step};
use crate::pool::{Pool, PoolError};

/// Automatic purge cadence: one bounded purge batch after this many writes of one node.
pub const DEFAULT_PURGE_EVERY: u64 = 100;

/// Rows one purge batch deletes at most.
pub const DEFAULT_PURGE_BATCH: i64 = 1000;

/// The namespace used unless [`with_namespace`](PgReplayCache::with_namespace) sets one.
pub const DEFAULT_NAMESPACE: &str = "default";

const STEPS: &[Step] = &[
    Step {
        version: 1,
        description: "replay cache and outstanding request IDs",
        sql: "CREATE TABLE fedkit_saml_replay (
              namespace text NOT NULL,
              id_sha256 bytea NOT NULL,
              expires timestamptz NOT NULL,
              token bigint NOT NULL,
              PRIMARY KEY (namespace, id_sha256)
          );
          CREATE INDEX fedkit_saml_replay_expires ON fedkit_saml_replay (expires);
          CREATE TABLE fedkit_saml_requests (
              namespace text NOT NULL,
              id_sha256 bytea NOT NULL,
              expires timestamptz NOT NULL,
              consumed_by bigint,
              PRIMARY KEY (namespace, id_sha256)
          );
          CREATE INDEX fedkit_saml_requests_expires ON fedkit_saml_requests (expires);",
    },
    Step {
        version: 2,
        description: "browser-bound logins: the binding digest and RelayState of a started login",
        sql: "ALTER TABLE fedkit_saml_requests ADD COLUMN binding_sha256 bytea;
          ALTER TABLE fedkit_saml_requests ADD COLUMN relay_state text;",
    },
];

/// Why a [`PgReplayCache`] or [`PgRequestStore`] could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SamlStoreError {
    /// No connection could be had.
    #[error(transparent)]
    Pool(#[from] PoolError),
    /// The tables could not be created or upgraded.
    #[error("cannot create or upgrade fedkit's SAML tables in PostgreSQL: {detail}; the database user needs the CREATE privilege on the schema the first time")]
    Migration {
        /// The database's message.
        detail: String,
    },
    /// A purge failed.
    #[error("cannot purge expired SAML replay/request rows: {detail}")]
    Purge {
        /// The database's or the pool's message.
        detail: String,
    },
}

impl SamlStoreError {
    /// A stable `snake_case` code for logs, metrics and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            SamlStoreError::Pool(e) => e.code(),
            SamlStoreError::Migration { .. } => "migration_failed",
            SamlStoreError::Purge { .. } => "purge_failed",
        }
    }
}

/// What both stores share: the pool, the namespace, the purge cadence.
#[derive(Debug)]
struct Shared {
    pool: Arc<Pool>,
    namespace: String,
    purge_every: u64,
    purge_batch: i64,
    writes: AtomicU64,
    tokens: AtomicU64,
    seed: RandomState,
}

impl Shared {
    fn new(pool: Arc<Pool>) -> Result<Self, SamlStoreError> {
        let mut client = pool.get()?;
        migrate::apply(&mut client, "saml", STEPS).map_err(|e| SamlStoreError::Migration {
            detail: e.to_string(),
        })?;
        drop(client);
        Ok(Self {
            pool,
            namespace: DEFAULT_NAMESPACE.to_owned(),
            purge_every: DEFAULT_PURGE_EVERY,
            purge_batch: DEFAULT_PURGE_BATCH,
            writes: AtomicU64::new(0),
            tokens: AtomicU64::new(0),
            seed: RandomState::new(),
        })
    }

    /// A value unique to one call (random per process, then a counter): a retried statement
    /// recognises its own earlier, possibly committed, attempt by it.
    fn token(&self) -> i64 {
        let mut h = self.seed.build_hasher();
        h.write_u64(self.tokens.fetch_add(1, Ordering::Relaxed));
        i64::from_ne_bytes(h.finish().to_ne_bytes())
    }

    /// Runs `f` on a pooled connection; when the connection turns out to be dead (the
    /// database restarted since it was opened), runs it once more on a fresh one. Every
    /// statement given here is idempotent for its token, so a retry after an attempt that
    /// did commit gives the same answer.
    fn run<T>(&self, mut f: impl FnMut(&mut Client) -> Result<T, postgres::Error>) -> Result<T, String> {
        let mut retried = false;
        loop {
            let mut client = self.pool.get().map_err(|e| e.to_string())?;
            match f(&mut client) {
                Ok(v) => return Ok(v),
                Err(e) => {
                    if client.is_closed() && !retried {
                        retried = true;
                        client.discard();
                        continue;
                    }
                    return Err(format!("PostgreSQL at {}: {}", self.pool.target(), describe(&e)));
                }
            }
        }
    }

    /// Counts a write and runs one purge batch when it is time (failures ignored: purging is
    /// housekeeping, the write already succeeded).
    fn after_write(&self, table: Table, now: DateTime<Utc>) {
        if self.purge_every == 0 {
            return;
        }
        let n = self.writes.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_multiple_of(self.purge_every) {
            let _ = self.purge(table, now);
        }
    }

    fn purge(&self, table: Table, now: DateTime<Utc>) -> Result<u64, SamlStoreError> {
        let sql = match table {
            Table::Replay => {
                "DELETE FROM fedkit_saml_replay WHERE (namespace, id_sha256) IN (
                     SELECT namespace, id_sha256 FROM fedkit_saml_replay
                     WHERE expires <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)"
            }
            Table::Requests => {
                "DELETE FROM fedkit_saml_requests WHERE (namespace, id_sha256) IN (
                     SELECT namespace, id_sha256 FROM fedkit_saml_requests
                     WHERE expires <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)"
            }
        };
        self.run(|c| c.execute(sql, &[&now, &self.purge_batch]))
            .map_err(|detail| SamlStoreError::Purge { detail })
    }
}

#[derive(Debug, Clone, Copy)]
enum Table {
    Replay,
    Requests,
}

/// The driver's error with its cause ("db error: ERROR: ..."), which its `Display` leaves out.
fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!(
            "{}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            db.code().code()
        ),
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}

fn digest(id: &str) -> Vec<u8> {
    Sha256::digest(id.as_bytes()).to_vec()
}

/// A [`ReplayCache`] shared by every SP node on one PostgreSQL database. See the
/// [module docs](self).
///
/// Blocking: call it where blocking is allowed (a thread, or `spawn_blocking` under an async
/// runtime), like the rest of this crate.
#[derive(Debug)]
pub struct PgReplayCache {
    shared: Shared,
}

impl PgReplayCache {
    /// A cache on `pool`'s database, creating or upgrading its table (migration `saml`).
    pub fn new(pool: Arc<Pool>) -> Result<Self, SamlStoreError> {
        Ok(Self {
            shared: Shared::new(pool)?,
        })
    }

    /// Keeps this cache's IDs apart from other SP connections sharing the table (e.g. one
    /// namespace per tenant connection). Every node must use the same namespace for the same
    /// connection, or a replay across them goes unnoticed.
    #[must_use]
    pub fn with_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.shared.namespace = namespace.into();
        self
    }

    /// Runs one purge batch of at most `batch` rows after every `every` insertions of this
    /// node (defaults [`DEFAULT_PURGE_EVERY`], [`DEFAULT_PURGE_BATCH`]). `every = 0` turns the
    /// automatic purge off: the host then calls [`purge`](Self::purge) from a periodic job.
    #[must_use]
    pub fn with_purge(mut self, every: u64, batch: u32) -> Self {
        self.shared.purge_every = every;
        self.shared.purge_batch = i64::from(batch.max(1));
        self
    }

    /// Deletes up to one batch of entries (all namespaces) that expired at `now`; returns how
    /// many. A host purging from a job calls it until it returns less than the batch size.
    pub fn purge(&self, now: DateTime<Utc>) -> Result<u64, SamlStoreError> {
        self.shared.purge(Table::Replay, now)
    }
}

impl ReplayCache for PgReplayCache {
    fn check_and_insert(
        &self,
        id: &str,
        expires: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let key = digest(id);
        let token = self.shared.token();
        // A new ID is inserted; an expired entry is taken over; an entry carrying this call's
        // token is this call's own earlier attempt (committed before a connection loss). A
        // live entry of anyone else returns no row: a replay.
        let accepted = self
            .shared
            .run(|c| {
                c.query_opt(
                    "INSERT INTO fedkit_saml_replay AS r (namespace, id_sha256, expires, token)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (namespace, id_sha256) DO UPDATE
                         SET expires = EXCLUDED.expires, token = EXCLUDED.token
                         WHERE r.expires <= $5 OR r.token = $4
                     RETURNING 1",
                    &[&self.shared.namespace, &key, &expires, &token, &now],
                )
                .map(|row| row.is_some())
            })
            .map_err(|detail| StoreError::Unavailable { detail })?;
        if accepted {
            self.shared.after_write(Table::Replay, now);
        }
        Ok(accepted)
    }
}

/// A [`RequestStore`] shared by every SP node on one PostgreSQL database. See the
/// [module docs](self).
///
/// A database failure is [`StoreError::Unavailable`], which the validator reports as
/// `request_store_unavailable` (the login is refused, and the log says why).
#[derive(Debug)]
pub struct PgRequestStore {
    shared: Shared,
}

impl PgRequestStore {
    /// A store on `pool`'s database, creating or upgrading its table (migration `saml`).
    pub fn new(pool: Arc<Pool>) -> Result<Self, SamlStoreError> {
        Ok(Self {
            shared: Shared::new(pool)?,
        })
    }

    /// Keeps this store's IDs apart from other SP connections sharing the table; every node
    /// must use the same namespace for the same connection.
    #[must_use]
    pub fn with_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.shared.namespace = namespace.into();
        self
    }

    /// Purge cadence, as [`PgReplayCache::with_purge`] (counted over `remember` calls).
    #[must_use]
    pub fn with_purge(mut self, every: u64, batch: u32) -> Self {
        self.shared.purge_every = every;
        self.shared.purge_batch = i64::from(batch.max(1));
        self
    }

    /// Deletes up to one batch of requests (all namespaces) that expired at `now`, answered
    /// or not; returns how many.
    pub fn purge(&self, now: DateTime<Utc>) -> Result<u64, SamlStoreError> {
        self.shared.purge(Table::Requests, now)
    }
}

impl RequestStore for PgRequestStore {
    fn remember(&self, id: &str, expires: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), StoreError> {
        let key = digest(id);
        self.shared
            .run(|c| {
                c.execute(
                    "INSERT INTO fedkit_saml_requests
                         (namespace, id_sha256, expires, consumed_by, binding_sha256, relay_state)
                     VALUES ($1, $2, $3, NULL, NULL, NULL)
                     ON CONFLICT (namespace, id_sha256) DO UPDATE
                         SET expires = EXCLUDED.expires, consumed_by = NULL,
                             binding_sha256 = NULL, relay_state = NULL",
                    &[&self.shared.namespace, &key, &expires],
                )
            })
            .map_err(|detail| StoreError::Unavailable { detail })?;
        self.shared.after_write(Table::Requests, now);
        Ok(())
    }

    fn is_outstanding(&self, id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let key = digest(id);
        self.shared
            .run(|c| {
                c.query_opt(
                    "SELECT 1 FROM fedkit_saml_requests
                     WHERE namespace = $1 AND id_sha256 = $2 AND expires > $3 AND consumed_by IS NULL",
                    &[&self.shared.namespace, &key, &now],
                )
                .map(|row| row.is_some())
            })
            .map_err(|detail| StoreError::Unavailable { detail })
    }

    fn consume(&self, id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let key = digest(id);
        let token = self.shared.token();
        // Answered requests stay (marked) until they expire and are purged; the mark carries
        // this call's token so a retry after a lost connection recognises its own success.
        self.shared
            .run(|c| {
                c.query_opt(
                    "UPDATE fedkit_saml_requests SET consumed_by = $4
                     WHERE namespace = $1 AND id_sha256 = $2 AND expires > $3
                       AND (consumed_by IS NULL OR consumed_by = $4)
                     RETURNING 1",
                    &[&self.shared.namespace, &key, &now, &token],
                )
                .map(|row| row.is_some())
            })
            .map_err(|detail| StoreError::Unavailable { detail })
    }

    fn remember_login(
        &self,
        id: &str,
        login: &PendingLogin,
        expires: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let key = digest(id);
        let binding = login.binding_digest().to_vec();
        let relay_state = login.relay_state();
        self.shared
            .run(|c| {
                c.execute(
                    "INSERT INTO fedkit_saml_requests
                         (namespace, id_sha256, expires, consumed_by, binding_sha256, relay_state)
                     VALUES ($1, $2, $3, NULL, $4, $5)
                     ON CONFLICT (namespace, id_sha256) DO UPDATE
                         SET expires = EXCLUDED.expires, consumed_by = NULL,
                             binding_sha256 = EXCLUDED.binding_sha256,
                             relay_state = EXCLUDED.relay_state",
                    &[&self.shared.namespace, &key, &expires, &binding, &relay_state],
                )
            })
            .map_err(|detail| StoreError::Unavailable { detail })?;
        self.shared.after_write(Table::Requests, now);
        Ok(())
    }

    fn pending_login(&self, id: &str, now: DateTime<Utc>) -> Result<Option<PendingLogin>, StoreError> {
        let key = digest(id);
        let row = self
            .shared
            .run(|c| {
                c.query_opt(
                    "SELECT binding_sha256, relay_state FROM fedkit_saml_requests
                     WHERE namespace = $1 AND id_sha256 = $2 AND expires > $3 AND consumed_by IS NULL
                       AND binding_sha256 IS NOT NULL",
                    &[&self.shared.namespace, &key, &now],
                )
            })
            .map_err(|detail| StoreError::Unavailable { detail })?;
        let Some(row) = row else {
            return Ok(None);
        };
        let binding: Vec<u8> = row.try_get(0).map_err(|e| StoreError::Unavailable {
            detail: format!("PostgreSQL at {}: {}", self.shared.pool.target(), describe(&e)),
        })?;
        let relay_state: Option<String> = row.try_get(1).map_err(|e| StoreError::Unavailable {
            detail: format!("PostgreSQL at {}: {}", self.shared.pool.target(), describe(&e)),
        })?;
        // A digest of another length was not written by remember_login: no binding to match.
        Ok(<[u8; 32]>::try_from(binding)
            .ok()
            .map(|digest| PendingLogin::new(digest, relay_state)))
    }
}

/// The code of `docs/scale.md` (the multi-node setup), compiled as doctests so the guide
/// cannot drift from the API (it uses both the SCIM and the SAML stores).
#[cfg(all(doctest, feature = "scim"))]
#[doc = include_str!("../../../docs/scale.md")]
pub struct ScaleGuide;
