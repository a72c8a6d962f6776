//! A small blocking connection pool shared by the SCIM store and the SAML caches.
//!
//! Connections are opened on demand up to [`PoolConfig::max_size`]; a caller that finds every
//! connection busy waits up to [`PoolConfig::wait`] and then gets [`PoolError::Timeout`].
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

/// How a [`Pool`] connects and how many connections it keeps.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// The most connections open at once (default 16).
    pub max_size: usize,
    /// How long [`Pool::get`] waits for a free connection before failing (default 5 s).
    pub wait: Duration,
    /// Timeout of one connection attempt (default 5 s).
    pub connect_timeout: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_size: 16,
            wait: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
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
    settings: PoolConfig,
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
    pub fn connect(url: &str, settings: PoolConfig) -> Result<Pool, PoolError> {
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
        config.connect_timeout(settings.connect_timeout);
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

    /// A connection, waiting up to [`PoolConfig::wait`] for one to be free.
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
            if state.open < self.settings.max_size {
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
            let Some(left) = self.settings.wait.checked_sub(waited) else {
                return Err(PoolError::Timeout {
                    max_size: self.settings.max_size,
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
}
