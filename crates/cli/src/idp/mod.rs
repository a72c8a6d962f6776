//! `fedkit idp serve`: a local SAML 2.0 Identity Provider shaped like JumpCloud, for
//! developing and testing Service Providers without an IdP account. A development tool:
//! anyone who can reach it logs in as any user it lists.
//!
//! The library form, [`TestIdp`], is the same signer in process, for tests (see its
//! documentation); the rest of this module is the binary's.

mod html;
mod keys;
mod library;
mod protocol;
mod server;
mod sp;
mod users;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde::Serialize;

use crate::output::{CommandError, Failure, Output, IO_ERROR};

pub use library::{SignedResponse, TestIdp, TestIdpError};
pub use protocol::{Fault, SignMode};

/// A local test Identity Provider (development only).
#[derive(Debug, Args)]
pub(crate) struct IdpArgs {
    #[command(subcommand)]
    command: IdpCommand,
}

#[derive(Debug, Subcommand)]
enum IdpCommand {
    /// Run a local SAML IdP shaped like JumpCloud, for developing an SP. Never in production.
    Serve(ServeArgs),
}

/// `fedkit idp serve`.
#[derive(Debug, Args)]
#[command(after_long_help = SERVE_HELP)]
pub(crate) struct ServeArgs {
    /// Address to listen on, e.g. 127.0.0.1:8081 (port 0 picks a free port; the banner shows it).
    #[arg(long, value_name = "ADDR")]
    listen: SocketAddr,

    /// The SP's SAML metadata (entity ID, ACS URLs, SLO URL, request-signing certificate).
    #[arg(long, value_name = "FILE", required_unless_present = "sp_entity_id",
          conflicts_with_all = ["sp_entity_id", "acs_url", "sp_slo_url", "sp_cert"])]
    sp_metadata: Option<PathBuf>,

    /// The SP entity ID (JumpCloud: "SP Entity ID"; the Audience), without --sp-metadata.
    #[arg(long, value_name = "ID", requires = "acs_url")]
    sp_entity_id: Option<String>,

    /// The SP's ACS URL (JumpCloud: "ACS URLs"); repeat for several, the first is the default.
    #[arg(long, value_name = "URL", requires = "sp_entity_id")]
    acs_url: Vec<String>,

    /// The SP's Single Logout URL (HTTP-POST), without --sp-metadata.
    #[arg(long, value_name = "URL", requires = "sp_entity_id")]
    sp_slo_url: Option<String>,

    /// The SP's request-signing certificate (PEM), without --sp-metadata: AuthnRequests and
    /// LogoutRequests must then be signed with its key.
    #[arg(long, value_name = "PEM", requires = "sp_entity_id")]
    sp_cert: Option<PathBuf>,

    /// Users offered on the login page: a JSON array of {"email", "firstName", "lastName",
    /// "groups" (optional)}. Default: three demo users.
    #[arg(long, value_name = "FILE")]
    users: Option<PathBuf>,

    /// What to sign (JumpCloud's "Sign" setting; JumpCloud's default is the Response).
    #[arg(long, value_enum, default_value = "response")]
    sign: SignMode,

    /// The IdP's RSA private key (PEM), instead of the generated one.
    #[arg(long, value_name = "PEM", requires = "cert", conflicts_with = "state_dir")]
    key: Option<PathBuf>,

    /// The IdP's certificate (PEM) for --key, published in the metadata.
    #[arg(long, value_name = "PEM", requires = "key")]
    cert: Option<PathBuf>,

    /// Where the generated key and certificate are kept (fedkit-idp-key.pem,
    /// fedkit-idp-cert.pem), so restarts publish the same metadata.
    #[arg(long, value_name = "DIR", default_value = ".")]
    state_dir: PathBuf,

    /// The application name APP in the SSO URL BASE-URL/saml2/APP (JumpCloud: "SSO IdP URL" value).
    #[arg(long, value_name = "NAME", default_value = "fedkit-test")]
    app: String,

    /// The IdP entity ID. Default: the SSO URL, BASE-URL/saml2/APP.
    #[arg(long, value_name = "ID")]
    entity_id: Option<String>,

    /// The URL browsers reach the IdP at (BASE-URL), when not http://LISTEN-ADDRESS (a proxy, a
    /// container, another host name).
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
}

const SERVE_HELP: &str = "\
A DEVELOPMENT TOOL: anyone who can reach it logs in as any listed user, with no password.
Never expose it or use it in production.

What it serves (like a JumpCloud custom SAML application):
  /metadata          IdP metadata: entity ID, signing certificate, SSO and SLO endpoints
                     (HTTP-Redirect and HTTP-POST), NameIDFormat emailAddress
  /saml2/<APP>       SSO: AuthnRequests over HTTP-Redirect (GET) or HTTP-POST; GET without
                     SAMLRequest (optionally ?RelayState=...) starts an IdP-initiated login
  /saml2/<APP>/slo   Single Logout: LogoutRequests over HTTP-Redirect or HTTP-POST, answered
                     with a signed LogoutResponse to the SP's SLO URL
  /headless/sso      headless login for tests (JSON POST, Content-Type: application/json):
                     {\"user\", \"fault\", \"saml_request\", \"relay_state\", \"sp\"} (all but user
                     optional) answered with {\"acs_url\", \"saml_response\", \"relay_state\"}: what
                     the login page's form would post; refusals {\"error\": {\"code\", \"message\"}}
  /                  the IdP-initiated login page and the URLs above

The login page lists the users; clicking one posts a Response to the SP's ACS URL with the
email as NameID (emailAddress format), attributes email, firstName, lastName (and memberOf
for users with groups), InResponseTo the request, Audience = the SP entity ID, valid from 60 s
before issue for 5 minutes, signed (RSA-SHA256, exclusive c14n) as --sign says.

Requests from the SP are checked: Issuer = SP entity ID, Destination = this endpoint, the ACS
URL registered; when the SP metadata says AuthnRequestsSigned=\"true\" (or --sp-cert is given)
AuthnRequests and LogoutRequests must carry a valid signature by the SP key.

Without --key/--cert, an RSA-2048 key and a self-signed certificate are generated on first
start into --state-dir and reused afterwards. HTTP only (no TLS): for loopback use. The
metadata's endpoints are http:// URLs; fedkit-metadata imports them only with
ImportSettings::dangerous_allow_http_endpoints().

Examples:
  fedkit idp serve --listen 127.0.0.1:8081 --sp-metadata sp-metadata.xml
  fedkit idp serve --listen 127.0.0.1:8081 --sp-entity-id http://localhost:3000/saml/metadata \\
      --acs-url http://localhost:3000/saml/acs --sign both --users users.json --state-dir .fedkit-idp

With --json, one line of JSON is printed once listening: listen, metadata_url, entity_id,
sso_url, slo_url, sign, users, key (generated|loaded|given).";

/// The start-up document printed under `--json`.
#[derive(Debug, Serialize)]
struct Started<'a> {
    listen: String,
    metadata_url: String,
    entity_id: &'a str,
    sso_url: String,
    slo_url: String,
    sign: &'static str,
    users: usize,
    key: &'static str,
}

pub(crate) fn run(args: &IdpArgs, json: bool) -> Result<Output, CommandError> {
    match &args.command {
        IdpCommand::Serve(a) => serve(a, json),
    }
}

fn read_file(path: &PathBuf) -> Result<Vec<u8>, Failure> {
    std::fs::read(path)
        .map_err(|e| Failure::new(IO_ERROR, format!("{}: cannot read the file: {e}", path.display())))
}

fn check_app(app: &str) -> Result<(), CommandError> {
    if app.is_empty()
        || app.len() > 64
        || !app
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(CommandError::Usage {
            command: &["idp", "serve"],
            message: format!("--app {app:?}: use 1 to 64 letters, digits, '-', '_' or '.'"),
        });
    }
    Ok(())
}

/// The base URL browsers use: `--base-url`, or `http://` and the bound address (loopback
/// for an unspecified address).
fn base_url(given: Option<&str>, bound: SocketAddr) -> Result<String, CommandError> {
    if let Some(url) = given {
        let trimmed = url.trim_end_matches('/');
        let lower = trimmed.to_ascii_lowercase();
        let ok = (lower.starts_with("http://") || lower.starts_with("https://"))
            && !trimmed
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '?' | '#'));
        if !ok {
            return Err(CommandError::Usage {
                command: &["idp", "serve"],
                message: format!(
                    "--base-url {url:?}: give an absolute http(s) URL without query or fragment"
                ),
            });
        }
        return Ok(trimmed.to_owned());
    }
    let ip = match bound.ip() {
        std::net::IpAddr::V4(v4) if v4.is_unspecified() => {
            std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
        }
        std::net::IpAddr::V6(v6) if v6.is_unspecified() => {
            std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)
        }
        ip => ip,
    };
    Ok(format!("http://{}", SocketAddr::new(ip, bound.port())))
}

fn serve(a: &ServeArgs, json: bool) -> Result<Output, CommandError> {
    check_app(&a.app)?;
    let sp = match (&a.sp_metadata, &a.sp_entity_id) {
        (Some(path), _) => sp::from_metadata(&path.display().to_string(), &read_file(path)?)?,
        (None, Some(entity_id)) => {
            let cert = match &a.sp_cert {
                Some(path) => Some((
                    path.display().to_string(),
                    String::from_utf8(read_file(path)?).map_err(|_| {
                        Failure::new(
                            crate::output::BAD_PEM,
                            format!("{}: not a text file", path.display()),
                        )
                    })?,
                )),
                None => None,
            };
            sp::from_flags(
                entity_id,
                &a.acs_url,
                a.sp_slo_url.as_deref(),
                cert.as_ref().map(|(s, p)| (s.as_str(), p.as_str())),
            )?
        }
        (None, None) => {
            return Err(CommandError::Usage {
                command: &["idp", "serve"],
                message: "give --sp-metadata FILE, or --sp-entity-id ID with --acs-url URL".to_owned(),
            })
        }
    };
    let users = match &a.users {
        Some(path) => users::parse_users(&path.display().to_string(), &read_file(path)?)?,
        None => users::demo_users(),
    };
    let now = chrono::Utc::now();
    let material = match (&a.key, &a.cert) {
        (Some(key), Some(cert)) => keys::from_files(key, cert)?,
        _ => keys::load_or_generate(&a.state_dir, now)?,
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::new("runtime_failed", format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(a.listen).await.map_err(|e| {
            Failure::new(
                "listen_failed",
                format!(
                    "cannot listen on {}: {e} (choose another --listen address or port)",
                    a.listen
                ),
            )
        })?;
        let bound = listener
            .local_addr()
            .map_err(|e| Failure::new("listen_failed", format!("cannot read the bound address: {e}")))?;
        let base = base_url(a.base_url.as_deref(), bound)?;
        let entity_id = a
            .entity_id
            .clone()
            .unwrap_or_else(|| format!("{base}/saml2/{}", a.app));
        let idp = protocol::Idp {
            base_url: base,
            app: a.app.clone(),
            entity_id,
            sp,
            users,
            sign: a.sign,
            key: material.key,
            certificate_der: material.certificate_der,
        };
        announce(&idp, bound, &material.origin, json);
        let app = server::router(idp);
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .map_err(|e| Failure::new("server_failed", format!("the server stopped: {e}")))?;
        eprintln!("fedkit test IdP stopped.");
        Ok::<(), CommandError>(())
    })?;
    Ok(Output::success(Vec::new()))
}

fn sign_name(mode: SignMode) -> &'static str {
    match mode {
        SignMode::Assertion => "assertion",
        SignMode::Response => "response",
        SignMode::Both => "both",
    }
}

/// The start-up banner (stdout), or the `--json` line (stdout) with the banner on stderr.
fn announce(idp: &protocol::Idp, bound: SocketAddr, origin: &keys::Origin, json: bool) {
    let key = match origin {
        keys::Origin::Given => "given",
        keys::Origin::Loaded(_) => "loaded",
        keys::Origin::Generated(_) => "generated",
    };
    let key_line = match origin {
        keys::Origin::Given => "--key/--cert".to_owned(),
        keys::Origin::Loaded(dir) => format!(
            "loaded from {} ({}, {})",
            dir.display(),
            keys::KEY_FILE,
            keys::CERT_FILE
        ),
        keys::Origin::Generated(dir) => format!(
            "generated now, kept in {} ({}, {}) for the next start",
            dir.display(),
            keys::KEY_FILE,
            keys::CERT_FILE
        ),
    };
    let mut banner = format!(
        "\n  *** fedkit test IdP: A DEVELOPMENT TOOL. NEVER USE IT IN PRODUCTION. ***\n  \
         Anyone who can reach it logs in as any listed user, without a password.\n\n  \
         Metadata URL:   {}\n  IdP entity ID:  {}\n  SSO URL:        {} (HTTP-Redirect, HTTP-POST)\n  \
         SLO URL:        {}\n  SP entity ID:   {}\n  ACS URL:        {}\n  SP SLO URL:     {}\n  \
         Signing:        {} (RSA-SHA256); key {}\n  Users:          {}\n\n  \
         IdP-initiated login: {}\n  Listening on {bound}; Ctrl-C stops.\n",
        idp.metadata_url(),
        idp.entity_id,
        idp.sso_url(),
        idp.slo_url(),
        idp.sp.entity_id,
        idp.sp.default_acs(),
        idp.sp.slo.as_ref().map_or("none", |s| s.url.as_str()),
        sign_name(idp.sign),
        key_line,
        idp.users
            .iter()
            .map(|u| u.email.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        idp.sso_url(),
    );
    if !bound.ip().is_loopback() {
        banner.push_str(&format!(
            "\n  WARNING: {} is not a loopback address: other machines can log in through this IdP.\n",
            bound.ip()
        ));
    }
    if json {
        // The banner first: once the JSON line is out, a reader may act on it.
        eprint!("{banner}");
        let started = Started {
            listen: bound.to_string(),
            metadata_url: idp.metadata_url(),
            entity_id: &idp.entity_id,
            sso_url: idp.sso_url(),
            slo_url: idp.slo_url(),
            sign: sign_name(idp.sign),
            users: idp.users.len(),
            key,
        };
        let mut line = serde_json::to_vec(&started).unwrap_or_default();
        line.push(b'\n');
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(&line).and_then(|()| out.flush());
    } else {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(banner.as_bytes()).and_then(|()| out.flush());
    }
}

/// Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_defaults_to_the_bound_address_on_loopback() {
        let url = |s: &str, given: Option<&str>| {
            base_url(given, s.parse().unwrap_or_else(|_| unreachable!())).map_err(|_| ())
        };
        assert_eq!(
            url("127.0.0.1:8081", None),
            Ok("http://127.0.0.1:8081".to_owned())
        );
        assert_eq!(url("0.0.0.0:8081", None), Ok("http://127.0.0.1:8081".to_owned()));
        assert_eq!(url("[::]:8081", None), Ok("http://[::1]:8081".to_owned()));
        assert_eq!(
            url("0.0.0.0:8081", Some("https://idp.local:8443/")),
            Ok("https://idp.local:8443".to_owned())
        );
        assert_eq!(url("0.0.0.0:8081", Some("idp.local")), Err(()));
        assert_eq!(url("0.0.0.0:8081", Some("http://x/?a")), Err(()));
    }

    #[test]
    fn app_names_are_path_safe() {
        assert!(check_app("fedkit-test").is_ok());
        assert!(check_app("a.b_c-1").is_ok());
        for bad in ["", "a/b", "{x}", "a b", "é", &"x".repeat(65)] {
            assert!(check_app(bad).is_err(), "{bad}");
        }
    }
}
