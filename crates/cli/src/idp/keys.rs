//! The IdP's signing key and certificate: given with `--key`/`--cert`, or generated on first
//! start (RSA-2048 and a self-signed certificate, by rcgen on aws-lc-rs) and kept in the
//! state directory so the metadata stays the same across restarts.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike as _, Utc};
use fedkit_xmldsig::{SigningKey, TrustedKey};

use crate::output::{Failure, IO_ERROR};

/// The file names in the state directory.
pub(crate) const KEY_FILE: &str = "fedkit-idp-key.pem";
/// The certificate file name in the state directory.
pub(crate) const CERT_FILE: &str = "fedkit-idp-cert.pem";

/// The generated certificate's subject common name.
const SUBJECT: &str = "fedkit test IdP (development only)";
/// Smallest RSA key accepted: what SPs (fedkit-saml included) accept by default.
const MIN_BITS: usize = 2048;

/// Where the key material came from, for the start-up banner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// `--key` and `--cert`.
    Given,
    /// Read from the state directory.
    Loaded(PathBuf),
    /// Generated now and written to the state directory.
    Generated(PathBuf),
}

/// The signing key and the certificate published in the metadata.
#[derive(Debug)]
pub(crate) struct KeyMaterial {
    pub(crate) key: SigningKey,
    pub(crate) certificate_der: Vec<u8>,
    pub(crate) origin: Origin,
}

fn io_failure(path: &Path, action: &str, e: &std::io::Error) -> Failure {
    Failure::new(IO_ERROR, format!("{}: cannot {action}: {e}", path.display()))
}

fn read_text(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| io_failure(path, "read the file", &e))
}

/// The key pair from `--key` and `--cert`.
pub(crate) fn from_files(key: &Path, cert: &Path) -> Result<KeyMaterial, Failure> {
    let (key, certificate_der) = check_pair(
        &read_text(key)?,
        &key.display().to_string(),
        &read_text(cert)?,
        &cert.display().to_string(),
    )?;
    Ok(KeyMaterial {
        key,
        certificate_der,
        origin: Origin::Given,
    })
}

/// The key pair kept in `state_dir`, generated and written there when neither file exists.
/// When only one of the two exists, nothing is overwritten: the admin decides.
pub(crate) fn load_or_generate(state_dir: &Path, now: DateTime<Utc>) -> Result<KeyMaterial, Failure> {
    let key_path = state_dir.join(KEY_FILE);
    let cert_path = state_dir.join(CERT_FILE);
    match (key_path.exists(), cert_path.exists()) {
        (true, true) => {
            let (key, certificate_der) = check_pair(
                &read_text(&key_path)?,
                &key_path.display().to_string(),
                &read_text(&cert_path)?,
                &cert_path.display().to_string(),
            )?;
            Ok(KeyMaterial {
                key,
                certificate_der,
                origin: Origin::Loaded(state_dir.to_owned()),
            })
        }
        (false, false) => {
            let (key_pem, cert_pem) = generate(now)?;
            std::fs::create_dir_all(state_dir)
                .map_err(|e| io_failure(state_dir, "create the state directory", &e))?;
            write_new(&key_path, &key_pem, true)?;
            write_new(&cert_path, &cert_pem, false)?;
            let (key, certificate_der) =
                check_pair(&key_pem, "generated key", &cert_pem, "generated certificate")?;
            Ok(KeyMaterial {
                key,
                certificate_der,
                origin: Origin::Generated(state_dir.to_owned()),
            })
        }
        (has_key, _) => {
            let (present, missing) = if has_key {
                (&key_path, &cert_path)
            } else {
                (&cert_path, &key_path)
            };
            Err(Failure::new(
                "incomplete_key_pair",
                format!(
                    "{} exists but {} does not: restore the missing file, or delete the other one \
                     to generate a new key pair (the SP must then import the new metadata)",
                    present.display(),
                    missing.display()
                ),
            ))
        }
    }
}

/// Writes a file that must not exist yet; the private key readable by its owner only.
fn write_new(path: &Path, text: &str, private: bool) -> Result<(), Failure> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options
        .open(path)
        .map_err(|e| io_failure(path, "create the file", &e))?;
    file.write_all(text.as_bytes())
        .map_err(|e| io_failure(path, "write the file", &e))
}

/// A new RSA-2048 key (PKCS#8 PEM) and a self-signed certificate for it (PEM), valid from
/// the start of the current month for ten years.
pub(crate) fn generate(now: DateTime<Utc>) -> Result<(String, String), Failure> {
    let failed = |e: rcgen::Error| {
        Failure::new(
            "key_generation_failed",
            format!("cannot generate the IdP key: {e}"),
        )
    };
    let key_pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).map_err(failed)?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
    let mut name = rcgen::DistinguishedName::new();
    name.push(rcgen::DnType::CommonName, SUBJECT);
    name.push(rcgen::DnType::OrganizationName, "fedkit");
    params.distinguished_name = name;
    let month = u8::try_from(now.month()).unwrap_or(1);
    params.not_before = rcgen::date_time_ymd(now.year(), month, 1);
    params.not_after = rcgen::date_time_ymd(now.year() + 10, month, 1);
    let certificate = params.self_signed(&key_pair).map_err(failed)?;
    Ok((key_pair.serialize_pem(), certificate.pem()))
}

/// Parses the key and the certificate and checks they belong together.
pub(crate) fn check_pair(
    key_pem: &str,
    key_source: &str,
    cert_pem: &str,
    cert_source: &str,
) -> Result<(SigningKey, Vec<u8>), Failure> {
    let key = SigningKey::from_pem_with(key_pem, &fedkit_xmldsig::crypto::AwsLcRs).map_err(|e| {
        Failure::new(
            "bad_key",
            format!(
                "{key_source}: {e} (an RSA private key in PEM, BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY)"
            ),
        )
    })?;
    if !matches!(key.key_type(), fedkit_xmldsig::key::KeyType::Rsa { .. }) {
        return Err(Failure::new(
            "bad_key",
            format!(
                "{key_source}: an {} key; the test IdP signs with RSA-SHA256 like JumpCloud: give an RSA key of at least {MIN_BITS} bits",
                key.key_type()
            ),
        ));
    }
    if key.bits() < MIN_BITS {
        return Err(Failure::new(
            "weak_key",
            format!(
                "{key_source}: the RSA key has {} bits; SPs refuse fewer than {MIN_BITS}",
                key.bits()
            ),
        ));
    }
    let certificates = TrustedKey::from_pem(cert_pem)
        .map_err(|e| Failure::new("bad_certificate", format!("{cert_source}: {e}")))?;
    let certificate = certificates
        .first()
        .ok_or_else(|| Failure::new("bad_certificate", format!("{cert_source}: no certificate found")))?;
    let der = certificate.certificate_der().ok_or_else(|| {
        Failure::new(
            "bad_certificate",
            format!("{cert_source}: a certificate (BEGIN CERTIFICATE) is needed, not a bare public key"),
        )
    })?;
    if !key.matches(certificate.public_key()) {
        return Err(Failure::new(
            "key_certificate_mismatch",
            format!("{key_source} is not the private key of the certificate in {cert_source}"),
        ));
    }
    Ok((key, der.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("fedkit-idp-keys-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_generated_pair_is_kept_and_reloaded() {
        let dir = temp_dir("persist");
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
            .map(|t| t.to_utc())
            .unwrap_or_default();
        let first = load_or_generate(&dir, now).map_err(|f| f.message);
        let second = load_or_generate(&dir, now).map_err(|f| f.message);
        let (Ok(first), Ok(second)) = (first, second) else {
            unreachable!("generation and reload must succeed");
        };
        assert_eq!(first.origin, Origin::Generated(dir.clone()));
        assert_eq!(second.origin, Origin::Loaded(dir.clone()));
        assert_eq!(first.certificate_der, second.certificate_der);
        assert_eq!(first.key.bits(), 2048);
        let cert = TrustedKey::from_certificate_der(&first.certificate_der).map_err(|e| e.to_string());
        let info = cert.as_ref().ok().and_then(|c| c.certificate().cloned());
        assert!(info.is_some_and(|i| i.subject.contains(SUBJECT)));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.join(KEY_FILE)).map(|m| m.permissions().mode() & 0o777);
            assert_eq!(mode.ok(), Some(0o600));
        }
        // One file missing: nothing is regenerated behind the admin's back.
        let _ = std::fs::remove_file(dir.join(CERT_FILE));
        let err = load_or_generate(&dir, now).err().map(|f| f.code);
        assert_eq!(err, Some("incomplete_key_pair"));
        assert!(!dir.join(CERT_FILE).exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_key_that_is_not_the_certificates_is_refused() {
        let now = Utc::now();
        let (Ok((key_a, _)), Ok((_, cert_b))) = (generate(now), generate(now)) else {
            unreachable!("generation must succeed");
        };
        let err = check_pair(&key_a, "a.pem", &cert_b, "b.pem")
            .err()
            .map(|f| (f.code, f.message));
        assert_eq!(
            err,
            Some((
                "key_certificate_mismatch",
                "a.pem is not the private key of the certificate in b.pem".to_owned()
            ))
        );
        let err = check_pair(&cert_b, "cert-as-key.pem", &cert_b, "b.pem")
            .err()
            .map(|f| f.code);
        assert_eq!(err, Some("bad_key"));
    }
}
