//! A small blocking connection pool shared by the SCIM store and the SAML caches.
//!
//! Connections are opened on demand up to [`PoolSettings::max_size`]; a caller that finds
//! every connection busy waits up to [`PoolSettings::wait`] and then gets
//! [`PoolError::Timeout`].
//! A connection that the server closed (restart, idle timeout, network cut) is noticed when it
//! comes back to the pool or is handed out, and replaced by a fresh one, so a database restart
//! costs the requests in flight a clear error and nothing afterwards.

use std::ops::{Deref, DerefMut};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use postgres::config::SslMode;
use postgres::{Client, Config, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::tls::{self, TlsMode};

/// How many connections a [`Pool`] keeps and how long it waits. The defaults suit one node
/// of a small deployment; each `with_*` method changes one setting and refuses a value the
/// pool could not work with ([`PoolSettingsError`]), so every `PoolSettings` is usable.
///
/// ```
/// use std::time::Duration;
/// use fedkit_postgres::PoolSettings;
/// let settings = PoolSettings::default()
///     .with_max_size(32)?
///     .with_wait(Duration::from_secs(2))?;
/// assert_eq!(settings.max_size(), 32);
/// assert_eq!(settings.connect_timeout(), Duration::from_secs(5));
/// // A pool without connections could hand none out.
/// let err = PoolSettings::default().with_max_size(0).unwrap_err();
/// assert_eq!(err.code(), "pool_setting_out_of_range");
/// # Ok::<(), fedkit_postgres::PoolSettingsError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolSettings {
    max_size: usize,
    wait: Duration,
    connect_timeout: Duration,
}

/// The former name of [`PoolSettings`]. `PoolConfig::default()` still works; struct
/// literals (`PoolConfig { max_size: 32, ..PoolConfig::default() }`) do not: write
/// `PoolSettings::default().with_max_size(32)?`.
#[deprecated(note = "renamed to PoolSettings; change values with its with_* methods")]
pub type PoolConfig = PoolSettings;

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_size: 16,
            wait: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

impl PoolSettings {
    /// The largest pool [`PoolSettings::with_max_size`] accepts: 262 143 connections,
    /// PostgreSQL's own upper limit of `max_connections`.
    pub const MAX_SIZE: usize = 262_143;
    /// The longest wait [`PoolSettings::with_wait`] accepts: ten minutes. A request kept
    /// waiting longer for a connection has long been given up by its client.
    pub const MAX_WAIT: Duration = Duration::from_secs(600);
    /// The shortest connection timeout [`PoolSettings::with_connect_timeout`] accepts: one
    /// millisecond (a zero timeout would fail every connection attempt).
    pub const MIN_CONNECT_TIMEOUT: Duration = Duration::from_millis(1);
    /// The longest connection timeout [`PoolSettings::with_connect_timeout`] accepts: ten
    /// minutes.
    pub const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(600);

    /// The most connections open at once. Default: 16. Keep `max_size × nodes` under the
    /// server's `max_connections`. 0, or more than [`PoolSettings::MAX_SIZE`], is
    /// [`PoolSettingsError::OutOfRange`].
    pub fn with_max_size(mut self, max_size: usize) -> Result<Self, PoolSettingsError> {
        if !(1..=Self::MAX_SIZE).contains(&max_size) {
            return Err(PoolSettingsError::OutOfRange {
                setting: "max_size",
                value: max_size.to_string(),
                min: "1".into(),
                max: Self::MAX_SIZE.to_string(),
            });
        }
        self.max_size = max_size;
        Ok(self)
    }

    /// How long [`Pool::get`] waits for a free connection before [`PoolError::Timeout`].
    /// Default: 5 s; zero fails at once when every connection is busy. More than
    /// [`PoolSettings::MAX_WAIT`] is [`PoolSettingsError::OutOfRange`].
    pub fn with_wait(mut self, wait: Duration) -> Result<Self, PoolSettingsError> {
        if wait > Self::MAX_WAIT {
            return Err(PoolSettingsError::OutOfRange {
                setting: "wait",
                value: format!("{wait:?}"),
                min: format!("{:?}", Duration::ZERO),
                max: format!("{:?}", Self::MAX_WAIT),
            });
        }
        self.wait = wait;
        Ok(self)
    }

    /// Timeout of one connection attempt (it replaces a `connect_timeout` of the connection
    /// string). Default: 5 s. Less than [`PoolSettings::MIN_CONNECT_TIMEOUT`] or more than
    /// [`PoolSettings::MAX_CONNECT_TIMEOUT`] is [`PoolSettingsError::OutOfRange`].
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Result<Self, PoolSettingsError> {
        if !(Self::MIN_CONNECT_TIMEOUT..=Self::MAX_CONNECT_TIMEOUT).contains(&timeout) {
            return Err(PoolSettingsError::OutOfRange {
                setting: "connect_timeout",
                value: format!("{timeout:?}"),
                min: format!("{:?}", Self::MIN_CONNECT_TIMEOUT),
                max: format!("{:?}", Self::MAX_CONNECT_TIMEOUT),
            });
        }
        self.connect_timeout = timeout;
        Ok(self)
    }

    /// See [`PoolSettings::with_max_size`].
    pub fn max_size(&self) -> usize {
        self.max_size
    }

    /// See [`PoolSettings::with_wait`].
    pub fn wait(&self) -> Duration {
        self.wait
    }

    /// See [`PoolSettings::with_connect_timeout`].
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }
}

/// Why a [`PoolSettings`] value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PoolSettingsError {
    /// A setting is outside the range the pool accepts.
    #[error(
        "the connection pool's {setting} was set to {value}, but fedkit accepts {min} to {max}; \
         choose a value in that range"
    )]
    OutOfRange {
        /// The setting: `max_size`, `wait` or `connect_timeout`.
        setting: &'static str,
        /// What was asked.
        value: String,
        /// The least accepted.
        min: String,
        /// The most accepted.
        max: String,
    },
}

impl PoolSettingsError {
    /// A stable `snake_case` code for logs, metrics and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            PoolSettingsError::OutOfRange { .. } => "pool_setting_out_of_range",
        }
    }
}

/// Why a connection could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PoolError {
    /// The connection string did not parse.
    #[error("invalid PostgreSQL connection string: {detail}")]
    Config {
        /// The driver's message (the string itself is not repeated: it may hold a password).
        detail: String,
    },
    /// The server could not be reached or refused the login.
    #[error("cannot connect to PostgreSQL at {target}: {detail}")]
    Connect {
        /// Host(s) and port(s) from the connection string, without credentials.
        target: String,
        /// The driver's message.
        detail: String,
    },
    /// Every connection stayed busy for the whole wait.
    #[error("all {max_size} PostgreSQL connections stayed busy for {waited_ms} ms")]
    Timeout {
        /// The pool size.
        max_size: usize,
        /// How long the caller waited.
        waited_ms: u128,
    },
}

impl PoolError {
    /// A stable `snake_case` code for logs, metrics and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            PoolError::Config { .. } => "pool_config",
            PoolError::Connect { .. } => "connect_failed",
            PoolError::Timeout { .. } => "pool_timeout",
        }
    }
}

#[derive(Default)]
struct State {
    idle: Vec<Client>,
    open: usize,
}

/// A pool of blocking PostgreSQL connections, over TLS as the connection string's `sslmode`
/// and `sslrootcert` say (see [`crate::tls`]), plain TCP or a Unix socket.
pub struct Pool {
    config: Config,
    tls: Option<MakeRustlsConnect>,
    tls_mode: TlsMode,
    target: String,
    settings: PoolSettings,
    state: Mutex<State>,
    freed: Condvar,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("target", &self.target)
            .field("tls_mode", &self.tls_mode)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Pool {
    /// A pool for `url` (`postgres://user:password@host:port/db` or the key=value form),
    /// checked by opening one connection.
    ///
    /// TLS follows libpq's `sslmode` and `sslrootcert`: in production use
    /// `?sslmode=verify-full&sslrootcert=/path/to/ca.pem` (or `sslrootcert=system`). Without
    /// `sslmode`, a host off this machine is refused ([`PoolError::Config`]); see
    /// [`crate::tls`].
    pub fn connect(url: &str, settings: PoolSettings) -> Result<Pool, PoolError> {
        let (rest, tls_params) = tls::split_params(url).map_err(|detail| PoolError::Config { detail })?;
        let mut config: Config = rest.parse().map_err(|e: postgres::Error| PoolError::Config {
            detail: e.to_string(),
        })?;
        // Every `sslmode` was taken out above; one the driver still saw (a form the split
        // did not read) must not be silently replaced by ours.
        if config.get_ssl_mode() != SslMode::Prefer {
            return Err(PoolError::Config {
                detail: "sslmode appears in a form fedkit could not read; write it once, \
                         as sslmode=VALUE"
                    .into(),
            });
        }
        config.ssl_mode(match tls_params.mode {
            TlsMode::Disable => SslMode::Disable,
            TlsMode::Prefer => SslMode::Prefer,
            _ => SslMode::Require,
        });
        let tls = tls::connector(&tls_params).map_err(|detail| PoolError::Config { detail })?;
        config.connect_timeout(settings.connect_timeout());
        if config.get_application_name().is_none() {
            config.application_name("fedkit");
        }
        let target = describe_target(&config);
        if !tls_params.explicit && !is_local(&config) {
            return Err(PoolError::Config {
                detail: format!(
                    "the connection string has no sslmode and {target} is not this machine: say \
                     how the connection is protected, preferably \
                     sslmode=verify-full&sslrootcert=/path/to/ca.pem (or sslrootcert=system); \
                     sslmode=require encrypts without authenticating the server, \
                     sslmode=disable sends everything in clear"
                ),
            });
        }
        let pool = Pool {
            config,
            tls,
            tls_mode: tls_params.mode,
            target,
            settings,
            state: Mutex::new(State::default()),
            freed: Condvar::new(),
        };
        let first = pool.get()?;
        drop(first);
        Ok(pool)
    }

    /// The server(s) this pool talks to, without credentials (for messages).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The connection string's `sslmode`.
    pub fn tls_mode(&self) -> TlsMode {
        self.tls_mode
    }

    /// Whether every host of the connection string is this machine (loopback, `localhost`
    /// or a Unix socket), where an unauthenticated connection cannot be intercepted on the
    /// network.
    pub fn is_local(&self) -> bool {
        is_local(&self.config)
    }

    fn open(&self) -> Result<Client, postgres::Error> {
        match &self.tls {
            Some(tls) => self.config.connect(tls.clone()),
            None => self.config.connect(NoTls),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update of State is a push/pop or a counter change: a panic elsewhere cannot
        // leave it inconsistent, so a poisoned lock is still usable.
        match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// A connection, waiting up to [`PoolSettings::wait`] for one to be free.
    pub fn get(&self) -> Result<PooledClient<'_>, PoolError> {
        let started = Instant::now();
        let mut state = self.lock();
        loop {
            while let Some(client) = state.idle.pop() {
                if client.is_closed() {
                    state.open = state.open.saturating_sub(1);
                    continue;
                }
                return Ok(PooledClient {
                    client: Some(client),
                    pool: self,
                });
            }
            if state.open < self.settings.max_size() {
                state.open += 1;
                drop(state);
                return match self.open() {
                    Ok(client) => Ok(PooledClient {
                        client: Some(client),
                        pool: self,
                    }),
                    Err(e) => {
                        {
                            let mut state = self.lock();
                            state.open = state.open.saturating_sub(1);
                        }
                        self.freed.notify_one();
                        Err(PoolError::Connect {
                            target: self.target.clone(),
                            detail: tls::explain(&e).unwrap_or_else(|| with_causes(&e)),
                        })
                    }
                };
            }
            let waited = started.elapsed();
            let Some(left) = self.settings.wait().checked_sub(waited) else {
                return Err(PoolError::Timeout {
                    max_size: self.settings.max_size(),
                    waited_ms: waited.as_millis(),
                });
            };
            state = match self.freed.wait_timeout(state, left) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
    }

    fn give_back(&self, client: Client) {
        let mut state = self.lock();
        if client.is_closed() {
            state.open = state.open.saturating_sub(1);
        } else {
            state.idle.push(client);
        }
        drop(state);
        self.freed.notify_one();
    }
}

fn is_local(config: &Config) -> bool {
    // `hostaddr` overrides where a host name connects to.
    config.get_hostaddrs().iter().all(|ip| ip.is_loopback())
        && config.get_hosts().iter().all(|h| match h {
            postgres::config::Host::Tcp(name) => {
                name.eq_ignore_ascii_case("localhost")
                    || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
            }
            postgres::config::Host::Unix(_) => true,
        })
}

/// An error and its causes (`error connecting to server: Connection refused (os error 111)`).
pub(crate) fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

/// `host:port` list of a config, for messages (never the password).
fn describe_target(config: &Config) -> String {
    let ports = config.get_ports();
    config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            match host {
                postgres::config::Host::Tcp(h) => format!("{h}:{port}"),
                postgres::config::Host::Unix(p) => format!("{}:{port}", p.display()),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A connection borrowed from a [`Pool`]; it goes back when dropped (or is discarded if the
/// server closed it).
pub struct PooledClient<'a> {
    client: Option<Client>,
    pool: &'a Pool,
}

impl std::fmt::Debug for PooledClient<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PooledClient")
            .field("pool", &self.pool.target)
            .finish()
    }
}

impl PooledClient<'_> {
    /// Drops the connection instead of returning it to the pool (after a failure that may
    /// have left it in an unknown state).
    pub fn discard(mut self) {
        if self.client.take().is_some() {
            let mut state = self.pool.lock();
            state.open = state.open.saturating_sub(1);
            drop(state);
            self.pool.freed.notify_one();
        }
    }
}

impl Deref for PooledClient<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        // `client` is only `None` after `discard` (which consumes self) or inside `drop`.
        match &self.client {
            Some(c) => c,
            None => unreachable_client(),
        }
    }
}

impl DerefMut for PooledClient<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        match &mut self.client {
            Some(c) => c,
            None => unreachable_client(),
        }
    }
}

#[allow(clippy::panic)]
#[cold]
fn unreachable_client() -> ! {
    // Unreachable: the Option is emptied only by `discard(self)` and `drop`.
    panic!("pooled PostgreSQL client used after release")
}

impl Drop for PooledClient<'_> {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            self.pool.give_back(client);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn pool_and_store_errors_have_distinct_stable_codes() {
        let pool = PoolError::Timeout {
            max_size: 4,
            waited_ms: 10,
        };
        let codes = [
            PoolError::Config {
                detail: String::new(),
            }
            .code(),
            PoolError::Connect {
                target: String::new(),
                detail: String::new(),
            }
            .code(),
            pool.code(),
        ];
        assert_eq!(codes, ["pool_config", "connect_failed", "pool_timeout"]);
        #[cfg(feature = "saml")]
        assert_eq!(
            crate::saml::SamlStoreError::Pool(pool.clone()).code(),
            "pool_timeout"
        );
        #[cfg(feature = "testing")]
        assert_eq!(
            crate::testing::TestServerError::NotInstalled.code(),
            "postgres_not_installed"
        );
    }

    /// `setting` refused `value` with the stable code, naming the setting and the range.
    fn refused(result: Result<PoolSettings, PoolSettingsError>, setting: &str) {
        let err = result.expect_err("out of range");
        assert_eq!(err.code(), "pool_setting_out_of_range");
        assert!(matches!(&err, PoolSettingsError::OutOfRange { setting: s, .. } if *s == setting));
        let message = err.to_string();
        assert!(
            message.contains(setting) && message.contains("accepts"),
            "{message}"
        );
    }

    #[test]
    fn default_settings_are_the_documented_ones() {
        let s = PoolSettings::default();
        assert_eq!(s.max_size(), 16);
        assert_eq!(s.wait(), Duration::from_secs(5));
        assert_eq!(s.connect_timeout(), Duration::from_secs(5));
    }

    #[test]
    fn max_size_accepts_one_to_the_postgresql_limit() {
        let s = PoolSettings::default();
        assert_eq!(s.clone().with_max_size(1).unwrap().max_size(), 1);
        let top = s.clone().with_max_size(PoolSettings::MAX_SIZE).unwrap();
        assert_eq!(top.max_size(), 262_143);
        refused(s.clone().with_max_size(0), "max_size");
        refused(s.clone().with_max_size(PoolSettings::MAX_SIZE + 1), "max_size");
        refused(s.with_max_size(usize::MAX), "max_size");
    }

    #[test]
    fn wait_accepts_zero_to_ten_minutes() {
        let s = PoolSettings::default();
        assert_eq!(
            s.clone().with_wait(Duration::ZERO).unwrap().wait(),
            Duration::ZERO
        );
        let top = s.clone().with_wait(PoolSettings::MAX_WAIT).unwrap();
        assert_eq!(top.wait(), Duration::from_secs(600));
        refused(
            s.clone()
                .with_wait(PoolSettings::MAX_WAIT + Duration::from_nanos(1)),
            "wait",
        );
        refused(s.with_wait(Duration::MAX), "wait");
    }

    #[test]
    fn connect_timeout_accepts_a_millisecond_to_ten_minutes() {
        let s = PoolSettings::default();
        let low = s
            .clone()
            .with_connect_timeout(PoolSettings::MIN_CONNECT_TIMEOUT)
            .unwrap();
        assert_eq!(low.connect_timeout(), Duration::from_millis(1));
        let top = s
            .clone()
            .with_connect_timeout(PoolSettings::MAX_CONNECT_TIMEOUT)
            .unwrap();
        assert_eq!(top.connect_timeout(), Duration::from_secs(600));
        refused(s.clone().with_connect_timeout(Duration::ZERO), "connect_timeout");
        refused(
            s.clone().with_connect_timeout(Duration::from_micros(999)),
            "connect_timeout",
        );
        refused(
            s.clone()
                .with_connect_timeout(PoolSettings::MAX_CONNECT_TIMEOUT + Duration::from_nanos(1)),
            "connect_timeout",
        );
        refused(s.with_connect_timeout(Duration::MAX), "connect_timeout");
    }

    #[test]
    fn a_chain_of_setters_stops_at_the_first_refusal() {
        // The builder is consumed on error; a chain stops at the first refusal.
        let chained = PoolSettings::default()
            .with_max_size(4)
            .and_then(|s| s.with_wait(Duration::MAX))
            .and_then(|s| s.with_max_size(8));
        assert_eq!(
            chained.unwrap_err(),
            PoolSettingsError::OutOfRange {
                setting: "wait",
                value: format!("{:?}", Duration::MAX),
                min: "0ns".into(),
                max: "600s".into(),
            }
        );
    }
}
