//! `shared/vectors/gosaml2`, SAML layer: every response goes through fedkit-saml's
//! `ResponseValidator` with the SP settings, pinned certificate and clock the manifest gives,
//! and the verdict is compared with the manifest's `expect` / `category` / `alt_categories`.
//!
//! Every divergence is listed, with its reason, in `tests/data/exceptions/gosaml2-saml.json`
//! as `{"case", "fedkit", "reason"}`, where `fedkit` is what fedkit concludes: `accept`, or
//! the stable error code it refuses with. The harness enforces the file: a listed case must
//! end exactly as listed, an unlisted case must agree with the manifest, and every entry must
//! name a real case.
//!
//! Encrypted assertions are decrypted with the manifest's `sp_encryption_key`.
//!
//! Cases that use SHA-1 run with `dangerous_allow_sha1`, and once more with the default policy,
//! where they must never be accepted. IdP-initiated responses are allowed (the manifest's
//! `in_response_to`, when given, is passed as the outstanding request ID).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use fedkit_saml::{
    Error, IdentityProvider, InMemoryReplayCache, ResponseValidator, ServiceProvider, Settings,
};
use fedkit_xmldsig::xmlenc::XmlEncError;
use fedkit_xmldsig::{AlgorithmPolicy, DecryptionKey, TrustedKeys, VerifyError};
use serde::Deserialize;

use super::gosaml2::decode_response;
use super::support::Source;

const SOURCE: &str = "gosaml2";

#[derive(Deserialize)]
struct Manifest {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    response: String,
    encoding: String,
    idp_issuer: String,
    acs_url: String,
    audience: String,
    idp_cert: String,
    sp_encryption_key: Option<String>,
    now: String,
    in_response_to: Option<String>,
    expect: String,
    category: Option<String>,
    alt_categories: Vec<String>,
    uses_sha1: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Divergences {
    source: String,
    layer: String,
    divergences: Vec<Divergence>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Divergence {
    case: String,
    fedkit: String,
    reason: String,
}

/// The manifest category an error corresponds to (`categories` in the manifest), or `other`.
fn category(e: &Error) -> &'static str {
    match e {
        Error::Signature {
            source:
                VerifyError::SignatureInvalid {
                    keyinfo_trusted: false,
                    keyinfo_certificate: Some(_),
                    ..
                },
            ..
        } => "untrusted_key",
        Error::Signature {
            source: VerifyError::SignatureInvalid { .. } | VerifyError::DigestMismatch { .. },
            ..
        } => "signature_invalid",
        Error::Unsigned { .. } => "missing_signature",
        Error::Expired { .. } | Error::NotYetValid { .. } => "expired",
        Error::SubjectConfirmation { reasons } if reasons.iter().any(|r| r.contains("Recipient")) => {
            "destination_mismatch"
        }
        Error::SubjectConfirmation { reasons }
            if reasons
                .iter()
                .any(|r| r.contains("expired") || r.contains("not valid before")) =>
        {
            "expired"
        }
        Error::Destination { .. } => "destination_mismatch",
        Error::Issuer { .. } => "issuer_mismatch",
        Error::Audience { .. } => "audience_mismatch",
        Error::Decryption(XmlEncError::DecryptionFailed) => "decrypt_failed",
        _ => "other",
    }
}

fn validator(case: &Case, source: &Source, algorithms: AlgorithmPolicy) -> ResponseValidator {
    let keys = TrustedKeys::from_pem(&source.read_text(&case.idp_cert))
        .unwrap_or_else(|e| panic!("{}: {}: {e}", case.name, case.idp_cert));
    let sp = ServiceProvider::new(&case.audience, [case.acs_url.as_str()])
        .unwrap_or_else(|e| panic!("{}: SP settings: {e}", case.name));
    let idp = IdentityProvider::new(&case.idp_issuer, keys).unwrap_or_else(|e| panic!("{}: {e}", case.name));
    let validator = ResponseValidator::with_settings(
        sp,
        idp,
        Settings::default()
            .with_algorithms(algorithms)
            .with_idp_initiated(true),
    );
    match &case.sp_encryption_key {
        None => validator,
        Some(file) => validator.with_decryption_key(
            DecryptionKey::from_pem(&source.read_text(file))
                .unwrap_or_else(|e| panic!("{}: SP key {file}: {e}", case.name)),
        ),
    }
}

fn run(case: &Case, source: &Source, algorithms: AlgorithmPolicy) -> Result<(), Error> {
    let xml = decode_response(source, &case.name, &case.response, &case.encoding);
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339(&case.now)
        .unwrap_or_else(|e| panic!("{}: now {:?}: {e}", case.name, case.now))
        .with_timezone(&Utc);
    validator(case, source, algorithms)
        .process_xml(
            &xml,
            case.in_response_to.as_deref(),
            now,
            &InMemoryReplayCache::new(4),
        )
        .map(|_| ())
}

#[test]
fn responses_are_judged_as_the_manifest_says_or_as_listed() {
    let source = Source::open(SOURCE, true);
    let manifest: Manifest = source.manifest();
    let path = super::support::exceptions_dir().join("gosaml2-saml.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file: Divergences = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!((file.source.as_str(), file.layer.as_str()), (SOURCE, "saml"));
    let mut listed: BTreeMap<&str, &Divergence> = BTreeMap::new();
    for d in &file.divergences {
        assert!(!d.reason.trim().is_empty(), "{}: no reason", d.case);
        assert!(listed.insert(&d.case, d).is_none(), "{}: listed twice", d.case);
        assert!(
            manifest.cases.iter().any(|c| c.name == d.case),
            "{}: not a case of the manifest",
            d.case
        );
    }

    let mut failures = Vec::new();
    let (mut agreed, mut diverged) = (0, 0);
    for case in &manifest.cases {
        let policy = if case.uses_sha1 {
            AlgorithmPolicy::default().dangerous_allow_sha1()
        } else {
            AlgorithmPolicy::default()
        };
        let result = run(case, &source, policy);
        let ours = match &result {
            Ok(()) => "accept".to_owned(),
            Err(e) => e.code().to_owned(),
        };
        if let Some(d) = listed.get(case.name.as_str()) {
            if ours == d.fedkit {
                diverged += 1;
                println!("{}: DIVERGES as listed ({}): {}", case.name, ours, d.reason);
            } else {
                failures.push(format!(
                    "{}: listed as {:?} but fedkit gives {ours:?} ({result:?}); update the entry",
                    case.name, d.fedkit
                ));
            }
        } else {
            let ok = match (&result, case.expect.as_str()) {
                (Ok(()), "accept") => true,
                (Err(e), "reject") => {
                    let ours = category(e);
                    case.category.as_deref() == Some(ours) || case.alt_categories.iter().any(|c| c == ours)
                }
                _ => false,
            };
            if ok {
                agreed += 1;
                println!("{}: agrees ({ours})", case.name);
            } else {
                failures.push(format!(
                    "{}: manifest {} {:?} (alt {:?}), fedkit {ours} = {:?}",
                    case.name,
                    case.expect,
                    case.category,
                    case.alt_categories,
                    result.as_ref().map_err(|e| (category(e), e.to_string()))
                ));
            }
        }
        if case.uses_sha1 {
            if let Ok(()) = run(case, &source, AlgorithmPolicy::default()) {
                failures.push(format!(
                    "{}: accepted with SHA-1 under the default policy",
                    case.name
                ));
            }
        }
    }
    println!("{agreed} cases agree with the manifest, {diverged} diverge as listed");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
