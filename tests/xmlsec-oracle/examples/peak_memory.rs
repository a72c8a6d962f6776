//! Peak memory of canonicalizing, digesting and verifying a large signed metadata aggregate,
//! against the goal "peak memory ≤ 3× the input size" (the input string counts).
//!
//! ```text
//! cargo run --release -p fedkit-xmlsec-oracle --all-features --example peak_memory
//! cargo run --release -p fedkit-xmlsec-oracle --all-features --example peak_memory -- measure verify FILE
//! ```
//!
//! Without arguments it generates the 50 MiB aggregate of the `c14n` benchmark, signed by
//! libxmlsec1, into a temporary file (in a child process, so generation and signing do not
//! count), then measures each mode in a fresh child process:
//!
//! - `c14n`: fedkit parse + exclusive c14n of the root subtree streamed into SHA-256;
//! - `verify`: fedkit parse + `verify_enveloped` (the same work plus the RSA check);
//! - `libxmlsec1`: libxml2 parse + libxmlsec1 verification, for comparison.
//!
//! Each measurement reads `VmHWM` (peak resident set) from /proc/self/status before the
//! input is loaded (the baseline), `VmRSS` once it is loaded, and `VmHWM` at the end, and
//! reports (peak − baseline) / input size. `measure MODE FILE` measures any file, such as a
//! real federation aggregate; `emit FILE [BYTES]` writes the generated signed document.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

#[path = "../benches/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use fedkit_xmldsig::crypto::RustCrypto;
use fedkit_xmldsig::{AlgorithmPolicy, Document, Limits, TrustedKeys, Verifier};

const DEFAULT_BYTES: usize = 50 * 1024 * 1024;
const MIB: f64 = 1024.0 * 1024.0;

/// A `kB` field of /proc/self/status, in bytes.
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status (Linux only)");
    let line = status
        .lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))
        .unwrap_or_else(|| panic!("{field} missing from /proc/self/status"));
    let kib: u64 = line[field.len() + 1..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .expect("a number of kB");
    kib * 1024
}

fn emit(path: &Path, bytes: usize) {
    let xml = common::sign_with_libxmlsec1(&common::metadata_template(bytes), common::METADATA_ROOT);
    std::fs::write(path, xml).expect("write the signed document");
}

fn measure(mode: &str, path: &Path) {
    // Everything that does not depend on the input is set up before the baseline.
    let verifier = Verifier::new(
        TrustedKeys::from_pem(common::IDP_CERT_PEM).expect("pinned certificate"),
        AlgorithmPolicy::default(),
    );
    let libxmlsec1 = (mode == "libxmlsec1").then(|| common::LibXmlSec1::new(common::METADATA_ROOT));

    let baseline = status_bytes("VmHWM");
    let xml = std::fs::read_to_string(path).expect("read the input");
    let loaded = status_bytes("VmRSS");
    let label = match mode {
        "c14n" => {
            let digest = common::fedkit_c14n_sha256(&xml, &RustCrypto);
            assert_eq!(digest, common::digest_value(&xml), "digest matches DigestValue");
            "fedkit parse + exc-c14n + SHA-256"
        }
        "verify" => {
            let doc = Document::parse_with_limits(&xml, &Limits::large_documents()).expect("fedkit parses");
            verifier
                .verify_enveloped(&doc, doc.root_element())
                .expect("fedkit verifies");
            "fedkit parse + verify_enveloped"
        }
        "libxmlsec1" => {
            let ok = libxmlsec1
                .as_ref()
                .expect("set up above")
                .parse_and_verify(xml.as_bytes());
            assert!(ok, "libxmlsec1 verifies");
            "libxml2 parse + libxmlsec1 verify"
        }
        other => panic!("unknown mode {other:?}: use c14n, verify or libxmlsec1"),
    };
    let peak = status_bytes("VmHWM");
    let input = xml.len() as f64;
    let used = peak.saturating_sub(baseline) as f64;
    println!(
        "{label:<36} input {:>6.1} MiB | VmHWM before load {:>5.1} MiB | VmRSS after load {:>6.1} MiB | \
         VmHWM after {:>6.1} MiB | peak − baseline {:>6.1} MiB = {:.2}× input",
        input / MIB,
        baseline as f64 / MIB,
        loaded as f64 / MIB,
        peak as f64 / MIB,
        used / MIB,
        used / input,
    );
}

fn run_child(args: &[&str]) {
    let exe = std::env::current_exe().expect("own executable");
    let status = Command::new(exe).args(args).status().expect("spawn child");
    assert!(status.success(), "child {args:?} failed: {status}");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["emit", path] => emit(Path::new(path), DEFAULT_BYTES),
        ["emit", path, bytes] => emit(Path::new(path), bytes.parse().expect("a size in bytes")),
        ["measure", mode, path] => measure(mode, Path::new(path)),
        [] => {
            let path: PathBuf =
                std::env::temp_dir().join(format!("fedkit-peak-memory-{}.xml", std::process::id()));
            let path_str = path.to_str().expect("UTF-8 temp path");
            run_child(&["emit", path_str]);
            for mode in ["c14n", "verify", "libxmlsec1"] {
                run_child(&["measure", mode, path_str]);
            }
            std::fs::remove_file(&path).expect("remove the temporary file");
        }
        _ => panic!("usage: peak_memory [emit FILE [BYTES] | measure c14n|verify|libxmlsec1 FILE]"),
    }
}
