//! How driver and pool errors become [`StoreError`]s: what the admin reads, and which
//! failures are [`StoreError::Busy`] (retry) rather than [`StoreError::Backend`].

use fedkit_scim_service::store::StoreError;
use postgres::error::SqlState;

use crate::pool::PoolError;

/// Whether `e` means the connection is gone (so the same statement on another connection
/// may succeed).
pub(crate) fn connection_lost(e: &postgres::Error) -> bool {
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
pub(crate) fn pg_error(target: &str, e: &postgres::Error) -> StoreError {
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

/// A pool failure as a [`StoreError`]: every connection busy is [`StoreError::Busy`].
pub(crate) fn pool_error(e: PoolError) -> StoreError {
    match e {
        PoolError::Timeout { .. } => StoreError::Busy {
            detail: e.to_string(),
        },
        other => StoreError::Backend {
            detail: other.to_string(),
        },
    }
}

/// The error of a statement on a transaction that has given its connection back.
pub(crate) fn released() -> StoreError {
    StoreError::Backend {
        detail: "the PostgreSQL transaction has already released its connection".into(),
    }
}
