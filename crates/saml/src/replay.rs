//! Replay protection: each assertion ID is accepted once, until it expires.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use chrono::{DateTime, Utc};

/// Why a [`ReplayCache`] or a [`RequestStore`] could not answer: never a verdict about the
/// ID, always a reason to refuse the login (fail closed). The validator reports it as
/// [`Error::ReplayCacheFull`](crate::Error::ReplayCacheFull) /
/// [`Error::ReplayStoreUnavailable`](crate::Error::ReplayStoreUnavailable), or
/// [`Error::RequestStoreFull`](crate::Error::RequestStoreFull) /
/// [`Error::RequestStoreUnavailable`](crate::Error::RequestStoreUnavailable).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store holds as many unexpired entries as it may; it refuses new ones rather than
    /// forget live ones.
    #[error("the store is full: {capacity} unexpired entries")]
    Full {
        /// Its capacity.
        capacity: usize,
    },
    /// The store cannot be reached or failed (a database outage).
    #[error("the store cannot be reached: {detail}")]
    Unavailable {
        /// The driver's message.
        detail: String,
    },
}

impl StoreError {
    /// A stable `snake_case` code for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Full { .. } => "store_full",
            StoreError::Unavailable { .. } => "store_unavailable",
        }
    }
}

/// Remembers assertion IDs until they expire. Implement it over the host's shared store
/// (Redis, a database) when several processes accept logins; [`InMemoryReplayCache`] serves a
/// single process.
pub trait ReplayCache: Send + Sync {
    /// Records `id` as used until `expires`: `Ok(true)` when it was not recorded (or had
    /// expired at `now`) and the login may go on, `Ok(false)` when it is recorded and
    /// unexpired: a replay. Must be atomic: two concurrent calls with the same ID must not
    /// both answer `true`. A store that cannot answer says why ([`StoreError`]).
    fn check_and_insert(
        &self,
        id: &str,
        expires: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}

/// A bounded in-memory [`ReplayCache`]. Expired IDs are dropped as new ones arrive; when the
/// cache is full of unexpired IDs, new logins are refused ([`StoreError::Full`]) rather than
/// accepted unchecked.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use fedkit_saml::{InMemoryReplayCache, ReplayCache};
/// let cache = InMemoryReplayCache::new(10_000);
/// let now = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap();
/// let expires = Utc.with_ymd_and_hms(2026, 11, 22, 10, 5, 0).unwrap();
/// assert_eq!(cache.check_and_insert("_a1", expires, now), Ok(true));
/// assert_eq!(cache.check_and_insert("_a1", expires, now), Ok(false)); // a replay
/// ```
#[derive(Debug)]
pub struct InMemoryReplayCache {
    capacity: usize,
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    by_id: HashMap<String, DateTime<Utc>>,
    by_expiry: BTreeMap<(DateTime<Utc>, String), ()>,
}

impl InMemoryReplayCache {
    /// A cache holding at most `capacity` unexpired assertion IDs.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            inner: Mutex::new(Entries::default()),
        }
    }

    /// How many IDs are held (expired ones included until the next insertion).
    pub fn len(&self) -> usize {
        self.inner.lock().map_or(0, |e| e.by_id.len())
    }

    /// Whether the cache holds no ID.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl ReplayCache for InMemoryReplayCache {
    fn check_and_insert(
        &self,
        id: &str,
        expires: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        // A poisoned lock only means another thread panicked mid-update; the maps are
        // still consistent (every update below is a pair of infallible inserts/removes).
        let mut entries = match self.inner.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        // Drop what has expired.
        while let Some(((when, old), ())) = entries.by_expiry.first_key_value() {
            if *when > now {
                break;
            }
            let key = (*when, old.clone());
            entries.by_expiry.remove(&key);
            entries.by_id.remove(&key.1);
        }
        if entries.by_id.contains_key(id) {
            return Ok(false);
        }
        if entries.by_id.len() >= self.capacity {
            return Err(StoreError::Full {
                capacity: self.capacity,
            });
        }
        entries.by_id.insert(id.to_owned(), expires);
        entries.by_expiry.insert((expires, id.to_owned()), ());
        Ok(true)
    }
}

/// Outstanding AuthnRequest IDs, for hosts that cannot keep the request ID in the user's
/// session (see [`ResponseValidator::process_post_with_store`](crate::ResponseValidator::process_post_with_store)).
/// Each ID answers exactly one login: [`consume`](RequestStore::consume) removes it atomically,
/// so of two Responses to one request, only the first is accepted — also across SP nodes when
/// the store is shared.
///
/// A store that cannot answer says why ([`StoreError`]); that is never taken for "not
/// outstanding", so an outage is reported as one.
pub trait RequestStore: Send + Sync {
    /// Remembers `id` until `expires`. `now` lets the store drop what has expired.
    fn remember(&self, id: &str, expires: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), StoreError>;
    /// Whether `id` is outstanding (remembered and not expired at `now`).
    fn is_outstanding(&self, id: &str, now: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Removes `id`; `true` when it was outstanding at `now` (and this call is the one that
    /// consumed it), `false` when it was unknown, expired, or already consumed.
    fn consume(&self, id: &str, now: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Remembers `id` until `expires` like [`remember`](RequestStore::remember), together
    /// with the login [`flow::LoginFlow::start`](crate::flow::LoginFlow::start) began: the
    /// digest of its browser binding and the host's RelayState. [`consume`](RequestStore::consume)
    /// and [`is_outstanding`](RequestStore::is_outstanding) treat it like any request.
    ///
    /// The default answers [`StoreError::Unavailable`] (a store written before the flow
    /// existed cannot keep the binding, so the flow refuses to start rather than run
    /// unbound); [`InMemoryRequestStore`] and fedkit-postgres's `PgRequestStore` implement it.
    fn remember_login(
        &self,
        id: &str,
        login: &PendingLogin,
        expires: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let _ = (id, login, expires, now);
        Err(unsupported())
    }

    /// The login remembered with `id` by [`remember_login`](RequestStore::remember_login),
    /// when `id` is outstanding at `now`; `None` when it is not outstanding, or was
    /// remembered by [`remember`](RequestStore::remember) (without a login). Does not consume.
    ///
    /// The default answers [`StoreError::Unavailable`], as
    /// [`remember_login`](RequestStore::remember_login) does.
    fn pending_login(&self, id: &str, now: DateTime<Utc>) -> Result<Option<PendingLogin>, StoreError> {
        let _ = (id, now);
        Err(unsupported())
    }
}

fn unsupported() -> StoreError {
    StoreError::Unavailable {
        detail: "this RequestStore does not implement remember_login / pending_login, which the browser-bound login flow needs; implement them, or use InMemoryRequestStore or fedkit-postgres's PgRequestStore".to_owned(),
    }
}

/// What [`flow::LoginFlow`](crate::flow::LoginFlow) keeps with an outstanding request: the
/// SHA-256 digest of the browser binding (never the cookie value itself, so a read of the
/// store gives no usable cookie) and the RelayState the host chose when the login started.
/// Store implementations save both and hand them back from
/// [`RequestStore::pending_login`].
///
/// ```
/// use fedkit_saml::replay::PendingLogin;
/// let login = PendingLogin::new([7; 32], Some("/dashboard".to_owned()));
/// assert_eq!(login.binding_digest(), &[7; 32]);
/// assert_eq!(login.relay_state(), Some("/dashboard"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLogin {
    binding_digest: [u8; 32],
    relay_state: Option<String>,
}

impl PendingLogin {
    /// A login with this binding digest and RelayState (as a store reads them back).
    pub fn new(binding_digest: [u8; 32], relay_state: Option<String>) -> Self {
        Self {
            binding_digest,
            relay_state,
        }
    }

    /// The SHA-256 digest of the browser binding value.
    pub fn binding_digest(&self) -> &[u8; 32] {
        &self.binding_digest
    }

    /// The RelayState the host passed to `start`.
    pub fn relay_state(&self) -> Option<&str> {
        self.relay_state.as_deref()
    }
}

/// A bounded in-memory [`RequestStore`]; expired IDs are dropped as new ones arrive, and a
/// full store refuses new logins rather than forgetting outstanding ones.
///
/// One process only: a host with several processes or workers (each with its own copy of
/// the application state) needs a shared store, or a Response started on one is refused on
/// another.
#[derive(Debug)]
pub struct InMemoryRequestStore {
    capacity: usize,
    inner: Mutex<HashMap<String, Pending>>,
}

/// An outstanding request: until when, and the login the flow began (if it did).
#[derive(Debug)]
struct Pending {
    until: DateTime<Utc>,
    login: Option<PendingLogin>,
}

impl InMemoryRequestStore {
    /// A store of at most `capacity` outstanding requests.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            inner: Mutex::new(HashMap::new()),
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        // A panic while holding the lock cannot leave the map inconsistent (every update is
        // a single insert or remove), so a poisoned lock is still usable.
        match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

impl InMemoryRequestStore {
    fn insert(&self, id: &str, pending: Pending, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut map = self.map();
        if map.len() >= self.capacity {
            map.retain(|_, p| p.until > now);
        }
        if map.len() >= self.capacity {
            return Err(StoreError::Full {
                capacity: self.capacity,
            });
        }
        map.insert(id.to_owned(), pending);
        Ok(())
    }
}

impl RequestStore for InMemoryRequestStore {
    fn remember(&self, id: &str, expires: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), StoreError> {
        let pending = Pending {
            until: expires,
            login: None,
        };
        self.insert(id, pending, now)
    }

    fn is_outstanding(&self, id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        Ok(self.map().get(id).is_some_and(|p| p.until > now))
    }

    fn consume(&self, id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        Ok(self.map().remove(id).is_some_and(|p| p.until > now))
    }

    fn remember_login(
        &self,
        id: &str,
        login: &PendingLogin,
        expires: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let pending = Pending {
            until: expires,
            login: Some(login.clone()),
        };
        self.insert(id, pending, now)
    }

    fn pending_login(&self, id: &str, now: DateTime<Utc>) -> Result<Option<PendingLogin>, StoreError> {
        Ok(self
            .map()
            .get(id)
            .filter(|p| p.until > now)
            .and_then(|p| p.login.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 10, min, 0).unwrap()
    }

    #[test]
    fn ids_expire_and_capacity_is_enforced() {
        let cache = InMemoryReplayCache::new(2);
        assert_eq!(cache.check_and_insert("a", t(5), t(0)), Ok(true));
        assert_eq!(cache.check_and_insert("b", t(6), t(0)), Ok(true));
        assert_eq!(
            cache.check_and_insert("c", t(6), t(1)),
            Err(StoreError::Full { capacity: 2 })
        );
        assert_eq!(cache.check_and_insert("a", t(9), t(4)), Ok(false));
        // At 10:05 "a" has expired: room for "c", and "a" may be seen again.
        assert_eq!(cache.check_and_insert("c", t(9), t(5)), Ok(true));
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.check_and_insert("a", t(9), t(6)), Ok(true));
    }
}
