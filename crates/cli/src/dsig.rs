//! `fedkit dsig`: canonicalize XML and verify XML signatures.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use fedkit_xmldsig::c14n::{self, Algorithm, Method, SubtreeOptions};
use fedkit_xmldsig::crypto::AwsLcRs;
use fedkit_xmldsig::roxmltree::Node;
use fedkit_xmldsig::{
    find_signatures, AlgorithmPolicy, C14nError, DigestAlgorithm, Document, Limits, SignatureAlgorithm,
    TrustedKey, TrustedKeys, Verifier, DSIG_NS, ENVELOPED_SIGNATURE,
};

use crate::output::{self, CommandError, Covers, Failure, Output, SignatureReport, VerifyReport};

/// Canonicalize XML and verify XML signatures (XML-DSig).
#[derive(Debug, Args)]
pub(crate) struct DsigArgs {
    #[command(subcommand)]
    command: DsigCommand,
}

#[derive(Debug, Subcommand)]
enum DsigCommand {
    C14n(C14nArgs),
    Verify(VerifyArgs),
}

/// The canonicalization algorithms, by their short names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum C14nAlgorithm {
    /// Exclusive XML Canonicalization 1.0 (what SAML signatures use).
    Exc,
    /// Exclusive XML Canonicalization 1.0, keeping comments.
    ExcWithComments,
    /// Canonical XML 1.0 (inclusive).
    C14n,
    /// Canonical XML 1.0 (inclusive), keeping comments.
    C14nWithComments,
}

impl From<C14nAlgorithm> for Algorithm {
    fn from(a: C14nAlgorithm) -> Self {
        match a {
            C14nAlgorithm::Exc => Algorithm::Exclusive,
            C14nAlgorithm::ExcWithComments => Algorithm::ExclusiveWithComments,
            C14nAlgorithm::C14n => Algorithm::Inclusive,
            C14nAlgorithm::C14nWithComments => Algorithm::InclusiveWithComments,
        }
    }
}

/// Write the canonical form of an XML document, or of one element of it, to stdout.
///
/// The document is parsed by fedkit's hardened parser (no DTD; limits for documents up to
/// 512 MiB / 64 million nodes) exactly as `dsig verify` parses it, so the output is the
/// byte sequence a signature over the same content is computed on.
#[derive(Debug, Args)]
#[command(after_long_help = C14N_EXAMPLES)]
struct C14nArgs {
    /// Canonicalization algorithm.
    #[arg(long, short = 'a', value_enum, default_value_t = C14nAlgorithm::Exc)]
    algorithm: C14nAlgorithm,

    /// InclusiveNamespaces PrefixList for exclusive canonicalization: space-separated
    /// prefixes to treat as in inclusive canonicalization; `#default` names the default
    /// namespace. Only valid with `exc` and `exc-with-comments`.
    #[arg(long, value_name = "\"P1 P2\"")]
    prefixes: Option<String>,

    /// Canonicalize only the element whose ID, Id, id or xml:id attribute equals ID (and its
    /// subtree). Fails if no element or more than one element carries that ID.
    #[arg(long, value_name = "ID")]
    subtree_id: Option<String>,

    /// The XML file; `-` reads standard input.
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

const C14N_EXAMPLES: &str = "\
Examples:
  # Exclusive canonical form of a whole document
  fedkit dsig c14n examples/data/signed-response.xml

  # The assertion only, keeping the xs and xsi namespace declarations
  fedkit dsig c14n --subtree-id _assert-9b3e --prefixes \"xs xsi\" response.xml

  # Inclusive C14N from standard input, as JSON
  cat doc.xml | fedkit dsig c14n --algorithm c14n --json -

Output: the canonical bytes, without a trailing newline. With --json:
  {\"canonical\": \"...\", \"algorithm\": \"exc\", \"bytes\": N, \"prefixes\": [...], \"subtree_id\": ...}

Exit status: 0 written; 1 input refused (see the error code); 2 usage error.";

/// Verify every ds:Signature in an XML document against pinned certificates.
///
/// Trust comes only from the certificates and public keys given with --cert: a certificate in
/// the document's KeyInfo is never trusted by itself, it only selects among the pinned keys.
/// Each signature must carry one same-document Reference (URI="#ID"); the report says which
/// element it covers, with which algorithms, and which pinned key verified it.
///
/// This checks signatures only. It does not check SAML conditions (audience, time window,
/// recipient, replay), nor whether the signed element is the one an application consumes.
#[derive(Debug, Args)]
#[command(after_long_help = VERIFY_EXAMPLES)]
struct VerifyArgs {
    /// PEM file with the IdP's signing certificate(s) or public key(s). Every CERTIFICATE and
    /// PUBLIC KEY block is pinned. Repeat to pin keys from several files (e.g. during a
    /// certificate rollover).
    #[arg(long, value_name = "PEM", required = true)]
    cert: Vec<PathBuf>,

    /// DANGEROUS: accept SHA-1 digests and signatures. SHA-1 is broken for collision
    /// resistance; use only to diagnose an IdP that still signs with it.
    #[arg(long)]
    allow_sha1: bool,

    /// DANGEROUS: accept RSA keys down to BITS bits instead of 2048 (at least 1024), to
    /// diagnose an IdP that still signs with a 1024-bit certificate.
    #[arg(long, value_name = "BITS", value_parser = rsa_bits_parser())]
    dangerous_min_rsa_bits: Option<usize>,

    /// The signed XML file; `-` reads standard input.
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

const VERIFY_EXAMPLES: &str = "\
Examples:
  fedkit dsig verify --cert examples/data/idp-cert.pem examples/data/signed-response.xml

  # Rollover: accept either the old or the new certificate, machine-readable output
  fedkit dsig verify --cert old.pem --cert new.pem --json response.xml

JSON output:
  {\"valid\": bool, \"file\": ..., \"signatures\": [{\"index\" (1-based, document order),
     \"covers\": {\"element\", \"id\", \"path\"}, \"valid\", \"signature_algorithm\",
     \"digest_algorithm\", \"c14n\" (SignedInfo), \"reference_c14n\", \"key_fingerprint\",
     \"key_subject\", \"error\": {\"code\", \"message\"} | null}],
   \"error\": {\"code\", \"message\"} | null}
For a failed signature the algorithms are those it declares (not verified) and
key_fingerprint is null. Check \"covers.path\": a signed element in an unexpected place
(e.g. /Response/Extensions/Assertion) is how signature wrapping shows.

Exit status: 0 every signature verified; 1 a signature failed, there is none, or an input
could not be read or parsed; 2 usage error.";

/// The value of a `--dangerous-min-*-bits` flag: an RSA key size, 1024 to 16384 bits (the
/// library never goes below 1024).
pub(crate) fn rsa_bits_parser() -> impl clap::builder::TypedValueParser<Value = usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(1024..=16384)
}

/// Runs a `dsig` subcommand.
pub(crate) fn run(args: &DsigArgs, json: bool) -> Result<Output, CommandError> {
    match &args.command {
        DsigCommand::C14n(a) => c14n_command(a, json),
        DsigCommand::Verify(a) => verify_command(a, json),
    }
}

/// How a path is named in messages.
pub(crate) fn display_name(path: &Path) -> String {
    if path == Path::new("-") {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    }
}

/// Reads a file, or standard input for `-`.
pub(crate) fn read_input(path: &Path) -> Result<Vec<u8>, Failure> {
    let result = if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin().lock().read_to_end(&mut buf).map(|_| buf)
    } else {
        std::fs::read(path)
    };
    result.map_err(|e| {
        Failure::new(
            output::IO_ERROR,
            format!("cannot read {}: {e}", display_name(path)),
        )
    })
}

fn parse<'i>(name: &str, bytes: &'i [u8]) -> Result<Document<'i>, Failure> {
    Document::parse_bytes_with_limits(bytes, &Limits::large_documents())
        .map_err(|e| Failure::from_error(name, e))
}

fn c14n_command(args: &C14nArgs, json: bool) -> Result<Output, CommandError> {
    let algorithm = Algorithm::from(args.algorithm);
    if args.prefixes.is_some() && !algorithm.is_exclusive() {
        return Err(CommandError::Usage {
            command: &["dsig", "c14n"],
            message: format!(
                "--prefixes is the InclusiveNamespaces PrefixList of exclusive canonicalization and cannot be used with --algorithm {}; use exc or exc-with-comments",
                algorithm.name()
            ),
        });
    }
    let method = match &args.prefixes {
        Some(list) => Method::with_prefix_list(algorithm, list),
        None => Method::new(algorithm),
    };
    let name = display_name(&args.file);
    let bytes = read_input(&args.file)?;
    let doc = parse(&name, &bytes)?;
    let canonical = match &args.subtree_id {
        Some(id) => {
            let apex = c14n::find_by_id(&doc, id).map_err(|e| Failure::from_error(&name, e))?;
            c14n::canonicalize_subtree_to_vec(apex, &method, SubtreeOptions::default())
        }
        None => c14n::canonicalize_document_to_vec(&doc, &method),
    }
    .map_err(|e| Failure::from_error(&name, e))?;
    if !json {
        return Ok(Output::success(canonical));
    }
    // The input was UTF-8 and canonical XML of UTF-8 text is UTF-8.
    let text = String::from_utf8(canonical).map_err(|e| {
        Failure::new(
            "internal_error",
            format!("{name}: the canonical form is not UTF-8 ({e}); please report this"),
        )
    })?;
    let value = output::C14nJson {
        canonical: &text,
        algorithm: algorithm.name(),
        bytes: text.len(),
        prefixes: method.prefix_list(),
        subtree_id: args.subtree_id.as_deref(),
    };
    Ok(Output::success(output::json_bytes(&value)))
}

/// Loads every key of every PEM file; duplicates (the same certificate given twice) are kept
/// once.
pub(crate) fn load_keys(paths: &[PathBuf]) -> Result<TrustedKeys, Failure> {
    let mut keys: Vec<TrustedKey> = Vec::new();
    for path in paths {
        let name = display_name(path);
        let bytes = read_input(path)?;
        let text = String::from_utf8(bytes).map_err(|_| {
            Failure::new(
                output::BAD_PEM,
                format!("{name}: not a PEM file (it is not text; a DER certificate must be converted with `openssl x509 -inform der`)"),
            )
        })?;
        let set = TrustedKeys::from_pem(&text).map_err(|e| Failure::from_error(&name, e))?;
        for key in set.keys() {
            if !keys.iter().any(|k| k.fingerprint() == key.fingerprint()) {
                keys.push(key.clone());
            }
        }
    }
    TrustedKeys::new(keys)
        .ok_or_else(|| Failure::new("no_pem_block", "no certificate or public key was pinned"))
}

/// The first child element of `node` in the XML-DSig namespace with this local name.
fn dsig_child<'a, 'i>(node: Node<'a, 'i>, local: &str) -> Option<Node<'a, 'i>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().namespace() == Some(DSIG_NS) && c.tag_name().name() == local)
}

fn algorithm_attr<'a>(node: Option<Node<'a, '_>>) -> Option<&'a str> {
    node.and_then(|n| n.attribute("Algorithm"))
}

fn c14n_name(uri: &str) -> String {
    Algorithm::from_uri(uri).map_or_else(|| uri.to_owned(), |a| a.name().to_owned())
}

/// What a signature declares, read from the unverified document: used only to describe a
/// signature that failed, so the admin sees which algorithms and element it names.
fn declared(doc: &Document<'_>, signature: Node<'_, '_>, index: usize, error: Failure) -> SignatureReport {
    let signed_info = dsig_child(signature, "SignedInfo");
    let reference = signed_info.and_then(|si| dsig_child(si, "Reference"));
    let id = reference
        .and_then(|r| r.attribute("URI"))
        .and_then(|uri| uri.strip_prefix('#'))
        .filter(|id| !id.is_empty());
    let target = id.and_then(|id| c14n::find_by_id(doc, id).ok());
    let signature_algorithm = algorithm_attr(signed_info.and_then(|si| dsig_child(si, "SignatureMethod")))
        .map(|uri| SignatureAlgorithm::from_uri(uri).map_or_else(|| uri.to_owned(), |a| a.name().to_owned()));
    let digest_algorithm = algorithm_attr(reference.and_then(|r| dsig_child(r, "DigestMethod")))
        .map(|uri| DigestAlgorithm::from_uri(uri).map_or_else(|| uri.to_owned(), |a| a.name().to_owned()));
    let c14n =
        algorithm_attr(signed_info.and_then(|si| dsig_child(si, "CanonicalizationMethod"))).map(c14n_name);
    // The reference's canonicalization: the last c14n transform; without one, inclusive C14N.
    let reference_c14n = reference.map(|r| {
        dsig_child(r, "Transforms")
            .into_iter()
            .flat_map(|t| t.children())
            .filter_map(|t| t.attribute("Algorithm"))
            .rfind(|uri| Algorithm::from_uri(uri).is_some())
            .map_or_else(|| Algorithm::Inclusive.name().to_owned(), c14n_name)
    });
    SignatureReport {
        index,
        covers: Covers {
            element: target.map(|n| n.tag_name().name().to_owned()),
            id: id.map(str::to_owned),
            path: target.map(element_path),
        },
        signature_algorithm,
        digest_algorithm,
        c14n,
        reference_c14n,
        key_fingerprint: None,
        key_subject: None,
        error: Some(error),
    }
}

/// Local names from the root element down to `node`: `/Response/Assertion`.
fn element_path(node: Node<'_, '_>) -> String {
    let mut names: Vec<&str> = node
        .ancestors()
        .filter(Node::is_element)
        .map(|n| n.tag_name().name())
        .collect();
    names.reverse();
    format!("/{}", names.join("/"))
}

/// Whether the signature's Reference declares the enveloped-signature transform.
fn declares_enveloped(signature: Node<'_, '_>) -> bool {
    dsig_child(signature, "SignedInfo")
        .and_then(|si| dsig_child(si, "Reference"))
        .and_then(|r| dsig_child(r, "Transforms"))
        .is_some_and(|t| {
            t.children()
                .any(|c| c.attribute("Algorithm") == Some(ENVELOPED_SIGNATURE))
        })
}

/// Verifies one signature. Besides the library's checks, refuses a Reference that points
/// inside the very `ds:Signature` it belongs to (into its `ds:Object`) while declaring the
/// enveloped-signature transform: that transform removes the whole `ds:Signature`, so by the
/// XML-DSig processing model (and xmlsec1) nothing at all is signed. The library's
/// `verify_signature` digests the element instead; a wrapped document must not be reported
/// valid.
fn verify_one(
    verifier: &Verifier,
    doc: &Document<'_>,
    signature: Node<'_, '_>,
    index: usize,
) -> SignatureReport {
    let verified = match verifier.verify_signature(doc, signature) {
        Ok(verified) => verified,
        Err(e) => {
            let code = output::error_code(&e.clone().into());
            return declared(doc, signature, index, Failure::new(code, e.to_string()));
        }
    };
    let info = verified.info();
    let target = doc.tree().get_node(verified.element().node_id());
    let inside_signature = target.is_some_and(|t| t.ancestors().any(|a| a.id() == signature.id()));
    if inside_signature && declares_enveloped(signature) {
        let code = output::error_code(&C14nError::EmptyOutput.into());
        let message = format!(
            "the Reference points to #{} inside this very ds:Signature, and its enveloped-signature transform removes the whole ds:Signature: nothing is signed (a signature-wrapping pattern)",
            info.reference_id
        );
        return declared(doc, signature, index, Failure::new(code, message));
    }
    let key = verifier.keys().keys().get(info.key_index);
    SignatureReport {
        index,
        covers: Covers {
            element: Some(verified.element().local_name().to_owned()),
            id: Some(info.reference_id.clone()),
            path: target.map(element_path),
        },
        signature_algorithm: Some(info.signature_algorithm.name().to_owned()),
        digest_algorithm: Some(info.digest_algorithm.name().to_owned()),
        c14n: Some(info.signed_info_c14n.name().to_owned()),
        reference_c14n: Some(info.reference_c14n.name().to_owned()),
        key_fingerprint: Some(info.key_fingerprint.to_string()),
        key_subject: key.and_then(TrustedKey::certificate).map(|c| c.subject.clone()),
        error: None,
    }
}

fn verify_command(args: &VerifyArgs, json: bool) -> Result<Output, CommandError> {
    let keys = load_keys(&args.cert)?;
    let mut policy = AlgorithmPolicy::default();
    if args.allow_sha1 {
        policy = policy.dangerous_allow_sha1();
    }
    if let Some(bits) = args.dangerous_min_rsa_bits {
        policy = policy.dangerous_min_rsa_bits(bits);
    }
    let verifier = Verifier::new(keys, policy).with_provider(&AwsLcRs);

    let name = display_name(&args.file);
    let bytes = read_input(&args.file)?;
    let doc = parse(&name, &bytes)?;

    let signatures = find_signatures(&doc)
        .enumerate()
        .map(|(i, signature)| verify_one(&verifier, &doc, signature, i + 1))
        .collect();
    let report = VerifyReport {
        file: name,
        signatures,
    };
    let stdout = if json {
        report.to_json()
    } else {
        report.to_human().into_bytes()
    };
    Ok(Output {
        stdout,
        failure: report.failure(),
    })
}
