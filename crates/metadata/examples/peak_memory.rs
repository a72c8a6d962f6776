//! Peak memory of loading a large signed federation aggregate, against the goal "peak memory
//! ≤ 3× the file size" (the input bytes count).
//!
//! ```text
//! cargo run --release -p fedkit-metadata --all-features --example peak_memory
//! cargo run --release -p fedkit-metadata --all-features --example peak_memory -- measure FILE CERT
//! ```
//!
//! Without arguments it generates the ~50 MiB aggregate of the `aggregate` benchmark, signed
//! by the xmlsec1 CLI, into a temporary directory, then measures in fresh child processes:
//!
//! - `fedkit`: read the file, `Metadata::parse` (parse, verify, index, drop the tree), one
//!   lookup. Reports VmHWM (peak resident set, /proc/self/status) minus VmHWM before the
//!   file was read, divided by the file size; and the resident set once loading is done
//!   (what stays for the life of the index).
//! - `xmlsec1 --verify` on the same file, its maximum resident set as reported by
//!   `/usr/bin/time -f %M`, divided by the file size.
//!
//! `measure FILE CERT` measures any signed aggregate (a real federation's) with its signing
//! certificate; `emit DIR` writes the generated signed aggregate and its certificate to DIR.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

#[path = "../benches/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::Command;

use fedkit_metadata::{ImportSettings, Limits, Metadata, SignaturePolicy};
use fedkit_xmldsig::TrustedKeys;

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

fn measure(file: &Path, cert: &Path) {
    let keys = TrustedKeys::from_pem(&std::fs::read_to_string(cert).unwrap()).unwrap();
    let options = ImportSettings::new(SignaturePolicy::Required(keys)).with_limits(Limits::aggregate());
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
        .unwrap()
        .to_utc();

    let baseline = status_bytes("VmHWM");
    let xml = std::fs::read(file).expect("read the aggregate");
    let input = xml.len() as f64;
    let metadata = Metadata::parse(&xml, &options, now).expect("fedkit loads the aggregate");
    let peak = status_bytes("VmHWM");
    let first = metadata.idps().next().map(|s| s.entity_id.to_owned()).unwrap();
    metadata.idp(&first, now).expect("lookup");
    drop(xml);
    let resident = status_bytes("VmRSS");
    let used = peak.saturating_sub(baseline) as f64;
    println!(
        "fedkit load+verify+index        input {:>6.1} MiB | {} entities | peak − baseline {:>6.1} MiB = {:.2}× input | resident after load (input dropped) {:>6.1} MiB",
        input / MIB,
        metadata.entities_total(),
        used / MIB,
        used / input,
        resident as f64 / MIB,
    );
}

fn stage_only(stage: &str, file: &Path, cert: &Path) {
    let keys = TrustedKeys::from_pem(&std::fs::read_to_string(cert).unwrap()).unwrap();
    let verifier = fedkit_xmldsig::Verifier::new(keys, fedkit_xmldsig::AlgorithmPolicy::default());
    let baseline = status_bytes("VmHWM");
    let xml = std::fs::read(file).expect("read the aggregate");
    let input = xml.len() as f64;
    let doc =
        fedkit_xmldsig::Document::parse_bytes_with_limits(&xml, &fedkit_xmldsig::Limits::large_documents())
            .unwrap();
    let after_parse = status_bytes("VmHWM");
    let rss_parse = status_bytes("VmRSS");
    if stage == "verify" {
        verifier.verify_enveloped(&doc, doc.root_element()).unwrap();
    }
    let peak = status_bytes("VmHWM");
    println!(
        "{stage}: after parse HWM {:.2}x RSS {:.2}x; end HWM {:.2}x",
        (after_parse - baseline) as f64 / input,
        (rss_parse - baseline) as f64 / input,
        (peak - baseline) as f64 / input
    );
}

fn xmlsec1(file: &Path, cert: &Path) {
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg("xmlsec1")
        .arg("--verify")
        .args(["--enabled-key-data", "key-name", "--pubkey-cert-pem"])
        .arg(cert)
        .args(common::ID_ARGS)
        .arg(file)
        .output()
        .expect("run /usr/bin/time xmlsec1");
    assert!(out.status.success(), "xmlsec1 verifies");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let kib: f64 = stderr.lines().last().unwrap().trim().parse().unwrap();
    let input = std::fs::metadata(file).unwrap().len() as f64;
    println!(
        "xmlsec1 --verify (subprocess)   input {:>6.1} MiB | max RSS {:>6.1} MiB = {:.2}× input",
        input / MIB,
        kib * 1024.0 / MIB,
        kib * 1024.0 / input
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
        ["measure", file, cert] => measure(Path::new(file), Path::new(cert)),
        ["emit", dir] => {
            let dir = Path::new(dir);
            std::fs::create_dir_all(dir).unwrap();
            let (file, entities) = common::signed_aggregate(dir, 50 * 1024 * 1024);
            println!(
                "{} ({entities} entities), signed by {}",
                file.display(),
                dir.join("federation.crt.pem").display()
            );
        }
        ["stage", stage, file, cert] => stage_only(stage, Path::new(file), Path::new(cert)),
        ["xmlsec1", file, cert] => xmlsec1(Path::new(file), Path::new(cert)),
        [] => {
            let dir = common::work_dir("peak-memory");
            let (file, entities) = common::signed_aggregate(&dir, 50 * 1024 * 1024);
            println!("generated {} ({entities} entities)", file.display());
            let cert = dir.join("federation.crt.pem");
            let (f, c) = (file.to_str().unwrap(), cert.to_str().unwrap());
            run_child(&["measure", f, c]);
            run_child(&["stage", "parse", f, c]);
            run_child(&["stage", "verify", f, c]);
            xmlsec1(&file, &cert);
            std::fs::remove_dir_all(&dir).unwrap();
        }
        _ => panic!("usage: peak_memory [measure FILE CERT | emit DIR]"),
    }
}
