//! `shared/vectors/gosaml2`, signature layer only: every visible `ds:Signature` of every
//! response is verified with the pinned IdP certificate and the verdict compared with
//! xmlsec1's (`xmlsec1_with_pinned_key`), with every crypto provider.
//!
//! - SHA-1 signatures must be refused (`AlgorithmRefused`) under the default policy, and match
//!   xmlsec1 once SHA-1 is allowed.
//! - A verified signature must cover the element the manifest says (`on`), and
//!   `verify_enveloped` on that element must agree.
//! - Canonical XML 1.1 / `URI=""` signatures must be refused, signatures inside an
//!   EncryptedAssertion are skipped (no decryption here): both only through
//!   `tests/data/exceptions/gosaml2.json`.
//!
//! Clock, conditions, audience, destination and certificate validity are the SAML layer's
//! business, not this harness's: the manifest's `expect`/`policy_dependent` describe the whole
//! SP decision, while here only the signature verdict is compared.

use std::sync::OnceLock;

use base64::Engine as _;
use fedkit_xmldsig::roxmltree::Node;
use fedkit_xmldsig::{crypto, AlgorithmPolicy, Document, TrustedKeys, Verifier, DSIG_NS};
use serde::Deserialize;

use super::support::{
    self, case_tests, is_sha1_uri, matches_refusal, Exception, Exceptions, Expect, Failure, Source,
};

const SOURCE: &str = "gosaml2";

/// Upper bound for the inflated size of a DEFLATE-compressed response.
const MAX_INFLATED: usize = 8 * 1024 * 1024;

#[derive(Deserialize)]
struct Manifest {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    response: String,
    encoding: String,
    idp_cert: String,
    uses_sha1: bool,
    features: Vec<String>,
    shape: String,
    signatures: Vec<SignatureEntry>,
}

#[derive(Deserialize)]
struct SignatureEntry {
    on: String,
    signature_method: String,
    digest_method: String,
    reference_uri: Option<String>,
    xmlsec1_with_pinned_key: Option<String>,
}

impl SignatureEntry {
    fn uses_sha1(&self) -> bool {
        is_sha1_uri(&self.signature_method) || is_sha1_uri(&self.digest_method)
    }
}

struct Data {
    source: Source,
    manifest: Manifest,
    exceptions: Exceptions,
}

fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| {
        let source = Source::open(SOURCE, true);
        let manifest = source.manifest();
        Data {
            source,
            manifest,
            exceptions: Exceptions::load(SOURCE),
        }
    })
}

#[test]
fn every_file_matches_the_manifest_sha256() {
    let checked = data().source.check_files_table();
    assert!(checked > 0, "{SOURCE}: empty files table");
}

#[test]
fn every_case_has_a_test_and_every_exception_a_case() {
    let Data {
        manifest, exceptions, ..
    } = data();
    let names: Vec<String> = manifest.cases.iter().map(|c| c.name.clone()).collect();
    support::assert_same_cases(SOURCE, CASES, &names);
    exceptions.assert_entries_match(|case| {
        manifest
            .cases
            .iter()
            .find(|c| c.name == case)
            .map(|c| c.signatures.iter().map(|s| s.on.clone()).collect())
    });
}

/// The response bytes, decoded as the manifest's `encoding` says.
fn decode(source: &Source, case: &Case) -> Vec<u8> {
    decode_response(source, &case.name, &case.response, &case.encoding)
}

/// The bytes of response file `response` of case `name`, decoded per `encoding` (`xml`,
/// `base64`, `base64-deflate`). Shared with the SAML-layer harness.
pub(super) fn decode_response(source: &Source, name: &str, response: &str, encoding: &str) -> Vec<u8> {
    let raw = source.read(response);
    let base64 = || {
        let compact: Vec<u8> = raw.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact)
            .unwrap_or_else(|e| panic!("{name}: {response} is not base64: {e}"))
    };
    match encoding {
        "xml" => raw.clone(),
        "base64" => base64(),
        "base64-deflate" => miniz_oxide::inflate::decompress_to_vec_with_limit(&base64(), MAX_INFLATED)
            .unwrap_or_else(|e| panic!("{name}: raw DEFLATE does not inflate: {e:?}")),
        other => panic!("{name}: unknown encoding {other:?}"),
    }
}

/// The Reference URI of a signature, read without verifying (to pair it with the manifest).
fn reference_uri<'a>(signature: Node<'a, '_>) -> Option<&'a str> {
    signature
        .descendants()
        .find(|n| n.tag_name().namespace() == Some(DSIG_NS) && n.tag_name().name() == "Reference")
        .and_then(|r| r.attribute("URI"))
}

/// What one verification run must produce.
enum Want<'e> {
    /// `Ok` for xmlsec1's "ok", `Err` for anything else.
    Xmlsec(&'e str),
    /// A refusal with this error name.
    Error(&'static str),
    /// The refusal an exceptions entry describes.
    Refusal(&'e Exception),
}

fn run(name: &str) {
    let Data {
        source,
        manifest,
        exceptions,
    } = data();
    let case = manifest
        .cases
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("{name}: not in {SOURCE}/manifest.json"));
    assert!(
        exceptions.for_case(name).is_none(),
        "{name}: gosaml2 exceptions name the signature they are about (`signature`: the manifest's `on`)"
    );
    assert_eq!(
        case.uses_sha1,
        case.signatures.iter().any(SignatureEntry::uses_sha1),
        "{name}: the manifest's uses_sha1 disagrees with its signatures' algorithms"
    );
    assert_eq!(
        case.features.iter().any(|f| f == "deflate"),
        case.encoding == "base64-deflate",
        "{name}: the deflate feature and the encoding disagree"
    );

    let bytes = decode(source, case);
    let doc = Document::parse_bytes(&bytes)
        .unwrap_or_else(|e| panic!("{SOURCE}/{name}: the response does not parse: {e}"));
    let keys = TrustedKeys::from_pem(&source.read_text(&case.idp_cert))
        .unwrap_or_else(|e| panic!("{name}: the pinned certificate {}: {e}", case.idp_cert));

    let mut failures: Vec<String> = Vec::new();
    let mut report: Vec<String> = Vec::new();

    // Pair each visible signature with its manifest entry (parent element and Reference URI).
    let visible: Vec<Node<'_, '_>> = fedkit_xmldsig::find_signatures(&doc).collect();
    let mut paired = vec![None; case.signatures.len()];
    for signature in &visible {
        let parent = signature
            .parent_element()
            .map(|p| p.tag_name().name())
            .unwrap_or_default();
        let uri = reference_uri(*signature);
        let slot =
            case.signatures.iter().enumerate().position(|(i, s)| {
                paired[i].is_none() && s.on == parent && s.reference_uri.as_deref() == uri
            });
        match slot {
            Some(i) => paired[i] = Some(*signature),
            None => failures.push(format!(
                "a ds:Signature in {parent} with Reference URI {uri:?} is not in the manifest"
            )),
        }
    }

    for (entry, signature) in case.signatures.iter().zip(&paired) {
        let label = &entry.on;
        let exception = exceptions.for_signature(name, label);
        let Some(signature) = signature else {
            match exception {
                Some(e) if e.expect == Expect::Skip => {
                    report.push(format!("{label}: SKIPPED ({})", e.reason));
                }
                _ => failures.push(format!(
                    "{label}: the manifest lists this signature but the document shows no such ds:Signature; \
                     if it is inside an EncryptedAssertion, list it as `skip` in {}",
                    exceptions.path().display()
                )),
            }
            continue;
        };
        if let Some(e) = exception.filter(|e| e.expect == Expect::Skip) {
            failures.push(format!(
                "{label}: listed as skip ({}) but the signature is visible and can be checked; remove the entry",
                e.reason
            ));
            continue;
        }
        let Some(xmlsec) = entry.xmlsec1_with_pinned_key.as_deref() else {
            failures.push(format!(
                "{label}: the manifest gives no xmlsec1_with_pinned_key verdict"
            ));
            continue;
        };

        // (policy label, policy, what it must produce)
        let mut runs: Vec<(&str, AlgorithmPolicy, Want<'_>)> = Vec::new();
        let main_policy = if entry.uses_sha1() {
            runs.push((
                "default policy",
                AlgorithmPolicy::default(),
                Want::Error("VerifyError::AlgorithmRefused"),
            ));
            ("SHA-1 allowed", AlgorithmPolicy::default().dangerous_allow_sha1())
        } else {
            ("default policy", AlgorithmPolicy::default())
        };
        match exception {
            None => runs.push((main_policy.0, main_policy.1, Want::Xmlsec(xmlsec))),
            Some(e) => {
                runs.push((main_policy.0, main_policy.1.clone(), Want::Refusal(e)));
                if e.error.as_deref() == Some("VerifyError::WeakKey") {
                    // Refused only for the key size: with the minimum lowered, xmlsec1's verdict.
                    runs.push((
                        "1024-bit RSA allowed",
                        main_policy.1.dangerous_min_rsa_bits(1024),
                        Want::Xmlsec(xmlsec),
                    ));
                }
            }
        }

        // Per provider, the outcome of each run; the providers must agree.
        let mut per_provider: Vec<(&str, Vec<String>)> = Vec::new();
        for provider in crypto::all_providers() {
            let mut outcomes = Vec::new();
            for (policy_label, policy, want) in &runs {
                let at = format!("{label} [{policy_label}, {}]", provider.name());
                let verifier = Verifier::new(keys.clone(), policy.clone()).with_provider(provider);
                let result = verifier.verify_signature(&doc, *signature);
                let outcome = match &result {
                    Ok(_) => "ok".to_owned(),
                    Err(e) => Failure::of(e).name,
                };
                outcomes.push(format!("{policy_label}: {outcome}"));
                match (want, result) {
                    (Want::Xmlsec("ok"), Ok(verified)) => {
                        if verified.element().local_name() != entry.on {
                            failures.push(format!(
                                "{at}: verified, but covers {} instead of {}",
                                verified.element().local_name(),
                                entry.on
                            ));
                        }
                        let parent = signature
                            .parent_element()
                            .unwrap_or_else(|| panic!("{at}: no parent"));
                        match verifier.verify_enveloped(&doc, parent) {
                            Ok(v) if v.element().node_id() == parent.id() => {}
                            Ok(_) => {
                                failures.push(format!("{at}: verify_enveloped returned another element"))
                            }
                            Err(e) => failures.push(format!(
                                "{at}: verify_signature succeeded but verify_enveloped on the {} failed: {}",
                                entry.on,
                                Failure::of(&e)
                            )),
                        }
                    }
                    (Want::Xmlsec("ok"), Err(e)) => failures.push(format!(
                        "{at}: xmlsec1 verifies this signature with the pinned key, fedkit refused: {}",
                        Failure::of(&e)
                    )),
                    (Want::Xmlsec(other), Ok(_)) => failures.push(format!(
                        "{at}: xmlsec1 says {other:?} with the pinned key, but fedkit verified it"
                    )),
                    (Want::Xmlsec(_), Err(_)) => {}
                    (Want::Error(expected), Ok(_)) => {
                        failures.push(format!("{at}: verified, but must be refused with {expected}"))
                    }
                    (Want::Error(expected), Err(e)) => {
                        let f = Failure::of(&e);
                        if f.name != *expected {
                            failures.push(format!("{at}: must be refused with {expected}, got {f}"));
                        }
                    }
                    (Want::Refusal(e), Ok(_)) => failures.push(format!(
                        "{at}: UNEXPECTED PASS: the exceptions entry expects a refusal ({}); remove it",
                        e.reason
                    )),
                    (Want::Refusal(exc), Err(e)) => {
                        let f = Failure::of(&e);
                        if let Err(msg) = matches_refusal(exc, &f) {
                            failures.push(format!("{at}: {msg}"));
                        }
                    }
                }
            }
            per_provider.push((provider.name(), outcomes));
        }
        if let Some((first, expected)) = per_provider.first() {
            for (other, outcomes) in &per_provider {
                if outcomes != expected {
                    failures.push(format!(
                        "{label}: providers disagree: {first} gives {expected:?}, {other} gives {outcomes:?}"
                    ));
                }
            }
            report.push(format!("{label}: xmlsec1 {xmlsec}; {}", expected.join(", ")));
        }
    }
    if case.signatures.is_empty() {
        report.push(format!(
            "the manifest lists no signature ({}), and none is visible",
            case.shape
        ));
    }
    assert!(
        failures.is_empty(),
        "{SOURCE}/{name}: {} problem(s):\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
    println!("{SOURCE}/{name}: {}", report.join(" | "));
}

case_tests! { run;
    auth0 => "auth0",
    adfs => "adfs",
    adfs_encrypted => "adfs-encrypted",
    okta_encrypted => "okta-encrypted",
    okta => "okta",
    onelogin => "onelogin",
    oracle_access_manager => "oracle-access-manager",
    pingfed_01 => "pingfed-01",
    pingfed_02 => "pingfed-02",
    pingfed_03 => "pingfed-03",
    pingfed_05 => "pingfed-05",
    oktadev_00 => "oktadev-00",
    oktadev_01 => "oktadev-01",
    oktadev_02 => "oktadev-02",
    oktadev_03 => "oktadev-03",
    oktadev_04 => "oktadev-04",
    oktadev_05 => "oktadev-05",
    oktadev_06 => "oktadev-06",
    oktadev_07 => "oktadev-07",
    oktadev_08 => "oktadev-08",
    oktadev_09 => "oktadev-09",
    oktadev_10 => "oktadev-10",
    oktadev_11 => "oktadev-11",
    oktadev_12 => "oktadev-12",
    oktadev_13 => "oktadev-13",
    oktadev_14 => "oktadev-14",
    oktadev_15 => "oktadev-15",
    oktadev_16 => "oktadev-16",
    onelogin_01 => "onelogin-01",
    onelogin_03 => "onelogin-03",
    onelogin_04 => "onelogin-04",
    onelogin_05 => "onelogin-05",
    onelogin_06 => "onelogin-06",
    onelogin_07 => "onelogin-07",
    onelogin_08 => "onelogin-08",
    onelogin_09 => "onelogin-09",
    onelogin_11 => "onelogin-11",
    onelogin_12 => "onelogin-12",
    onelogin_13 => "onelogin-13",
    onelogin_14 => "onelogin-14",
    onelogin_15 => "onelogin-15",
    onelogin_16 => "onelogin-16",
    onelogin_17 => "onelogin-17",
    onelogin_18 => "onelogin-18",
    onelogin_21 => "onelogin-21",
    onelogin_22 => "onelogin-22",
    onelogin_23 => "onelogin-23",
    onelogin_24 => "onelogin-24",
    onelogin_25 => "onelogin-25",
    onelogin_26 => "onelogin-26",
    onelogin_27 => "onelogin-27",
    onelogin_28 => "onelogin-28",
    onelogin_31 => "onelogin-31",
    onelogin_33 => "onelogin-33",
    onelogin_34 => "onelogin-34",
    onelogin_36 => "onelogin-36",
    onelogin_37 => "onelogin-37",
    onelogin_38 => "onelogin-38",
    onelogin_46 => "onelogin-46",
    onelogin_47 => "onelogin-47",
    onelogin_48 => "onelogin-48",
    onelogin_50 => "onelogin-50",
    onelogin_51 => "onelogin-51",
    onelogin_52 => "onelogin-52",
    onelogin_53 => "onelogin-53",
    onelogin_54 => "onelogin-54",
    onelogin_55 => "onelogin-55",
    onelogin_56 => "onelogin-56",
    onelogin_57 => "onelogin-57",
    onelogin_58 => "onelogin-58",
    onelogin_59 => "onelogin-59",
    onelogin_81 => "onelogin-81",
    onelogin_82 => "onelogin-82",
    onelogin_83 => "onelogin-83",
    onelogin_84 => "onelogin-84",
    onelogin_85 => "onelogin-85",
    onelogin_86 => "onelogin-86",
    onelogin_87 => "onelogin-87",
    onelogin_88 => "onelogin-88",
    onelogin_89 => "onelogin-89",
    onelogin_91 => "onelogin-91",
    onelogin_92 => "onelogin-92",
    onelogin_93 => "onelogin-93",
    onelogin_94 => "onelogin-94",
    onelogin_97 => "onelogin-97",
    onelogin_98 => "onelogin-98",
    onelogin_99 => "onelogin-99",
    onelogin_155 => "onelogin-155",
    onelogin_156 => "onelogin-156",
    onelogin_157 => "onelogin-157",
    onelogin_158 => "onelogin-158",
    onelogin_159 => "onelogin-159",
}
