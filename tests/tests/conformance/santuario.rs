//! `shared/vectors/c14n-santuario`: the worked examples of Canonical XML 1.0 and Exclusive
//! C14N 1.0, byte for byte. Inputs with a DOCTYPE must be refused by the hardened parser
//! (`ParseError::DtdNotAllowed`); a relative namespace URI must be refused by C14N. Each
//! refusal is listed in `tests/data/exceptions/c14n-santuario.json`.

use std::sync::OnceLock;

use fedkit_xmldsig::c14n::{self, Algorithm, Method, SubtreeOptions};
use fedkit_xmldsig::Document;
use serde::Deserialize;

use super::support::{self, case_tests, compare_bytes, matches_refusal, Exceptions, Expect, Failure, Source};

const SOURCE: &str = "c14n-santuario";

#[derive(Deserialize)]
struct Manifest {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    input: String,
    algorithm: String,
    expected: Option<String>,
    dtd: bool,
    #[serde(default)]
    subtree: Option<Subtree>,
    #[serde(default)]
    xpath_subset: Option<String>,
    #[serde(default)]
    must_fail: bool,
}

#[derive(Deserialize)]
struct Subtree {
    namespace: String,
    local_name: String,
    occurrence: usize,
}

struct Data {
    source: Source,
    manifest: Manifest,
    exceptions: Exceptions,
}

fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| {
        // The Santuario manifest has no SHA-256 table; every file it names must still exist.
        let source = Source::open(SOURCE, false);
        let manifest = source.manifest();
        Data {
            source,
            manifest,
            exceptions: Exceptions::load(SOURCE),
        }
    })
}

fn algorithm(name: &str) -> Algorithm {
    Algorithm::ALL
        .into_iter()
        .find(|a| a.name() == name)
        .unwrap_or_else(|| panic!("unknown algorithm {name:?} in the manifest"))
}

/// Runs one case: `Ok(bytes)` is the canonical form, `Err` the refusal.
fn canonicalize(source: &Source, case: &Case) -> Result<Vec<u8>, Failure> {
    let text = source.read_text(&case.input);
    let doc = Document::parse(&text).map_err(|e| Failure::of(&e))?;
    let method = Method::new(algorithm(&case.algorithm));
    if let Some(xpath) = &case.xpath_subset {
        panic!(
            "{}: the expected output is for the XPath subset {xpath}, which fedkit cannot select; \
             list the case as `skip` in {SOURCE}.json",
            case.name
        );
    }
    match &case.subtree {
        None => c14n::canonicalize_document_to_vec(&doc, &method).map_err(|e| Failure::of(&e)),
        Some(sub) => {
            let ns = (!sub.namespace.is_empty()).then_some(sub.namespace.as_str());
            let apex = doc
                .tree()
                .descendants()
                .filter(|n| {
                    n.is_element() && n.tag_name().namespace() == ns && n.tag_name().name() == sub.local_name
                })
                .nth(sub.occurrence - 1)
                .unwrap_or_else(|| {
                    panic!(
                        "{}: no occurrence {} of {{{}}}{} in {}",
                        case.name, sub.occurrence, sub.namespace, sub.local_name, case.input
                    )
                });
            c14n::canonicalize_subtree_to_vec(apex, &method, SubtreeOptions::default())
                .map_err(|e| Failure::of(&e))
        }
    }
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
    // Every file the case names must exist, whether or not the case runs here.
    let expected = case.expected.as_deref().map(|file| source.read(file));
    if let Some(xpath) = &case.xpath_subset {
        source.read(xpath);
    }
    let exception = exceptions.for_case(name);
    if let Some(e) = exception.filter(|e| e.expect == Expect::Skip) {
        assert!(
            case.xpath_subset.is_some() && !case.dtd,
            "{name}: listed as skip ({}) but the case can run here; only XPath-subset cases without a DTD may be skipped",
            e.reason
        );
        println!("{SOURCE}/{name}: SKIPPED ({})", e.reason);
        return;
    }
    if case.dtd || case.must_fail {
        assert!(
            exception.is_some_and(|e| e.expect == Expect::Refused),
            "{name}: the manifest says this case {} but {} has no `refused` entry for it",
            if case.dtd { "has a DOCTYPE" } else { "must fail" },
            exceptions.path().display()
        );
    }
    if let Some(expected) = &expected {
        if let Err(msg) = support::check_fixed_point(expected, &Method::new(algorithm(&case.algorithm))) {
            panic!("{SOURCE}/{name}: {msg}");
        }
    }
    let result = canonicalize(source, case);
    match (exception, result) {
        (None, Ok(actual)) => {
            let expected = expected
                .as_deref()
                .unwrap_or_else(|| panic!("{name}: the manifest names no expected output"));
            if let Err(diff) = compare_bytes(expected, &actual) {
                panic!("{SOURCE}/{name} ({}): {diff}", case.algorithm);
            }
            println!("{SOURCE}/{name}: PASSED ({} bytes)", actual.len());
        }
        (None, Err(failure)) => panic!("{SOURCE}/{name}: unexpected failure: {failure}"),
        (Some(e), Ok(_)) => panic!(
            "{SOURCE}/{name}: UNEXPECTED PASS: the exceptions file expects a refusal ({}) but the case \
             canonicalized; remove the entry from {} if that is now correct",
            e.reason,
            exceptions.path().display()
        ),
        (Some(e), Err(failure)) => {
            if let Err(msg) = matches_refusal(e, &failure) {
                panic!("{SOURCE}/{name}: {msg}");
            }
            println!(
                "{SOURCE}/{name}: REFUSED as expected with {} ({})",
                failure.name, e.reason
            );
        }
    }
}

#[test]
fn every_case_has_a_test_and_every_exception_a_case() {
    let Data {
        manifest, exceptions, ..
    } = data();
    let names: Vec<String> = manifest.cases.iter().map(|c| c.name.clone()).collect();
    support::assert_same_cases(SOURCE, CASES, &names);
    exceptions.assert_entries_match(|case| names.iter().any(|n| n == case).then(Vec::new));
    assert!(
        exceptions.entries().iter().all(|e| e.signature.is_none()),
        "{SOURCE}: entries name no signature"
    );
}

case_tests! { run;
    spec_3_1_pis_comments => "spec-3.1-pis-comments",
    spec_3_1_with_comments => "spec-3.1-with-comments",
    spec_3_2_whitespace => "spec-3.2-whitespace",
    spec_3_3_tags => "spec-3.3-tags",
    spec_3_4_characters => "spec-3.4-characters",
    spec_3_5_entities => "spec-3.5-entities",
    spec_3_6_encoding => "spec-3.6-encoding",
    spec_3_7_subset => "spec-3.7-subset",
    spec_3_8_xml_attrs => "spec-3.8-xml-attrs",
    default_ns_redefinition => "default-ns-redefinition",
    relative_namespace_uri => "relative-namespace-uri",
    exc_2_2_inclusive_subtree_1 => "exc-2.2-inclusive-subtree-1",
    exc_2_2_inclusive_subtree_2 => "exc-2.2-inclusive-subtree-2",
    exc_2_2_exclusive_subtree_1 => "exc-2.2-exclusive-subtree-1",
    exc_2_2_exclusive_subtree_2 => "exc-2.2-exclusive-subtree-2",
    exc_2_2_3_exclusive_subtree_p => "exc-2.2.3-exclusive-subtree-p",
    exc_2_4_exclusive_subtree => "exc-2.4-exclusive-subtree",
}
