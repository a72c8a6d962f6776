//! `shared/vectors/xmlsec-c14n`: xmlsec's merlin C14N suites (byte for byte; the XPath
//! node-set cases are skipped only through the exceptions file), the aleksey RSA-SHA2 /
//! RSA-PSS signatures verified with one pinned key (right key verifies, wrong key fails; the
//! `URI=""` + XPath ones must be refused), and the two DSA-SHA1 merlin signatures (refused).

use std::sync::OnceLock;

use base64::Engine as _;
use fedkit_xmldsig::c14n::{self, Algorithm, Method, SubtreeOptions};
use fedkit_xmldsig::{
    crypto, AlgorithmPolicy, DigestAlgorithm, Document, TrustedKeys, Verifier, VerifyError,
};
use serde::Deserialize;

use super::support::{self, case_tests, compare_bytes, matches_refusal, Exceptions, Expect, Failure, Source};

const SOURCE: &str = "xmlsec-c14n";

#[derive(Deserialize)]
struct Manifest {
    c14n_cases: Vec<C14nCase>,
    signature_cases: Vec<SignatureCase>,
    merlin_signatures: Vec<MerlinSignature>,
}

#[derive(Deserialize)]
struct C14nCase {
    name: String,
    input: String,
    expected: String,
    algorithm: String,
    inclusive_namespaces_prefix_list: Option<String>,
    with_comments: bool,
    node_set: Option<serde_json::Value>,
    subtree: Option<Subtree>,
    expected_sha1_digest_b64: Option<String>,
    requires_xpath: bool,
    skip_reason: Option<String>,
}

#[derive(Deserialize)]
struct Subtree {
    namespace: String,
    local_name: String,
    #[serde(default)]
    occurrence: Option<usize>,
    #[serde(default)]
    id_attribute: Option<String>,
    #[serde(default)]
    id: Option<String>,
}

#[derive(Deserialize)]
struct SignatureCase {
    name: String,
    file: String,
    references: Vec<Reference>,
    uses_sha1: bool,
    requires_xpath: bool,
    skip_reason: Option<String>,
    pinned_key_runs: Vec<PinnedKeyRun>,
}

#[derive(Deserialize)]
struct Reference {
    uri: String,
}

#[derive(Deserialize)]
struct PinnedKeyRun {
    key: String,
    expect: String,
}

#[derive(Deserialize)]
struct MerlinSignature {
    name: String,
    file: String,
    skip_reason: Option<String>,
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
    let c14n_names: Vec<String> = manifest.c14n_cases.iter().map(|c| c.name.clone()).collect();
    let sig_names: Vec<String> = manifest.signature_cases.iter().map(|c| c.name.clone()).collect();
    let merlin_names: Vec<String> = manifest
        .merlin_signatures
        .iter()
        .map(|c| c.name.clone())
        .collect();
    support::assert_same_cases("xmlsec-c14n c14n_cases", c14n_cases::CASES, &c14n_names);
    support::assert_same_cases("xmlsec-c14n signature_cases", signature_cases::CASES, &sig_names);
    support::assert_same_cases(
        "xmlsec-c14n merlin_signatures",
        merlin_signatures::CASES,
        &merlin_names,
    );
    let mut all: Vec<&String> = c14n_names.iter().chain(&sig_names).chain(&merlin_names).collect();
    let count = all.len();
    all.sort();
    all.dedup();
    assert_eq!(
        all.len(),
        count,
        "{SOURCE}: case names must be unique across the three lists"
    );
    exceptions.assert_entries_match(|case| all.iter().any(|n| *n == case).then(Vec::new));
}

fn case_exception<'a>(
    exceptions: &'a Exceptions,
    name: &str,
    must_have: bool,
    why: &str,
) -> Option<&'a support::Exception> {
    let e = exceptions.for_case(name);
    assert!(
        e.is_some() || !must_have,
        "{SOURCE}/{name}: {why}; it may only be skipped or refused through an entry in {}",
        exceptions.path().display()
    );
    e
}

/// The merlin C14N cases.
mod c14n_cases {
    use super::*;

    /// The case's algorithm with its InclusiveNamespaces PrefixList.
    fn method_of(case: &C14nCase) -> Method {
        let algorithm = Algorithm::from_uri(&case.algorithm)
            .unwrap_or_else(|| panic!("{}: unknown algorithm {}", case.name, case.algorithm));
        assert_eq!(
            algorithm.with_comments(),
            case.with_comments,
            "{}: with_comments",
            case.name
        );
        match &case.inclusive_namespaces_prefix_list {
            Some(list) => Method::with_prefix_list(algorithm, list),
            None => Method::new(algorithm),
        }
    }

    fn canonicalize(source: &Source, case: &C14nCase) -> Result<Vec<u8>, Failure> {
        let text = source.read_text(&case.input);
        let doc = Document::parse(&text).map_err(|e| Failure::of(&e))?;
        let method = method_of(case);
        let sub = case
            .subtree
            .as_ref()
            .unwrap_or_else(|| panic!("{}: neither an XPath case nor a subtree", case.name));
        let ns = (!sub.namespace.is_empty()).then_some(sub.namespace.as_str());
        let named = doc.tree().descendants().filter(|n| {
            n.is_element() && n.tag_name().namespace() == ns && n.tag_name().name() == sub.local_name
        });
        let apex = match (&sub.occurrence, &sub.id_attribute, &sub.id) {
            (Some(k), None, None) => named.clone().nth(k - 1),
            (None, Some(attr), Some(id)) => {
                let mut hits = named.filter(|n| n.attribute(attr.as_str()) == Some(id.as_str()));
                let first = hits.next();
                assert!(
                    hits.next().is_none(),
                    "{}: {attr}={id:?} is not unique",
                    case.name
                );
                first
            }
            _ => panic!("{}: the subtree names neither an occurrence nor an Id", case.name),
        }
        .unwrap_or_else(|| {
            panic!(
                "{}: the subtree apex {{{}}}{} is not in {}",
                case.name, sub.namespace, sub.local_name, case.input
            )
        });
        // A same-document reference selects the subtree; the `#xpointer(id(...))` references of
        // merlin-exc-c14n-one keep comments, so comments follow the algorithm here.
        let options = SubtreeOptions::default().excluding(None);
        c14n::canonicalize_subtree_to_vec(apex, &method, options).map_err(|e| Failure::of(&e))
    }

    pub(super) fn run(name: &str) {
        let Data {
            source,
            manifest,
            exceptions,
        } = data();
        let case = manifest
            .c14n_cases
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("{name}: not in the manifest"));
        let needs_xpath = case.requires_xpath || case.node_set.is_some();
        let exception = case_exception(
            exceptions,
            name,
            needs_xpath || case.skip_reason.is_some(),
            "the case needs XPath node-set selection",
        );
        if let Some(e) = exception.filter(|e| e.expect == Expect::Skip) {
            assert!(
                needs_xpath && case.subtree.is_none(),
                "{name}: listed as skip ({}) but it is a subtree case that can run here",
                e.reason
            );
            println!("{SOURCE}/{name}: SKIPPED ({})", e.reason);
            return;
        }
        let expected = source.read(&case.expected);
        if let Some(b64) = &case.expected_sha1_digest_b64 {
            // Provenance check of the vector itself: the expected bytes are what was digested.
            let digest = crypto::default_provider().digest(DigestAlgorithm::Sha1, &expected);
            assert_eq!(
                &base64::engine::general_purpose::STANDARD.encode(digest),
                b64,
                "{name}: the SHA-1 of {} is not the DigestValue the manifest gives",
                case.expected
            );
        }
        if let Err(msg) = support::check_fixed_point(&expected, &method_of(case)) {
            panic!("{SOURCE}/{name}: {msg}");
        }
        match (exception, canonicalize(source, case)) {
            (None, Ok(actual)) => {
                if let Err(diff) = compare_bytes(&expected, &actual) {
                    panic!("{SOURCE}/{name} ({}): {diff}", case.algorithm);
                }
                println!("{SOURCE}/{name}: PASSED ({} bytes)", actual.len());
            }
            (None, Err(f)) => panic!("{SOURCE}/{name}: unexpected failure: {f}"),
            (Some(e), Ok(_)) => panic!(
                "{SOURCE}/{name}: UNEXPECTED PASS: expected a refusal ({}); remove the exceptions entry",
                e.reason
            ),
            (Some(e), Err(f)) => {
                if let Err(msg) = matches_refusal(e, &f) {
                    panic!("{SOURCE}/{name}: {msg}");
                }
                println!(
                    "{SOURCE}/{name}: REFUSED as expected with {} ({})",
                    f.name, e.reason
                );
            }
        }
    }

    case_tests! { run;
        merlin_c14n_three_ref00 => "merlin-c14n-three-ref00",
        merlin_c14n_three_ref01 => "merlin-c14n-three-ref01",
        merlin_c14n_three_ref02 => "merlin-c14n-three-ref02",
        merlin_c14n_three_ref03 => "merlin-c14n-three-ref03",
        merlin_c14n_three_ref04 => "merlin-c14n-three-ref04",
        merlin_c14n_three_ref05 => "merlin-c14n-three-ref05",
        merlin_c14n_three_ref06 => "merlin-c14n-three-ref06",
        merlin_c14n_three_ref07 => "merlin-c14n-three-ref07",
        merlin_c14n_three_ref08 => "merlin-c14n-three-ref08",
        merlin_c14n_three_ref09 => "merlin-c14n-three-ref09",
        merlin_c14n_three_ref10 => "merlin-c14n-three-ref10",
        merlin_c14n_three_ref11 => "merlin-c14n-three-ref11",
        merlin_c14n_three_ref12 => "merlin-c14n-three-ref12",
        merlin_c14n_three_ref13 => "merlin-c14n-three-ref13",
        merlin_c14n_three_ref14 => "merlin-c14n-three-ref14",
        merlin_c14n_three_ref15 => "merlin-c14n-three-ref15",
        merlin_c14n_three_ref16 => "merlin-c14n-three-ref16",
        merlin_c14n_three_ref17 => "merlin-c14n-three-ref17",
        merlin_c14n_three_ref18 => "merlin-c14n-three-ref18",
        merlin_c14n_three_ref19 => "merlin-c14n-three-ref19",
        merlin_c14n_three_ref20 => "merlin-c14n-three-ref20",
        merlin_c14n_three_ref21 => "merlin-c14n-three-ref21",
        merlin_c14n_three_ref22 => "merlin-c14n-three-ref22",
        merlin_c14n_three_ref23 => "merlin-c14n-three-ref23",
        merlin_c14n_three_ref24 => "merlin-c14n-three-ref24",
        merlin_c14n_three_ref25 => "merlin-c14n-three-ref25",
        merlin_c14n_three_ref26 => "merlin-c14n-three-ref26",
        merlin_c14n_three_signedinfo => "merlin-c14n-three-signedinfo",
        merlin_exc_c14n_one_ref1 => "merlin-exc-c14n-one-ref1",
        merlin_exc_c14n_one_ref2 => "merlin-exc-c14n-one-ref2",
        merlin_exc_c14n_one_ref3 => "merlin-exc-c14n-one-ref3",
        merlin_exc_c14n_one_ref4 => "merlin-exc-c14n-one-ref4",
        merlin_exc_c14n_one_signedinfo => "merlin-exc-c14n-one-signedinfo",
    }
}

/// The aleksey RSA-SHA2 / RSA-PSS documents, verified with exactly one pinned key.
mod signature_cases {
    use super::*;

    pub(super) fn run(name: &str) {
        let Data {
            source,
            manifest,
            exceptions,
        } = data();
        let case = manifest
            .signature_cases
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("{name}: not in the manifest"));
        let exception = case_exception(
            exceptions,
            name,
            case.requires_xpath || case.skip_reason.is_some(),
            "the manifest marks it as needing XPath (skip_reason)",
        );
        assert!(
            exception.is_none_or(|e| e.expect == Expect::Refused),
            "{name}: signature cases can always run; list them as `refused`, not `skip`"
        );
        assert!(!case.pinned_key_runs.is_empty(), "{name}: no pinned-key runs");
        let [reference] = case.references.as_slice() else {
            panic!("{name}: the harness expects one Reference per signature");
        };
        let text = source.read_text(&case.file);
        let doc = Document::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let signatures: Vec<_> = fedkit_xmldsig::find_signatures(&doc).collect();
        let [signature] = signatures.as_slice() else {
            panic!("{name}: expected one ds:Signature, found {}", signatures.len());
        };
        let policy = if case.uses_sha1 {
            AlgorithmPolicy::default().dangerous_allow_sha1()
        } else {
            AlgorithmPolicy::default()
        };
        let mut failures = Vec::new();
        let mut runs = 0;
        for run in &case.pinned_key_runs {
            let keys = TrustedKeys::from_pem(&source.read_text(&run.key))
                .unwrap_or_else(|e| panic!("{name}: {}: {e}", run.key));
            for provider in crypto::all_providers() {
                runs += 1;
                let label = format!("key {} ({}), provider {}", run.key, run.expect, provider.name());
                let verifier = Verifier::new(keys.clone(), policy.clone()).with_provider(provider);
                let result = verifier.verify_signature(&doc, *signature);
                match (exception, run.expect.as_str(), result) {
                    (Some(e), _, Ok(_)) => failures.push(format!(
                        "{label}: UNEXPECTED PASS: the exceptions entry expects a refusal ({})",
                        e.reason
                    )),
                    (Some(e), _, Err(err)) => {
                        if let Err(msg) = matches_refusal(e, &Failure::of(&err)) {
                            failures.push(format!("{label}: {msg}"));
                        }
                    }
                    (None, "success", Ok(v)) => {
                        let want = reference.uri.strip_prefix('#').unwrap_or(&reference.uri);
                        if v.info().reference_id != want {
                            failures.push(format!(
                                "{label}: verified, but the reference is {:?} instead of {want:?}",
                                v.info().reference_id
                            ));
                        }
                    }
                    (None, "success", Err(err)) => failures.push(format!(
                        "{label}: the right key must verify, got {}",
                        Failure::of(&err)
                    )),
                    (None, "fail", Ok(_)) => failures.push(format!("{label}: the wrong key verified")),
                    (None, "fail", Err(err)) => {
                        if !matches!(err, VerifyError::SignatureInvalid { .. }) {
                            failures.push(format!(
                                "{label}: the wrong key must fail with SignatureInvalid, got {}",
                                Failure::of(&err)
                            ));
                        }
                    }
                    (None, other, _) => panic!("{name}: unknown expectation {other:?}"),
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{SOURCE}/{name}:\n  {}",
            failures.join("\n  ")
        );
        match exception {
            Some(e) => println!(
                "{SOURCE}/{name}: REFUSED as expected in all {runs} runs ({})",
                e.reason
            ),
            None => println!("{SOURCE}/{name}: PASSED ({runs} runs: key x provider)"),
        }
    }

    case_tests! { run;
        enveloped_sha256_rsa_pss_sha256 => "enveloped-sha256-rsa-pss-sha256",
        enveloped_sha384_rsa_pss_sha384 => "enveloped-sha384-rsa-pss-sha384",
        enveloped_sha512_rsa_pss_sha512 => "enveloped-sha512-rsa-pss-sha512",
        enveloped_x509_digest_sha256 => "enveloped-x509-digest-sha256",
        enveloped_x509_digest_sha384 => "enveloped-x509-digest-sha384",
        enveloped_x509_digest_sha512 => "enveloped-x509-digest-sha512",
        enveloped_x509_issuerserial => "enveloped-x509-issuerserial",
        enveloped_x509_missing_cert => "enveloped-x509-missing-cert",
        enveloped_x509_same_subj_cert => "enveloped-x509-same-subj-cert",
        enveloped_x509_ski => "enveloped-x509-ski",
        enveloped_x509_subjectname => "enveloped-x509-subjectname",
        enveloping_sha256_rsa_sha256 => "enveloping-sha256-rsa-sha256",
        enveloping_sha384_rsa_sha384 => "enveloping-sha384-rsa-sha384",
        enveloping_sha512_rsa_sha512 => "enveloping-sha512-rsa-sha512",
    }
}

/// The two DSA-SHA1 merlin signatures that carry the C14N vectors.
mod merlin_signatures {
    use super::*;

    /// The DSA signing key is only in KeyInfo and cannot be pinned (fedkit verifies RSA and
    /// EC); any pinned key will do, since the signature must be refused before a key is used.
    const ANY_PINNED_KEY: &str = "keys/rsa/rsa-2048-pubkey.pem";

    pub(super) fn run(name: &str) {
        let Data {
            source,
            manifest,
            exceptions,
        } = data();
        let case = manifest
            .merlin_signatures
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("{name}: not in the manifest"));
        let exception = case_exception(
            exceptions,
            name,
            case.skip_reason.is_some(),
            "the manifest gives a skip_reason",
        )
        .unwrap_or_else(|| {
            panic!("{name}: DSA-SHA1 is not implemented, so the case needs a `refused` entry")
        });
        assert_eq!(
            exception.expect,
            Expect::Refused,
            "{name}: this case can run; list it as `refused`"
        );
        let text = source.read_text(&case.file);
        let doc = Document::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let keys = TrustedKeys::from_pem(&source.read_text(ANY_PINNED_KEY))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let signatures: Vec<_> = fedkit_xmldsig::find_signatures(&doc).collect();
        assert!(!signatures.is_empty(), "{name}: no ds:Signature");
        let mut failures = Vec::new();
        for signature in &signatures {
            for provider in crypto::all_providers() {
                // SHA-1 allowed, so that the refusal is about the structure or DSA, not SHA-1.
                let verifier = Verifier::new(keys.clone(), AlgorithmPolicy::default().dangerous_allow_sha1())
                    .with_provider(provider);
                match verifier.verify_signature(&doc, *signature) {
                    Ok(_) => failures.push(format!("provider {}: UNEXPECTED PASS", provider.name())),
                    Err(err) => {
                        if let Err(msg) = matches_refusal(exception, &Failure::of(&err)) {
                            failures.push(format!("provider {}: {msg}", provider.name()));
                        }
                    }
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{SOURCE}/{name}:\n  {}",
            failures.join("\n  ")
        );
        println!("{SOURCE}/{name}: REFUSED as expected ({})", exception.reason);
    }

    case_tests! { run;
        merlin_c14n_three_signature => "merlin-c14n-three-signature",
        merlin_exc_c14n_one_signature => "merlin-exc-c14n-one-signature",
    }
}
