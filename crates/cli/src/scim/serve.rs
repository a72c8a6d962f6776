//! `fedkit scim serve`: a SCIM 2.0 service provider over HTTP/1.1, for one tenant and one
//! bearer token.
//!
//! Each request goes through, in order: the base path (outside it → 404), bearer-token
//! authentication (→ 401 with `WWW-Authenticate: Bearer`), the per-token rate limit (→ 429
//! with `Retry-After`), the body cap (→ 413) and then the framework-free handler of
//! fedkit-scim-service, called on tokio's blocking pool through its `http` adapter. Every
//! refusal is a SCIM Error document. One log line per request goes to stderr.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::State;
use clap::Args;
use fedkit_postgres::scim::PgStore;
use fedkit_postgres::{Pool, PoolSettings};
use fedkit_scim::resource::UndefinedSchemas;
use fedkit_scim_service::auth::{AuthError, Principal, TenantId, TokenId, TokenRegistry};
use fedkit_scim_service::events::Event;
use fedkit_scim_service::ids::RandomIds;
use fedkit_scim_service::store::Store;
use fedkit_scim_service::ScimError;
use fedkit_scim_service::{RequestContext, ScimService, ScimSettings};
use fedkit_scim_sqlite::{Durability, SqliteStore};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};

use crate::output::{CommandError, Failure, Output, IO_ERROR};

/// Serve SCIM 2.0 over HTTP for one tenant, authenticated with one bearer token.
///
/// Point an identity provider at it: in JumpCloud, the Base URL is the URL printed on start
/// and the Token Key is the token (with or without a "Bearer " prefix). Users and groups are
/// kept in the database file (or, with --database, in PostgreSQL, shared by several servers
/// behind a load balancer) and survive restarts. Requests are logged to stderr, one line
/// each (method, path, status, duration, tenant; never the token or the body). Ctrl-C (or
/// SIGTERM) stops accepting connections and finishes the requests in flight.
#[derive(Debug, Args)]
#[command(after_long_help = SERVE_HELP)]
pub(crate) struct ServeArgs {
    /// The address to listen on, e.g. 127.0.0.1:8080 (port 0: any free port, printed on start).
    #[arg(long, value_name = "ADDR")]
    listen: SocketAddr,

    /// The bearer token clients must send (at least 16 characters; a "Bearer " prefix is
    /// ignored). Prefer the environment variable: a command line is visible to other users.
    #[arg(long, value_name = "TOKEN", env = "FEDKIT_SCIM_TOKEN", hide_env_values = true)]
    token: String,

    /// The database file (created when missing).
    #[arg(long, value_name = "PATH", default_value = "./fedkit-scim.sqlite3")]
    db: PathBuf,

    /// What a write survives once answered: "full" (a power loss; one fsync per write) or
    /// "process" (a crash of the server; a power loss can undo the last writes, which the
    /// identity provider's next sync repairs).
    #[arg(long, value_name = "LEVEL", value_enum, default_value_t = DurabilityArg::Full)]
    durability: DurabilityArg,

    /// Keep users and groups in PostgreSQL instead of the SQLite file, e.g.
    /// postgres://fedkit:PASSWORD@db.internal/fedkit?sslmode=verify-full&sslrootcert=/etc/fedkit/db-ca.pem:
    /// several servers behind a load balancer then share them. The tables are created on first start. Prefer the environment
    /// variable (the URL holds a password). TLS as in libpq: add
    /// ?sslmode=verify-full&sslrootcert=/path/to/ca.pem (or sslrootcert=system); a database
    /// off this machine without sslmode is refused (docs/scale.md).
    #[arg(
        long,
        value_name = "URL",
        env = "FEDKIT_SCIM_DATABASE_URL",
        hide_env_values = true,
        conflicts_with_all = ["db", "durability"]
    )]
    database: Option<String>,

    /// The path the SCIM endpoints live under ("/" for the root).
    #[arg(long, value_name = "PATH", default_value = "/scim/v2")]
    base_path: String,

    /// The tenant (customer organisation) the token's data belongs to.
    #[arg(long, value_name = "NAME", default_value = "default")]
    tenant: String,

    /// Requests per token: N/s, N/m or N/h (a burst of N is allowed), or "off".
    #[arg(long, value_name = "N/s", default_value = "100/s")]
    rate_limit: RateLimit,

    /// The Base URL clients use when it differs from http://ADDR/BASE-PATH (behind a TLS
    /// reverse proxy): e.g. <https://scim.example.com/scim/v2>. Used in Location and
    /// meta.location.
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,

    /// Read SCIM as RFC 7643/7644 write it instead of the default "IdP-compatible" profile:
    /// PATCH tolerances off (lowercase op names, JSON booleans), a replace whose value filter
    /// matches nothing answers noTarget, and a "schemas" entry this server does not define is
    /// refused. --unmatched-filter and --undefined-schemas override the profile's choice.
    #[arg(long)]
    strict: bool,

    /// A PATCH replace whose value filter matches nothing, e.g. Entra ID's
    /// addresses[type eq "work"].formatted for a user without a work address: "create" the
    /// value the filter describes (default) or answer "no-target" (RFC 7644 §3.5.2.3; the
    /// default with --strict). An add always creates it (RFC 7644 §3.5.2.1).
    #[arg(long, value_name = "WHAT", value_enum)]
    unmatched_filter: Option<UnmatchedFilterArg>,

    /// A "schemas" entry this server does not define and no attribute of the body uses, e.g.
    /// Entra ID's <http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group>:
    /// "ignore" it and log it (default) or "reject" it with 400 (the default with --strict).
    /// Attributes under such a URN are refused either way.
    #[arg(long, value_name = "WHAT", value_enum)]
    undefined_schemas: Option<UndefinedSchemasArg>,

    /// The most members a group is returned with inline (default 10000). A larger group is
    /// returned without "members", and asking for them with attributes=members is 400
    /// tooMany; clients page them with GET /Users?filter=groups.value eq "GROUP-ID".
    #[arg(long, value_name = "N", default_value_t = fedkit_scim_service::DEFAULT_MAX_INLINE_MEMBERS)]
    max_inline_members: usize,
}

/// `--unmatched-filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum UnmatchedFilterArg {
    /// Create the value the filter describes.
    Create,
    /// Answer 400 noTarget.
    NoTarget,
}

/// `--undefined-schemas`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum UndefinedSchemasArg {
    /// Ignore the entry (and log it).
    Ignore,
    /// Answer 400 invalidValue.
    Reject,
}

/// The service configuration the profile flags select.
fn service_config(args: &ServeArgs) -> Result<ScimSettings, Failure> {
    let mut config = if args.strict {
        ScimSettings::strict()
    } else {
        ScimSettings::default()
    };
    if let Some(u) = args.unmatched_filter {
        let patch = config
            .patch_options()
            .clone()
            .with_create_on_unmatched_filter(u == UnmatchedFilterArg::Create);
        config = config.with_patch_options(patch);
    }
    if let Some(u) = args.undefined_schemas {
        config = config.with_undefined_schemas(match u {
            UndefinedSchemasArg::Ignore => UndefinedSchemas::IgnoreUnused,
            UndefinedSchemasArg::Reject => UndefinedSchemas::Reject,
        });
    }
    config
        .with_max_inline_members(args.max_inline_members)
        .map_err(|e| Failure::new("invalid_setting", format!("--max-inline-members: {e}")))
}

/// Logs the events an administrator should see: schema URNs the service ignored.
fn log_events(events: &[Event]) {
    for e in events {
        if let Event::SchemaIgnored {
            tenant,
            kind,
            id,
            urns,
            ..
        } = e
        {
            eprintln!(
                "fedkit scim serve: tenant {tenant}: {} {id}: ignored schemas entries this server does not define \
                 and no attribute uses: {} (--undefined-schemas reject refuses them)",
                kind.name(),
                urns.join(", ")
            );
        }
    }
}

const SERVE_HELP: &str = "\
Examples:
  FEDKIT_SCIM_TOKEN=scim_4f9d2c7e1b8a6d3f0e5c fedkit scim serve --listen 127.0.0.1:8080
  fedkit scim serve --listen 0.0.0.0:8080 --db /var/lib/fedkit/scim.sqlite3 \\
      --public-url https://scim.example.com/scim/v2 --rate-limit 20/s
  # Several servers behind a load balancer, one PostgreSQL database (same token on each):
  FEDKIT_SCIM_DATABASE_URL='postgres://fedkit:PASSWORD@db.internal:5432/fedkit?sslmode=verify-full&sslrootcert=/etc/fedkit/db-ca.pem' \\
      fedkit scim serve --listen 0.0.0.0:8080 --public-url https://scim.example.com/scim/v2

JumpCloud (SSO Applications > your app > Identity Management > SCIM 2.0):
  Base URL    the Base URL printed on start (or --public-url); no trailing slash
  Token Key   the token, e.g. \"Bearer scim_4f9d2c7e1b8a6d3f0e5c\" (the prefix is optional)
  Then click Test Connection: JumpCloud reads /ServiceProviderConfig, /ResourceTypes,
  /Schemas and looks up its test user with GET /Users?filter=userName eq \"...\".
JumpCloud must reach the server over HTTPS: put a TLS reverse proxy in front of it.

Profiles: by default the server is IdP-compatible (Entra ID, Okta, JumpCloud as they really
send SCIM: capitalised PATCH ops, \"False\" strings, value-filter PATCHes that create the value,
undefined \"schemas\" entries ignored and logged). --strict reads RFC 7643/7644 literally.

Answers: every failure is a SCIM Error document (application/scim+json): 401 with
WWW-Authenticate: Bearer for a missing or wrong token, 429 with Retry-After beyond
--rate-limit, 413 for a body over 1 MiB, 404 outside --base-path, 415 for a write whose
Content-Type is not application/scim+json or application/json (none is read as JSON), 406
for an Accept that allows neither, 400 invalidSyntax for a JSON object with a duplicated
member, 400 invalidValue for a control character in a value.
Exit status: 0 after Ctrl-C or SIGTERM; 1 when the token, tenant, base path, URL or
database is refused or the address cannot be bound; 2 usage error.";

/// The default body cap when the service configuration allows less (it does not today).
const MIN_BODY_CAP: usize = 64 * 1024;

/// How long a client may take to send its body.
const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a connection may stay idle or take to send a request's headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// Connections served at once; more wait in the listen backlog.
const MAX_CONNECTIONS: usize = 512;

/// How long Ctrl-C waits for the requests in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// `--rate-limit`: at most `requests` per `period` per token, in bursts of up to `requests`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RateLimit {
    Off,
    Every { requests: u32, period: Duration },
}

impl FromStr for RateLimit {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("off") {
            return Ok(Self::Off);
        }
        let usage = || format!("expected N/s, N/m, N/h or off (e.g. 100/s), got {s:?}");
        let (n, unit) = s.split_once('/').ok_or_else(usage)?;
        let requests: u32 = n.trim().parse().map_err(|_| usage())?;
        if requests == 0 {
            return Err("the rate limit must allow at least 1 request (or be \"off\")".to_owned());
        }
        let period = match unit.trim() {
            "s" | "sec" => Duration::from_secs(1),
            "m" | "min" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            _ => return Err(usage()),
        };
        Ok(Self::Every { requests, period })
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Off => f.write_str("off"),
            Self::Every { requests, period } => {
                let unit = match period.as_secs() {
                    1 => "s",
                    60 => "m",
                    _ => "h",
                };
                write!(f, "{requests}/{unit}")
            }
        }
    }
}

/// A token bucket per bearer token: `capacity` requests at once, refilled continuously at
/// `per_second`.
#[derive(Debug)]
struct RateLimiter {
    capacity: f64,
    per_second: f64,
    buckets: Mutex<HashMap<TokenId, (f64, Instant)>>,
}

impl RateLimiter {
    fn new(limit: RateLimit) -> Option<Self> {
        let RateLimit::Every { requests, period } = limit else {
            return None;
        };
        Some(Self {
            capacity: f64::from(requests),
            per_second: f64::from(requests) / period.as_secs_f64(),
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Takes one request from `token`'s bucket, or says how long until one is available.
    fn check(&self, token: TokenId, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let (tokens, last) = buckets.entry(token).or_insert((self.capacity, now));
        let refill = now.saturating_duration_since(*last).as_secs_f64() * self.per_second;
        *tokens = (*tokens + refill).min(self.capacity);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / self.per_second))
        }
    }
}

/// Everything a request needs, shared by all of them.
struct App {
    service: Arc<ScimService>,
    tokens: TokenRegistry,
    limiter: Option<RateLimiter>,
    rate_limit: RateLimit,
    base_path: String,
    base_url: String,
    body_cap: usize,
}

/// THE ONE PLACE THE STORE IS CHOSEN: the store and how to describe it in the banner.
///
/// Blocking (PostgreSQL's driver runs its own runtime): call it outside async code, and drop
/// the last reference to the store outside async code too.
fn open_store(args: &ServeArgs) -> Result<(Arc<dyn Store>, String), Failure> {
    match &args.database {
        Some(url) => open_postgres(url),
        None => open_sqlite(&args.db, args.durability),
    }
}

/// `--database`: PostgreSQL. Messages name the host and port, never the URL (it holds the
/// password).
fn open_postgres(url: &str) -> Result<(Arc<dyn Store>, String), Failure> {
    let refused = |detail: String| {
        Failure::new(
            "invalid_database",
            format!("--database / FEDKIT_SCIM_DATABASE_URL: cannot use the PostgreSQL database: {detail}"),
        )
    };
    let pool = Pool::connect(url, PoolSettings::default()).map_err(|e| refused(e.to_string()))?;
    let mode = pool.tls_mode();
    let described = if mode.authenticates_server() {
        format!("PostgreSQL at {} over TLS (sslmode={mode})", pool.target())
    } else if pool.is_local() {
        format!("PostgreSQL at {} (sslmode={mode})", pool.target())
    } else {
        format!(
            "PostgreSQL at {} (sslmode={mode}: WARNING, the database server is not \
             authenticated; use sslmode=verify-full&sslrootcert=CA.pem)",
            pool.target()
        )
    };
    let store = PgStore::new(Arc::new(pool)).map_err(|e| refused(e.to_string()))?;
    Ok((Arc::new(store), described))
}

fn open_sqlite(db: &Path, durability: DurabilityArg) -> Result<(Arc<dyn Store>, String), Failure> {
    let refused = |e: fedkit_scim_service::store::StoreError| {
        Failure::new(
            "invalid_database",
            format!("--db {}: cannot open the SCIM database: {e}", db.display()),
        )
    };
    let store = SqliteStore::open(db)
        .and_then(|s| s.with_durability(durability.into()))
        .map_err(refused)?;
    Ok((
        Arc::new(store),
        format!("database {} (durability {durability})", db.display()),
    ))
}

/// `--durability`: what a commit survives before the answer goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum DurabilityArg {
    /// A power loss: one fsync per write request.
    Full,
    /// A crash of the process: a power loss can undo the last writes (about 5x faster writes).
    Process,
}

impl From<DurabilityArg> for Durability {
    fn from(d: DurabilityArg) -> Self {
        match d {
            DurabilityArg::Full => Durability::Full,
            DurabilityArg::Process => Durability::Process,
        }
    }
}

impl fmt::Display for DurabilityArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Full => "full",
            Self::Process => "process",
        })
    }
}

/// `/scim/v2/` → `/scim/v2`, `/` → ``; refuses what is not an absolute URL path.
fn normalize_base_path(base: &str) -> Result<String, Failure> {
    let ok = base.starts_with('/')
        && !base.contains(['?', '#', '%'])
        && base.chars().all(|c| c.is_ascii_graphic());
    if !ok {
        return Err(Failure::new(
            "invalid_base_path",
            format!("--base-path {base:?}: expected an absolute URL path such as /scim/v2"),
        ));
    }
    Ok(base.trim_end_matches('/').to_owned())
}

fn normalize_public_url(url: &str) -> Result<String, Failure> {
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && !url.contains(['?', '#'])
        && url.chars().all(|c| c.is_ascii_graphic());
    if !ok {
        return Err(Failure::new(
            "invalid_public_url",
            format!("--public-url {url:?}: expected an http(s) URL such as https://scim.example.com/scim/v2"),
        ));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

pub(crate) fn run(args: &ServeArgs, _json: bool) -> Result<Output, CommandError> {
    let tenant = TenantId::new(args.tenant.clone())
        .map_err(|e| Failure::new("invalid_tenant", format!("--tenant: {e}")))?;
    let tokens = TokenRegistry::new();
    tokens
        .add(&tenant, &args.token)
        .map_err(|e| Failure::new("invalid_token", format!("--token / FEDKIT_SCIM_TOKEN: {e}")))?;
    let base_path = normalize_base_path(&args.base_path)?;
    let public_url = args.public_url.as_deref().map(normalize_public_url).transpose()?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(IO_ERROR, format!("cannot start the async runtime: {e}")))?;
    let (listener, bound) = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| Failure::new("bind_failed", format!("cannot listen on {}: {e}", args.listen)))?;
        let bound = listener
            .local_addr()
            .map_err(|e| Failure::new("bind_failed", format!("cannot listen on {}: {e}", args.listen)))?;
        Ok::<_, Failure>((listener, bound))
    })?;
    // Outside the runtime: opening a PostgreSQL store blocks. `store` is also the reference
    // dropped last, after the runtime (a PostgreSQL connection must not be dropped on a
    // runtime thread).
    let settings = service_config(args)?;
    let (store, store_description) = open_store(args)?;
    let output = runtime.block_on(async {
        let service = ScimService::new(Arc::clone(&store), Arc::new(RandomIds::new()))
            .with_config(settings)
            .with_events(Arc::new(log_events));
        let config = service.config();
        let body_cap = config.max_request_bytes().max(MIN_BODY_CAP);
        let base_url = public_url.unwrap_or_else(|| format!("http://{bound}{base_path}"));
        let app = Arc::new(App {
            service: Arc::new(service),
            tokens,
            limiter: RateLimiter::new(args.rate_limit),
            rate_limit: args.rate_limit,
            base_path,
            base_url,
            body_cap,
        });
        print_banner(&app, bound, &tenant, &store_description);
        let router = axum::Router::new()
            .fallback(serve_request)
            .with_state(Arc::clone(&app));
        serve_connections(listener, router).await;
        eprintln!("fedkit scim serve: stopped");
        Output::success(Vec::new())
    });
    drop(runtime);
    drop(store);
    Ok(output)
}

fn print_banner(app: &App, bound: SocketAddr, tenant: &TenantId, store: &str) {
    eprintln!(
        "fedkit scim serve: listening on http://{bound} (tenant \"{tenant}\", {store}, rate limit {} per token)",
        app.rate_limit,
    );
    eprintln!("  JumpCloud Base URL:  {}", app.base_url);
    eprintln!(
        "  JumpCloud Token Key: the token given with --token or FEDKIT_SCIM_TOKEN, e.g. \"Bearer <token>\" (the \"Bearer \" prefix is optional)"
    );
    if app.base_url.starts_with("http://") {
        eprintln!(
            "  JumpCloud reaches SCIM services over HTTPS: put a TLS reverse proxy in front and pass its URL with --public-url"
        );
    }
}

/// Accepts connections until Ctrl-C/SIGTERM, at most [`MAX_CONNECTIONS`] at once, each closed
/// when it sends no complete request head within [`HEADER_TIMEOUT`] (slow or idle clients);
/// then waits up to [`SHUTDOWN_GRACE`] for the requests in flight.
async fn serve_connections(listener: tokio::net::TcpListener, router: axum::Router) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let mut shutdown = std::pin::pin!(shutdown_signal());
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(s) => s,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // E.g. out of file descriptors: wait instead of spinning.
                    eprintln!("fedkit scim serve: cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT);
        let connection = builder.serve_connection(
            hyper_util::rt::TokioIo::new(stream),
            hyper_util::service::TowerToHyperService::new(router.clone()),
        );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that goes away mid-request is not the server's error.
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        eprintln!(
            "fedkit scim serve: requests still running after {} s are abandoned",
            SHUTDOWN_GRACE.as_secs()
        );
    }
}

/// Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    eprintln!("fedkit scim serve: shutting down (finishing the requests in flight)");
}

type HttpResponse = axum::http::Response<Vec<u8>>;

fn scim_error(status: u16, detail: impl Into<String>) -> HttpResponse {
    fedkit_scim_service::http::error_response(&ScimError::new(status, None, detail))
}

async fn serve_request(
    State(app): State<Arc<App>>,
    request: axum::extract::Request,
) -> axum::response::Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let (tenant, response) = respond(&app, request).await;
    eprintln!(
        "{} {method} {path} {} {:.1}ms tenant={}",
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0,
        tenant.as_ref().map_or("-", TenantId::as_str),
    );
    response.map(Body::from)
}

/// The response, and the tenant when the request authenticated.
async fn respond(app: &Arc<App>, request: axum::extract::Request) -> (Option<TenantId>, HttpResponse) {
    if fedkit_scim_service::http::strip_base_path(&app.base_path, request.uri().path()).is_none() {
        let detail = format!(
            "no SCIM endpoint at {:?}; the SCIM Base URL is {} (check the Base URL field in the IdP)",
            request.uri().path(),
            app.base_url
        );
        return (
            None,
            fedkit_scim_service::http::error_response(&ScimError::not_found(detail)),
        );
    }
    let principal = match authenticate(app, &request) {
        Ok(p) => p,
        Err(e) => return (None, unauthorized(&e)),
    };
    let tenant = Some(principal.tenant.clone());
    if let Some(limiter) = &app.limiter {
        if let Err(wait) = limiter.check(principal.token, Instant::now()) {
            return (tenant, too_many_requests(app.rate_limit, wait));
        }
    }
    let (parts, body) = request.into_parts();
    let body = match read_body(&parts.headers, body, app.body_cap).await {
        Ok(b) => b,
        Err(response) => return (tenant, response),
    };
    let request = axum::http::Request::from_parts(parts, body);
    let app = Arc::clone(app);
    let result = tokio::task::spawn_blocking(move || {
        let ctx = RequestContext {
            tenant: &principal.tenant,
            base_url: &app.base_url,
            now: chrono::Utc::now(),
        };
        fedkit_scim_service::http::handle_under(&app.service, &ctx, &app.base_path, &request)
    })
    .await;
    let response = result.unwrap_or_else(|e| {
        // The handler does not panic on any input; should it, the client still gets SCIM.
        scim_error(500, format!("the request could not be completed: {e}"))
    });
    (tenant, response)
}

fn authenticate(app: &App, request: &axum::extract::Request) -> Result<Principal, AuthError> {
    let header = match request.headers().get(axum::http::header::AUTHORIZATION) {
        None => None,
        Some(v) => Some(v.to_str().map_err(|_| AuthError::InvalidToken)?),
    };
    app.tokens.authenticate(header)
}

/// 401 with `WWW-Authenticate` (RFC 6750 §3) and the SCIM Error document.
fn unauthorized(error: &AuthError) -> HttpResponse {
    fedkit_scim_service::http::into_http_response(fedkit_scim_service::host::auth_error_response(
        error,
        "fedkit-scim",
    ))
}

fn too_many_requests(limit: RateLimit, wait: Duration) -> HttpResponse {
    let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
    let mut response = scim_error(
        429,
        format!(
            "too many requests with this token: the limit is {limit} (raise it with --rate-limit); retry after {seconds} s"
        ),
    );
    response.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from(seconds),
    );
    response
}

/// The body, at most `cap` bytes, within [`BODY_TIMEOUT`].
async fn read_body(headers: &axum::http::HeaderMap, body: Body, cap: usize) -> Result<Bytes, HttpResponse> {
    let too_large = |size: Option<u64>| {
        let size = size.map_or_else(|| format!("more than {cap}"), |s| s.to_string());
        scim_error(
            413,
            format!("the request body is {size} bytes; this service accepts at most {cap} bytes"),
        )
    };
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > cap as u64) {
        return Err(too_large(declared));
    }
    match tokio::time::timeout(BODY_TIMEOUT, Limited::new(body, cap).collect()).await {
        Err(_) => Err(scim_error(
            408,
            format!(
                "the request body did not arrive within {} s",
                BODY_TIMEOUT.as_secs()
            ),
        )),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large(None)),
        Ok(Err(e)) => Err(scim_error(
            400,
            format!("the request body could not be read: {e}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn rate_limit_syntax() {
        assert_eq!("off".parse::<RateLimit>(), Ok(RateLimit::Off));
        assert_eq!(
            "5/s".parse::<RateLimit>(),
            Ok(RateLimit::Every {
                requests: 5,
                period: Duration::from_secs(1)
            })
        );
        assert_eq!("600/m".parse::<RateLimit>().unwrap().to_string(), "600/m");
        assert_eq!("1000/h".parse::<RateLimit>().unwrap().to_string(), "1000/h");
        for bad in ["0/s", "5", "5/d", "-1/s", "x/s", ""] {
            assert!(bad.parse::<RateLimit>().is_err(), "{bad}");
        }
    }

    #[test]
    fn token_bucket_allows_a_burst_then_refills() {
        let tokens = TokenRegistry::new();
        let tenant = TenantId::new("t").unwrap();
        let a = tokens.add(&tenant, "scim_aaaaaaaaaaaaaaaa").unwrap();
        let b = tokens.add(&tenant, "scim_bbbbbbbbbbbbbbbb").unwrap();
        let limiter = RateLimiter::new("5/s".parse().unwrap()).unwrap();
        let t0 = Instant::now();
        for _ in 0..5 {
            assert_eq!(limiter.check(a, t0), Ok(()));
        }
        let wait = limiter.check(a, t0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.2).abs() < 1e-6, "{wait:?}");
        // Another token has its own bucket.
        assert_eq!(limiter.check(b, t0), Ok(()));
        // 200 ms later one request is available again, not two.
        let t1 = t0 + Duration::from_millis(200);
        assert_eq!(limiter.check(a, t1), Ok(()));
        assert!(limiter.check(a, t1).is_err());
        // A long pause refills to the burst size, not beyond.
        let t2 = t1 + Duration::from_secs(60);
        for _ in 0..5 {
            assert_eq!(limiter.check(a, t2), Ok(()));
        }
        assert!(limiter.check(a, t2).is_err());
        assert!(RateLimiter::new(RateLimit::Off).is_none());
    }

    #[test]
    fn retry_after_is_whole_seconds_at_least_one() {
        let r = too_many_requests("5/s".parse().unwrap(), Duration::from_millis(200));
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], "1");
        let r = too_many_requests("1/m".parse().unwrap(), Duration::from_millis(59_001));
        assert_eq!(r.headers()["retry-after"], "60");
        let doc: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(doc["status"], "429");
        assert!(doc["detail"].as_str().unwrap().contains("1/m"));
    }

    #[test]
    fn base_paths_and_urls() {
        assert_eq!(normalize_base_path("/scim/v2/").unwrap(), "/scim/v2");
        assert_eq!(normalize_base_path("/").unwrap(), "");
        for bad in ["scim/v2", "/scim v2", "/scim?x", "/%2e%2e", ""] {
            assert!(normalize_base_path(bad).is_err(), "{bad}");
        }
        assert_eq!(
            normalize_public_url("https://scim.example.com/scim/v2/").unwrap(),
            "https://scim.example.com/scim/v2"
        );
        assert!(normalize_public_url("ftp://x").is_err());
        assert!(normalize_public_url("https://x/a?b").is_err());
    }

    #[test]
    fn unauthorized_carries_a_bearer_challenge_and_no_token() {
        let r = unauthorized(&AuthError::InvalidToken);
        assert_eq!(r.status(), 401);
        assert!(r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer "));
        let doc: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(doc["status"], "401");
    }
}
