//! TLS to the database, configured the way libpq is: `sslmode` and `sslrootcert` in the
//! connection string, verified with rustls (aws-lc-rs).
//!
//! | `sslmode` | encrypted | server authenticated |
//! |---|---|---|
//! | `disable` | no | no |
//! | `prefer` (default for this machine) | when the server offers TLS | no |
//! | `require` | yes | no |
//! | `verify-ca` | yes | certificate chains to a CA of `sslrootcert` |
//! | `verify-full` | yes | as `verify-ca`, and issued for the host connected to |
//!
//! `sslrootcert` is a PEM file of CA certificates (for example AWS RDS's `global-bundle.pem`)
//! or `system` for the operating system's CA store; `verify-ca` and `verify-full` need it
//! (libpq would fall back to `~/.postgresql/root.crt`; fedkit asks for it explicitly).
//! Client certificates (`sslcert`, `sslkey`) are not supported yet and are refused rather
//! than ignored.
//!
//! Unlike libpq, a connection string without `sslmode` is refused when a host is not this
//! machine (loopback, `localhost` or a Unix socket): off the machine, say how the
//! connection is protected, preferably `sslmode=verify-full&sslrootcert=…`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};
use tokio_postgres_rustls::MakeRustlsConnect;

/// How a pool protects its connections: libpq's `sslmode`. See the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsMode {
    /// Plain TCP.
    Disable,
    /// TLS when the server offers it, plain TCP otherwise; the certificate is not checked.
    Prefer,
    /// TLS or no connection; the certificate is not checked (encrypts, but does not stop a
    /// machine in the middle).
    Require,
    /// TLS; the server's certificate must chain to a CA of `sslrootcert`.
    VerifyCa,
    /// TLS; the certificate must chain to a CA of `sslrootcert` and name the host.
    VerifyFull,
}

impl TlsMode {
    /// The `sslmode` keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::Disable => "disable",
            TlsMode::Prefer => "prefer",
            TlsMode::Require => "require",
            TlsMode::VerifyCa => "verify-ca",
            TlsMode::VerifyFull => "verify-full",
        }
    }

    /// Whether a connection in this mode proves the server is the one meant
    /// (`verify-ca`, `verify-full`).
    pub fn authenticates_server(self) -> bool {
        matches!(self, TlsMode::VerifyCa | TlsMode::VerifyFull)
    }

    fn parse(value: &str) -> Result<TlsMode, String> {
        Ok(match value {
            "disable" => TlsMode::Disable,
            "allow" | "prefer" => TlsMode::Prefer,
            "require" => TlsMode::Require,
            "verify-ca" => TlsMode::VerifyCa,
            "verify-full" => TlsMode::VerifyFull,
            other => {
                return Err(format!(
                    "sslmode={other:?} is not one of disable, prefer, require, verify-ca, verify-full"
                ))
            }
        })
    }
}

impl std::fmt::Display for TlsMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The TLS keywords of a connection string, taken out of it.
#[derive(Debug)]
pub(crate) struct TlsParams {
    pub(crate) mode: TlsMode,
    /// Whether the string said `sslmode` (else `prefer`, allowed to this machine only).
    pub(crate) explicit: bool,
    root_cert: Option<String>,
}

/// Keywords of libpq that fedkit does not support and refuses rather than ignoring.
const UNSUPPORTED: &[&str] = &["sslcert", "sslkey", "sslpassword", "sslcrl", "sslcrldir"];

/// Splits `sslmode`/`sslrootcert` out of a connection string (URL or key=value form) and
/// returns the rest, which the driver parses. Errors never repeat the string (it may hold a
/// password).
pub(crate) fn split_params(conn: &str) -> Result<(String, TlsParams), String> {
    let (rest, pairs) = if conn.starts_with("postgres://") || conn.starts_with("postgresql://") {
        split_url(conn)?
    } else {
        split_key_value(conn)?
    };
    let mut params = TlsParams {
        mode: TlsMode::Prefer,
        explicit: false,
        root_cert: None,
    };
    for (key, value) in pairs {
        match key.as_str() {
            "sslmode" => {
                params.mode = TlsMode::parse(&value)?;
                params.explicit = true;
            }
            "sslrootcert" => params.root_cert = Some(value),
            _ => {}
        }
    }
    if params.mode.authenticates_server() && params.root_cert.is_none() {
        return Err(format!(
            "sslmode={} needs sslrootcert: the PEM file of the CA that issued the server's \
             certificate (your provider publishes it, e.g. AWS RDS's global-bundle.pem), or \
             sslrootcert=system for the operating system's CAs",
            params.mode
        ));
    }
    Ok((rest, params))
}

/// Keys taken out of a connection string by [`split_params`].
fn is_tls_key(key: &str) -> Result<bool, String> {
    if UNSUPPORTED.contains(&key) {
        return Err(format!(
            "{key} is not supported: fedkit-postgres does not present client certificates yet"
        ));
    }
    Ok(key == "sslmode" || key == "sslrootcert")
}

type Split = (String, Vec<(String, String)>);

fn split_url(conn: &str) -> Result<Split, String> {
    // The query starts at the first `?` after the credentials (a password with a `?` must be
    // percent-encoded anyway).
    let after_credentials = conn.find('@').map_or(0, |at| at + 1);
    let Some(q) = conn[after_credentials..].find('?').map(|q| q + after_credentials) else {
        return Ok((conn.to_owned(), Vec::new()));
    };
    let decode = |s: &str| -> Result<String, String> {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| "a connection string parameter is not UTF-8 once percent-decoded".into())
    };
    let mut kept = Vec::new();
    let mut taken = Vec::new();
    for part in conn[q + 1..].split('&').filter(|p| !p.is_empty()) {
        let (key, value) = part.split_once('=').unwrap_or((part, ""));
        let key_decoded = decode(key)?;
        if is_tls_key(&key_decoded)? {
            taken.push((key_decoded, decode(value)?));
        } else {
            kept.push(part);
        }
    }
    let mut rest = conn[..q].to_owned();
    if !kept.is_empty() {
        rest.push('?');
        rest.push_str(&kept.join("&"));
    }
    Ok((rest, taken))
}

/// The key=value form, tokenised as the driver (and libpq) do: whitespace-separated
/// `key = value`, values either bare or single-quoted, `\` escaping the next character.
fn split_key_value(conn: &str) -> Result<Split, String> {
    let mut rest = String::new();
    let mut taken = Vec::new();
    let mut chars = conn.char_indices().peekable();
    loop {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let Some(&(start, _)) = chars.peek() else {
            break;
        };
        let mut key = String::new();
        while let Some((_, c)) = chars.next_if(|(_, c)| !c.is_whitespace() && *c != '=') {
            key.push(c);
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        if chars.next_if(|(_, c)| *c == '=').is_none() {
            // Malformed: leave it to the driver's parser to report.
            return Ok((conn.to_owned(), taken));
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        let quoted = chars.next_if(|(_, c)| *c == '\'').is_some();
        let mut end = conn.len();
        while let Some(&(i, c)) = chars.peek() {
            if (quoted && c == '\'') || (!quoted && c.is_whitespace()) {
                end = i;
                break;
            }
            chars.next();
            if c == '\\' {
                if let Some((_, escaped)) = chars.next() {
                    value.push(escaped);
                }
            } else {
                value.push(c);
            }
        }
        if quoted {
            if chars.next_if(|(_, c)| *c == '\'').is_none() {
                return Ok((conn.to_owned(), taken));
            }
            end += 1;
        }
        if is_tls_key(&key)? {
            taken.push((key, value));
        } else {
            if !rest.is_empty() {
                rest.push(' ');
            }
            rest.push_str(&conn[start..end.min(conn.len())]);
        }
    }
    Ok((rest, taken))
}

/// The connector for `params`, or `None` for `sslmode=disable`.
pub(crate) fn connector(params: &TlsParams) -> Result<Option<MakeRustlsConnect>, String> {
    if params.mode == TlsMode::Disable {
        return Ok(None);
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let check = match params.mode {
        TlsMode::VerifyFull => Check::ChainAndName,
        TlsMode::VerifyCa => Check::Chain,
        _ => Check::Nothing,
    };
    let (roots, roots_from) = match (&params.root_cert, check) {
        (_, Check::Nothing) => (RootCertStore::empty(), String::new()),
        (Some(system), _) if system == "system" => {
            let found = rustls_native_certs::load_native_certs();
            let mut roots = RootCertStore::empty();
            let (_, _) = roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                return Err("sslrootcert=system: no CA certificates found in the operating \
                            system's store (Debian: install ca-certificates)"
                    .into());
            }
            (roots, "the operating system's CA store".to_owned())
        }
        (Some(file), _) => (read_roots(file)?, format!("sslrootcert={file}")),
        (None, _) => return Err("sslrootcert is missing".into()),
    };
    let verifier = Verifier {
        check,
        roots: Arc::new(roots),
        roots_from,
        provider: provider.clone(),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Some(MakeRustlsConnect::new(config)))
}

fn read_roots(file: &str) -> Result<RootCertStore, String> {
    let path = PathBuf::from(file);
    let bytes = std::fs::read(&path).map_err(|e| format!("sslrootcert={file}: {e}"))?;
    let mut roots = RootCertStore::empty();
    for (i, cert) in CertificateDer::pem_slice_iter(&bytes).enumerate() {
        let cert = cert.map_err(|e| format!("sslrootcert={file}: not a PEM file: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("sslrootcert={file}: certificate {}: {e}", i + 1))?;
    }
    if roots.is_empty() {
        return Err(format!(
            "sslrootcert={file}: no CERTIFICATE block in the file (expected PEM, \
             -----BEGIN CERTIFICATE-----)"
        ));
    }
    Ok(roots)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    Nothing,
    Chain,
    ChainAndName,
}

#[derive(Debug)]
struct Verifier {
    check: Check,
    roots: Arc<RootCertStore>,
    roots_from: String,
    provider: Arc<CryptoProvider>,
}

/// Why the server's certificate was refused, with what an admin needs to fix it.
#[derive(Debug)]
struct Refused {
    fingerprint: String,
    roots_from: String,
    name_problem: bool,
    reason: rustls::Error,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let reason = match &self.reason {
            rustls::Error::InvalidCertificate(e) => e.to_string(),
            other => other.to_string(),
        };
        if self.name_problem {
            write!(
                f,
                "the server's TLS certificate (SHA-256 {}) is not issued for the host connected \
                 to ({reason}); connect by the name in the certificate, or use sslmode=verify-ca \
                 to check only the CA",
                self.fingerprint
            )
        } else if matches!(
            self.reason,
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)
        ) {
            write!(
                f,
                "the server's TLS certificate (SHA-256 {}) was not issued by a CA in {} \
                 (UnknownIssuer); sslrootcert must hold the CA bundle of your database \
                 server or provider",
                self.fingerprint, self.roots_from
            )
        } else {
            write!(
                f,
                "the server's TLS certificate (SHA-256 {}) was refused: {reason}; it must chain \
                 to a CA in {}",
                self.fingerprint, self.roots_from
            )
        }
    }
}

impl std::error::Error for Refused {}

impl Verifier {
    fn refuse(&self, cert: &CertificateDer<'_>, reason: rustls::Error, name: bool) -> rustls::Error {
        let digest = Sha256::digest(cert.as_ref());
        let mut fingerprint = String::with_capacity(95);
        for (i, b) in digest.iter().enumerate() {
            if i > 0 {
                fingerprint.push(':');
            }
            let _ = write!(fingerprint, "{b:02X}");
        }
        rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(Refused {
            fingerprint,
            roots_from: self.roots_from.clone(),
            name_problem: name,
            reason,
        }))))
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.check == Check::Nothing {
            // sslmode=prefer/require: encryption only, as libpq. The handshake signature is
            // still checked against this certificate's key (below).
            return Ok(ServerCertVerified::assertion());
        }
        let cert = rustls::server::ParsedCertificate::try_from(end_entity)
            .map_err(|e| self.refuse(end_entity, e, false))?;
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &cert,
            &self.roots,
            intermediates,
            now,
            self.provider.signature_verification_algorithms.all,
        )
        .map_err(|e| self.refuse(end_entity, e, false))?;
        if self.check == Check::ChainAndName {
            rustls::client::verify_server_name(&cert, server_name)
                .map_err(|e| self.refuse(end_entity, e, true))?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The admin-facing explanation of a refused certificate inside a driver error, if any.
pub(crate) fn explain(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        let tls = err.downcast_ref::<rustls::Error>().or_else(|| {
            err.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        if let Some(rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(inner)))) = tls {
            if let Some(refused) = inner.downcast_ref::<Refused>() {
                return Some(refused.to_string());
            }
        }
        current = err.source();
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn split(conn: &str) -> (String, TlsMode, Option<String>) {
        let (rest, p) = split_params(conn).unwrap();
        (rest, p.mode, p.root_cert)
    }

    #[test]
    fn url_form_loses_only_the_tls_keywords() {
        assert_eq!(
            split("postgres://u:p%3Fw@db:5432/app?sslmode=verify-full&application_name=x&sslrootcert=%2Fetc%2Fca%20b.pem"),
            (
                "postgres://u:p%3Fw@db:5432/app?application_name=x".to_owned(),
                TlsMode::VerifyFull,
                Some("/etc/ca b.pem".to_owned())
            )
        );
        assert_eq!(
            split("postgresql://db/app?sslmode=require"),
            ("postgresql://db/app".to_owned(), TlsMode::Require, None)
        );
        assert_eq!(
            split("postgres://db/app"),
            ("postgres://db/app".to_owned(), TlsMode::Prefer, None)
        );
    }

    #[test]
    fn key_value_form_keeps_quoting_of_the_rest() {
        assert_eq!(
            split(r"host=db password='a b\'c' sslmode = verify-ca  sslrootcert='/tmp/my ca.pem' dbname=app"),
            (
                r"host=db password='a b\'c' dbname=app".to_owned(),
                TlsMode::VerifyCa,
                Some("/tmp/my ca.pem".to_owned())
            )
        );
        assert_eq!(
            split("host=db sslmode=disable"),
            ("host=db".to_owned(), TlsMode::Disable, None)
        );
    }

    #[test]
    fn verification_without_roots_and_client_certificates_are_refused_with_reasons() {
        let e = split_params("postgres://db/app?sslmode=verify-full").unwrap_err();
        assert!(e.contains("needs sslrootcert"), "{e}");
        let e = split_params("host=db sslmode=verify-ca").unwrap_err();
        assert!(e.contains("sslmode=verify-ca needs sslrootcert"), "{e}");
        let e = split_params("postgres://db/app?sslcert=/c.pem&sslkey=/k.pem").unwrap_err();
        assert!(e.contains("sslcert is not supported"), "{e}");
        let e = split_params("postgres://db/app?sslmode=verify").unwrap_err();
        assert!(e.contains("not one of"), "{e}");
    }

    #[test]
    fn root_files_that_hold_no_certificate_are_refused() {
        let dir = std::env::temp_dir().join(format!("fedkit-pg-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let params = TlsParams {
            mode: TlsMode::VerifyFull,
            explicit: true,
            root_cert: Some(empty.to_string_lossy().into_owned()),
        };
        let e = connector(&params).err().unwrap();
        assert!(e.contains("no CERTIFICATE block"), "{e}");
        let params = TlsParams {
            mode: TlsMode::VerifyFull,
            explicit: true,
            root_cert: Some(dir.join("missing.pem").to_string_lossy().into_owned()),
        };
        let e = connector(&params).err().unwrap();
        assert!(e.contains("missing.pem") && e.contains("No such file"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A value quoted the way libpq's key=value form allows.
    fn quote(value: &str) -> String {
        format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
    }

    proptest::proptest! {
        /// Whatever the other parameters hold (spaces, quotes, backslashes, `=`, `&`, `?`),
        /// taking the TLS keywords out leaves a string the driver reads exactly as it would
        /// have read those parameters alone, and the TLS values come out unescaped.
        #[test]
        fn key_value_split_keeps_every_other_parameter(
            password in "[ -~]{1,12}",
            app in "[a-z'\\\\ =]{1,10}",
            root in "[ -~]{1,16}",
            tls_first in proptest::bool::ANY,
            bare_mode in proptest::bool::ANY,
        ) {
            let mode = if bare_mode { "verify-ca".to_owned() } else { quote("verify-ca") };
            let tls = format!("sslmode = {mode}  sslrootcert={}", quote(&root));
            let other = format!("host=db user=u password={} application_name={}", quote(&password), quote(&app));
            let conn = if tls_first { format!("{tls} {other}") } else { format!("{other}\t{tls}") };
            let (rest, params) = split_params(&conn).unwrap();
            proptest::prop_assert_eq!(params.mode, TlsMode::VerifyCa);
            proptest::prop_assert_eq!(params.root_cert.as_deref(), Some(root.as_str()));
            let config: postgres::Config = rest.parse().unwrap();
            proptest::prop_assert_eq!(config.get_password(), Some(password.as_bytes()));
            proptest::prop_assert_eq!(config.get_application_name(), Some(app.as_str()));
            proptest::prop_assert_eq!(config.get_user(), Some("u"));
        }

        /// The same for the URL form, with percent-encoded values.
        #[test]
        fn url_split_keeps_every_other_parameter(
            app in "[ -~]{1,12}",
            root in "[ -~]{1,16}",
            position in 0usize..3,
        ) {
            let enc = |v: &str| percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string();
            let mut query = vec![
                format!("application_name={}", enc(&app)),
                "connect_timeout=7".to_owned(),
            ];
            query.insert(position, format!("sslrootcert={}&sslmode=verify-full", enc(&root)));
            let conn = format!("postgres://u:p%26w@db:5433/app?{}", query.join("&"));
            let (rest, params) = split_params(&conn).unwrap();
            proptest::prop_assert_eq!(params.mode, TlsMode::VerifyFull);
            proptest::prop_assert_eq!(params.root_cert.as_deref(), Some(root.as_str()));
            let config: postgres::Config = rest.parse().unwrap();
            proptest::prop_assert_eq!(config.get_application_name(), Some(app.as_str()));
            proptest::prop_assert_eq!(config.get_password(), Some(&b"p&w"[..]));
            proptest::prop_assert_eq!(config.get_connect_timeout(), Some(&std::time::Duration::from_secs(7)));
        }
    }
}
