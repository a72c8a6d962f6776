//! `fedkit saml`: verify a SAML Response as an SP would, build an AuthnRequest, write SP
//! metadata; and `fedkit bench saml-verify`.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand, ValueEnum};
use fedkit_saml::request::{AuthnRequest, ID_RANDOM_BYTES};
use fedkit_saml::sp_metadata::SpMetadata;
use fedkit_saml::{
    IdentityProvider, InMemoryReplayCache, RelayState, ResponseValidator, ServiceProvider, Settings,
    SignedPart, SigningRequirement, VerifiedAssertion,
};
use fedkit_xmldsig::crypto::AwsLcRs;
use fedkit_xmldsig::{AlgorithmPolicy, DecryptionKey, SigningKey};
use serde::Serialize;

use crate::dsig::{display_name, load_keys, read_input};
use crate::output::{self, CommandError, Failure, Output};

/// SAML 2.0 Service Provider tools.
#[derive(Debug, Args)]
pub(crate) struct SamlArgs {
    #[command(subcommand)]
    command: SamlCommand,
}

#[derive(Debug, Subcommand)]
enum SamlCommand {
    Verify(VerifyArgs),
    AuthnRequest(AuthnRequestArgs),
    SpMetadata(SpMetadataArgs),
}

/// Benchmarks of full processing, in-process.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    SamlVerify(BenchVerifyArgs),
}

/// The signatures to require.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Require {
    /// The assertion covered by its own or the Response's signature (default).
    Either,
    /// A signed Assertion.
    Assertion,
    /// A signed Response.
    Response,
    /// Both signed.
    Both,
}

/// Where the IdP's entity ID and signing certificates come from.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("idp_source").required(true).args(["idp_certs", "idp_metadata"])))]
struct IdpArgs {
    /// The IdP's signing certificate(s), PEM, as downloaded from its console (repeatable;
    /// several during a rotation). Needs --idp-entity-id.
    #[arg(long = "idp-cert", value_name = "PEM", requires = "idp_entity_id")]
    idp_certs: Vec<PathBuf>,
    /// The IdP's metadata XML (entity ID and every signing certificate from it; its own
    /// signature is not required: the file is trusted as the admin downloaded it).
    #[arg(long, value_name = "FILE", conflicts_with = "idp_certs")]
    idp_metadata: Option<PathBuf>,
    /// The IdP entity ID (JumpCloud: "IdP Entity ID"); with --idp-metadata, selects the IdP
    /// of an aggregate.
    #[arg(long, value_name = "ID")]
    idp_entity_id: Option<String>,
}

/// The IdP's description from metadata: the one IdP of the file, or the one named.
fn idp_metadata(
    path: &std::path::Path,
    entity_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<fedkit_metadata::IdpMetadata, CommandError> {
    use fedkit_metadata::{ImportSettings, Limits, Metadata, SignaturePolicy};
    let xml = read_input(path).map_err(CommandError::Failure)?;
    let options = ImportSettings::new(SignaturePolicy::NotRequired).with_limits(Limits::aggregate());
    let name = display_name(path);
    let fail = |e: fedkit_metadata::Error| failure(e.code(), format!("{name}: {e}"));
    let metadata = Metadata::parse(&xml, &options, now).map_err(fail)?;
    match entity_id {
        Some(id) => metadata.idp(id, now),
        None => metadata.only_idp(now),
    }
    .map_err(fail)
}

fn identity_provider(a: &IdpArgs, now: DateTime<Utc>) -> Result<IdentityProvider, CommandError> {
    if let Some(path) = &a.idp_metadata {
        let metadata = idp_metadata(path, a.idp_entity_id.as_deref(), now)?;
        return Ok(IdentityProvider::from_metadata(&metadata));
    }
    let keys = load_keys(&a.idp_certs).map_err(CommandError::Failure)?;
    IdentityProvider::new(a.idp_entity_id.as_deref().unwrap_or_default(), keys)
        .map_err(|e| failure("bad_idp_settings", e.to_string()))
}

/// Verify a SAML Response (the SAMLResponse POST value, base64, or raw XML) as this SP.
#[derive(Debug, Args)]
#[command(after_long_help = VERIFY_HELP)]
struct VerifyArgs {
    #[command(flatten)]
    idp: IdpArgs,
    #[command(flatten)]
    sp: SpArgs,
    /// The AuthnRequest ID this login started with.
    #[arg(long, value_name = "ID", conflicts_with = "allow_idp_initiated")]
    request_id: Option<String>,
    /// Accept IdP-initiated (unsolicited) Responses, with no InResponseTo (fedkit-saml's
    /// `Settings::with_idp_initiated`).
    #[arg(long, visible_alias = "allow-unsolicited")]
    allow_idp_initiated: bool,
    /// Verify as of this instant (RFC 3339) instead of now.
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// Clock skew tolerated on every time check, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    clock_skew: u32,
    /// Accept SHA-1 signatures and digests (refused by default).
    #[arg(long)]
    allow_sha1: bool,
    /// DANGEROUS: accept RSA signing keys of the IdP down to BITS bits instead of 2048 (at
    /// least 1024): for an IdP that still signs with a 1024-bit certificate, until it rotates
    /// to a 2048-bit one.
    #[arg(long, value_name = "BITS", value_parser = crate::dsig::rsa_bits_parser())]
    dangerous_min_rsa_bits: Option<usize>,
    /// Refuse a signature by a pinned certificate outside its validity period (by default
    /// that is a warning: a pinned certificate is a key).
    #[arg(long)]
    enforce_cert_validity: bool,
    /// Which signatures to require.
    #[arg(long, value_enum, default_value_t = Require::Either)]
    require: Require,
    /// The SP's private key (PEM), to decrypt encrypted assertions. RSA, at least 2048 bits.
    #[arg(long, value_name = "PEM")]
    sp_key: Option<PathBuf>,
    /// DANGEROUS: accept an --sp-key down to BITS bits instead of 2048 (at least 1024): for an
    /// SP whose 1024-bit encryption certificate the IdP still holds, until a 2048-bit one is
    /// uploaded.
    #[arg(long, value_name = "BITS", requires = "sp_key", value_parser = crate::dsig::rsa_bits_parser())]
    dangerous_min_sp_key_bits: Option<usize>,
    /// The Response: a file with the base64 POST value or the XML, `-` for stdin.
    #[arg(value_name = "RESPONSE")]
    response: PathBuf,
}

const VERIFY_HELP: &str = "\
Examples:
  fedkit saml verify --idp-metadata jumpcloud-metadata.xml \\
      --sp-entity-id https://app.example.com/saml/metadata --acs-url https://app.example.com/saml/acs \\
      --request-id _7f3a... response.b64
  fedkit saml verify --idp-cert idp.pem --idp-entity-id https://sso.jumpcloud.com/saml2/acme \\
      --sp-entity-id https://app.example.com/saml/metadata --acs-url https://app.example.com/saml/acs \\
      --request-id _7f3a... response.b64

Output: one line per check, `ok` for a check that ran on content a signature covers and `--`
for one that did not, with the reason (the element is absent, or only the unsigned Response
carries it). With --json, \"checks\" gives each as \"passed\", \"absent\" or \"unsigned\", beside
\"in_response_to\" and \"audiences\" as signed.

Exit status: 0 accepted; 1 rejected (the error code and message say which check failed and
what to change in the IdP or SP settings); 2 usage error.";

#[derive(Debug, Args)]
struct SpArgs {
    /// This SP's entity ID (the IdP's \"Audience\" / \"SP Entity ID\").
    #[arg(long, value_name = "ID")]
    sp_entity_id: String,
    /// This SP's Assertion Consumer Service URL (repeatable).
    #[arg(long = "acs-url", value_name = "URL", required = true)]
    acs_urls: Vec<String>,
}

/// Run `saml verify` N times in-process and report the time per verification.
#[derive(Debug, Args)]
struct BenchVerifyArgs {
    #[command(flatten)]
    verify: VerifyArgs,
    /// Number of verifications.
    #[arg(long, default_value_t = 1000)]
    iterations: u32,
}

/// Build an AuthnRequest and print the HTTP-Redirect URL and the request ID.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("idp_source").required(true).args(["sso_url", "idp_metadata"])))]
struct AuthnRequestArgs {
    #[command(flatten)]
    sp: SpArgs,
    /// The IdP's SSO URL (JumpCloud: "IDP URL").
    #[arg(long, value_name = "URL")]
    sso_url: Option<String>,
    /// The IdP's metadata XML: the request goes to its HTTP-Redirect SingleSignOnService.
    #[arg(long, value_name = "FILE", conflicts_with = "sso_url")]
    idp_metadata: Option<PathBuf>,
    /// With --idp-metadata: the IdP of an aggregate to use.
    #[arg(long, value_name = "ID", requires = "idp_metadata")]
    idp_entity_id: Option<String>,
    /// RelayState to carry through the login.
    #[arg(long, value_name = "S")]
    relay_state: Option<String>,
    /// Sign the Redirect URL (RSA-SHA256 query signature) with this SP private key (PEM).
    #[arg(long, value_name = "PEM")]
    sign_key: Option<PathBuf>,
    /// The certificate uploaded to the IdP for the signing key: checked to belong to
    /// `--sign-key`, so a mismatch is caught here rather than by the IdP.
    #[arg(long, value_name = "PEM", requires = "sign_key")]
    sign_cert: Option<PathBuf>,
}

/// Print SP metadata XML for the IdP.
#[derive(Debug, Args)]
struct SpMetadataArgs {
    #[command(flatten)]
    sp: SpArgs,
    /// Single Logout URL.
    #[arg(long, value_name = "URL")]
    slo_url: Option<String>,
    /// The SP's signing certificate (PEM): a KeyDescriptor use="signing", and
    /// AuthnRequestsSigned="true".
    #[arg(long, value_name = "PEM")]
    cert: Option<PathBuf>,
    /// The SP's encryption certificate (PEM; every certificate in the file, e.g. the current
    /// and the next during a rollover): a KeyDescriptor use="encryption", the certificate the
    /// IdP encrypts assertions to. Its private key is what `saml verify --sp-key` takes.
    #[arg(long, value_name = "PEM")]
    encryption_cert: Option<PathBuf>,
}

pub(crate) fn run(args: &SamlArgs, json: bool) -> Result<Output, CommandError> {
    match &args.command {
        SamlCommand::Verify(a) => verify(a, json),
        SamlCommand::AuthnRequest(a) => authn_request(a, json),
        SamlCommand::SpMetadata(a) => sp_metadata(a),
    }
}

pub(crate) fn run_bench(args: &BenchArgs, json: bool) -> Result<Output, CommandError> {
    match &args.command {
        BenchCommand::SamlVerify(a) => bench_verify(a, json),
    }
}

fn failure(code: &'static str, message: impl Into<String>) -> CommandError {
    CommandError::Failure(Failure::new(code, message))
}

fn service_provider(sp: &SpArgs) -> Result<ServiceProvider, CommandError> {
    ServiceProvider::new(&sp.sp_entity_id, sp.acs_urls.iter().cloned())
        .map_err(|e| failure("bad_sp_settings", e.to_string()))
}

fn validator(a: &VerifyArgs, now: DateTime<Utc>) -> Result<ResponseValidator, CommandError> {
    let idp = identity_provider(&a.idp, now)?;
    let mut algorithms = AlgorithmPolicy::default();
    if a.allow_sha1 {
        algorithms = algorithms.dangerous_allow_sha1();
    }
    if let Some(bits) = a.dangerous_min_rsa_bits {
        algorithms = algorithms.dangerous_min_rsa_bits(bits);
    }
    let settings = Settings::default()
        .with_signing(match a.require {
            Require::Either => SigningRequirement::Either,
            Require::Assertion => SigningRequirement::Assertion,
            Require::Response => SigningRequirement::Response,
            Require::Both => SigningRequirement::Both,
        })
        .with_algorithms(algorithms)
        .with_idp_initiated(a.allow_idp_initiated)
        .with_certificate_validity_enforced(a.enforce_cert_validity)
        .with_clock_skew(std::time::Duration::from_secs(u64::from(a.clock_skew)))
        .map_err(|e| failure(e.code(), format!("--clock-skew: {e}")))?;
    let mut validator =
        ResponseValidator::with_settings(service_provider(&a.sp)?, idp, settings).with_provider(&AwsLcRs);
    if let Some(path) = &a.sp_key {
        let pem = read_pem(path)?;
        let key = match a.dangerous_min_sp_key_bits {
            // Parsed by AWS-LC, the provider that decrypts with it (a key under 2048 bits is
            // RustCrypto's, as AwsLcRs::supports says).
            None => DecryptionKey::from_pem_with(&pem, &AwsLcRs),
            Some(bits) => DecryptionKey::from_pem_dangerous_min_rsa_bits_with(&pem, bits, &AwsLcRs),
        }
        .map_err(|e| CommandError::Failure(Failure::from_error(&display_name(path), e)))?;
        validator = validator.with_decryption_key(key);
    }
    Ok(validator)
}

fn read_pem(path: &Path) -> Result<String, CommandError> {
    String::from_utf8(read_input(path).map_err(CommandError::Failure)?)
        .map_err(|_| failure(output::BAD_PEM, format!("{}: not a PEM file", display_name(path))))
}

fn now(a: &VerifyArgs) -> Result<DateTime<Utc>, CommandError> {
    match &a.now {
        None => Ok(Utc::now()),
        Some(t) => DateTime::parse_from_rfc3339(t)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| CommandError::Usage {
                command: &["saml", "verify"],
                message: format!("--now {t:?} is not an RFC 3339 time: {e}"),
            }),
    }
}

/// The Response as XML: raw XML as is, anything else decoded as the base64 POST value.
enum Input {
    Xml(Vec<u8>),
    Post(String),
}

fn read_response(path: &Path) -> Result<Input, CommandError> {
    let bytes = read_input(path).map_err(CommandError::Failure)?;
    // A file saved as UTF-16 (Windows PowerShell's `>` and `Out-File` write it so): XML goes
    // to the library, which names it; a UTF-16 base64 value is named here.
    if let Some(first) = utf16_first_character(&bytes) {
        if first == '<' {
            return Ok(Input::Xml(bytes));
        }
        let e = fedkit_saml::Error::Utf16Encoded { form_value: true };
        return Err(failure(e.code(), format!("{}: {e}", display_name(path))));
    }
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(0);
    if bytes.get(start) == Some(&b'<') || bytes.starts_with(b"\xEF\xBB\xBF") {
        return Ok(Input::Xml(bytes));
    }
    String::from_utf8(bytes).map(Input::Post).map_err(|_| {
        failure(
            "bad_base64",
            format!(
                "{}: neither XML nor a base64 SAMLResponse value",
                display_name(path)
            ),
        )
    })
}

/// For UTF-16 text (a byte-order mark, or a NUL byte beside the first ASCII character), its
/// first character other than whitespace; `None` for anything else.
fn utf16_first_character(bytes: &[u8]) -> Option<char> {
    let (big_endian, body) = match bytes {
        [0xFF, 0xFE, rest @ ..] => (false, rest),
        [0xFE, 0xFF, rest @ ..] => (true, rest),
        [c, 0, ..] if *c != 0 && c.is_ascii() => (false, bytes),
        [0, c, ..] if *c != 0 && c.is_ascii() => (true, bytes),
        _ => return None,
    };
    let units = body.chunks_exact(2).map(|pair| match pair {
        [a, b] if big_endian => u16::from_be_bytes([*a, *b]),
        [a, b] => u16::from_le_bytes([*a, *b]),
        _ => 0,
    });
    Some(
        char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .find(|c| !c.is_whitespace())
            .unwrap_or(char::REPLACEMENT_CHARACTER),
    )
}

fn process(
    v: &ResponseValidator,
    a: &VerifyArgs,
    input: &Input,
    now: DateTime<Utc>,
) -> Result<VerifiedAssertion, fedkit_saml::Error> {
    let cache = InMemoryReplayCache::new(1);
    let request = a.request_id.as_deref();
    match input {
        Input::Xml(xml) => v.process_xml(xml, request, now, &cache),
        Input::Post(value) => v.process_post(value, request, now, &cache),
    }
}

#[derive(Serialize)]
struct VerifyJson<'a> {
    name_id: &'a str,
    name_id_format: Option<&'a str>,
    session_index: Option<&'a str>,
    issuer: &'a str,
    attributes: serde_json::Map<String, serde_json::Value>,
    not_on_or_after: Option<String>,
    signed: Vec<&'static str>,
    warnings: Vec<String>,
    in_response_to: Option<&'a str>,
    audiences: &'a [String],
    checks: Checks,
}

/// The outcome of one check of `saml verify`, as printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Check {
    /// The check ran on content a signature covers, and passed.
    Passed,
    /// What the check reads is absent, so it did not run.
    Absent,
    /// The check ran (a mismatch would have been refused), but on content no signature
    /// covers: an attacker could have set it.
    Unsigned,
}

/// Every check `saml verify` reports, each from what the verified assertion says ran.
#[derive(Debug, Serialize)]
struct Checks {
    signature: Check,
    issuer: Check,
    status: Check,
    one_assertion: Check,
    audience: Check,
    destination: Check,
    subject_confirmation: Check,
    validity_period: Check,
    in_response_to: Check,
    session: Check,
}

impl Checks {
    /// What ran, from what the library exposes: it reads the assertion only through a
    /// signature, requires a bearer SubjectConfirmation (Recipient, NotOnOrAfter), and holds in
    /// `in_response_to()` only a signed InResponseTo.
    fn of(assertion: &VerifiedAssertion) -> Self {
        let response_signed = assertion.signed().contains(&SignedPart::Response);
        let signed_if = |present: bool| if present { Check::Passed } else { Check::Absent };
        Self {
            signature: Check::Passed,
            issuer: Check::Passed,
            status: if response_signed {
                Check::Passed
            } else {
                Check::Unsigned
            },
            one_assertion: Check::Passed,
            audience: signed_if(!assertion.audiences().is_empty()),
            destination: if response_signed {
                Check::Passed
            } else {
                Check::Unsigned
            },
            subject_confirmation: Check::Passed,
            validity_period: signed_if(
                assertion.not_before().is_some() || assertion.not_on_or_after().is_some(),
            ),
            in_response_to: signed_if(assertion.in_response_to().is_some()),
            session: signed_if(assertion.authn().session_not_on_or_after.is_some()),
        }
    }
}

fn part(p: &SignedPart) -> &'static str {
    match p {
        SignedPart::Response => "response",
        _ => "assertion",
    }
}

/// The human report of an accepted Response: `ok` only for a check that ran on signed
/// content; `--` with the reason for one that did not.
fn human_report(
    a: &VerifyArgs,
    assertion: &VerifiedAssertion,
    checks: &Checks,
    now: DateTime<Utc>,
) -> String {
    let signed: Vec<&str> = assertion.signed().iter().map(part).collect();
    let acs = a.sp.acs_urls.join(" or ");
    let time = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339());
    let mut lines = vec![
        format!(
            "ACCEPTED: the Response passed every check that applies at {} (ok: checked on signed content; --: not checked, and why)",
            now.to_rfc3339()
        ),
        format!(
            "  ok  signature(s) on: {} (pinned key {})",
            signed.join(", "),
            assertion.signing_key()
        ),
        format!("  ok  issuer: {}", assertion.issuer()),
        match checks.status {
            Check::Passed => "  ok  status: Success".to_owned(),
            _ => "  --  status: Success, but read from the unsigned Response (no signature covers it)".to_owned(),
        },
        "  ok  exactly one assertion, no signature wrapping".to_owned(),
        match checks.audience {
            Check::Passed => format!("  ok  audience: {}", a.sp.sp_entity_id),
            _ => "  --  audience: not checked, the assertion has no AudienceRestriction".to_owned(),
        },
        match checks.destination {
            Check::Passed => format!("  ok  destination: {acs}"),
            _ => "  --  destination: not covered by a signature (the Response is unsigned); the signed recipient below is what counts".to_owned(),
        },
        format!("  ok  recipient (bearer SubjectConfirmation, not expired): {acs}"),
        match checks.validity_period {
            Check::Passed => format!(
                "  ok  validity period: {} to {} (clock skew {} s)",
                time(assertion.not_before()).unwrap_or_else(|| "(no NotBefore)".to_owned()),
                time(assertion.not_on_or_after()).unwrap_or_else(|| "(no NotOnOrAfter)".to_owned()),
                a.clock_skew
            ),
            _ => "  --  validity period: not checked, the Conditions have no NotBefore or NotOnOrAfter".to_owned(),
        },
        match assertion.in_response_to() {
            Some(id) => format!("  ok  InResponseTo: {id}"),
            None => "  --  InResponseTo: absent, an IdP-initiated login (allowed by --allow-idp-initiated)".to_owned(),
        },
        match assertion.authn().session_not_on_or_after {
            Some(end) => format!("  ok  IdP session valid until {}", end.to_rfc3339()),
            None => "  --  IdP session end: not checked, the AuthnStatement has no SessionNotOnOrAfter".to_owned(),
        },
        format!(
            "  NameID: {} ({})",
            assertion.name_id().value,
            assertion.name_id().format.as_deref().unwrap_or("no format")
        ),
    ];
    for warning in assertion.warnings() {
        lines.push(format!("  WARNING {warning}"));
    }
    for attr in assertion.attributes() {
        lines.push(format!("  attribute {}: {}", attr.name, attr.values.join(", ")));
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

fn verify(a: &VerifyArgs, json: bool) -> Result<Output, CommandError> {
    let now = now(a)?;
    let v = validator(a, now)?;
    let input = read_response(&a.response)?;
    let assertion = process(&v, a, &input, now).map_err(|e| failure(e.code(), e.to_string()))?;
    let checks = Checks::of(&assertion);
    if !json {
        return Ok(Output::success(
            human_report(a, &assertion, &checks, now).into_bytes(),
        ));
    }
    let mut attributes = serde_json::Map::new();
    for attr in assertion.attributes() {
        let values = attr
            .values
            .iter()
            .cloned()
            .map(serde_json::Value::String)
            .collect();
        attributes
            .entry(attr.name.clone())
            .or_insert(serde_json::Value::Array(values));
    }
    let doc = VerifyJson {
        name_id: &assertion.name_id().value,
        name_id_format: assertion.name_id().format.as_deref(),
        session_index: assertion.session_index(),
        issuer: assertion.issuer(),
        attributes,
        not_on_or_after: assertion.not_on_or_after().map(|t| t.to_rfc3339()),
        signed: assertion.signed().iter().map(part).collect(),
        warnings: assertion.warnings().iter().map(ToString::to_string).collect(),
        in_response_to: assertion.in_response_to(),
        audiences: assertion.audiences(),
        checks,
    };
    Ok(Output::success(output::json_bytes(&doc)))
}

#[derive(Serialize)]
struct BenchJson {
    iterations: u32,
    ns_per_op_median: u128,
    ns_per_op_mean: u128,
}

fn bench_verify(b: &BenchVerifyArgs, json: bool) -> Result<Output, CommandError> {
    let a = &b.verify;
    let now = now(a)?;
    let v = validator(a, now)?;
    let input = read_response(&a.response)?;
    // Check once, so the benchmark never times a rejection.
    process(&v, a, &input, now).map_err(|e| failure(e.code(), e.to_string()))?;
    let iterations = b.iterations.max(1);
    let mut times: Vec<u128> = Vec::with_capacity(iterations as usize);
    for _ in 0..iterations {
        let start = std::time::Instant::now();
        let result = process(&v, a, &input, now);
        times.push(start.elapsed().as_nanos());
        std::hint::black_box(result.is_ok());
    }
    times.sort_unstable();
    let median = times.get(times.len() / 2).copied().unwrap_or_default();
    let mean = times.iter().sum::<u128>() / times.len().max(1) as u128;
    let doc = BenchJson {
        iterations,
        ns_per_op_median: median,
        ns_per_op_mean: mean,
    };
    if json {
        return Ok(Output::success(output::json_bytes(&doc)));
    }
    Ok(Output::success(
        format!(
            "{iterations} verifications: median {:.1} µs, mean {:.1} µs\n",
            median as f64 / 1000.0,
            mean as f64 / 1000.0
        )
        .into_bytes(),
    ))
}

fn random_bytes() -> Result<[u8; ID_RANDOM_BYTES], CommandError> {
    let mut bytes = [0u8; ID_RANDOM_BYTES];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| failure(output::IO_ERROR, format!("cannot read /dev/urandom: {e}")))?;
    Ok(bytes)
}

#[derive(Serialize)]
struct AuthnRequestJson<'a> {
    request_id: &'a str,
    redirect_url: &'a str,
}

fn authn_request(a: &AuthnRequestArgs, json: bool) -> Result<Output, CommandError> {
    let sp = service_provider(&a.sp)?;
    let now = Utc::now();
    let sso_url = match (&a.sso_url, &a.idp_metadata) {
        (Some(url), _) => url.clone(),
        (None, Some(path)) => {
            let idp = idp_metadata(path, a.idp_entity_id.as_deref(), now)?;
            if idp.want_authn_requests_signed() && a.sign_key.is_none() {
                return Err(failure(
                    "signature_required",
                    format!(
                        "{}: the IdP's metadata says WantAuthnRequestsSigned=\"true\"; pass the SP signing key with --sign-key",
                        display_name(path)
                    ),
                ));
            }
            let redirect = fedkit_metadata::Binding::HttpRedirect;
            match idp.sso_endpoint(&redirect) {
                Some(endpoint) => endpoint.location.clone(),
                None => {
                    return Err(failure(
                        "no_redirect_endpoint",
                        format!(
                            "{}: the IdP has no HTTP-Redirect SingleSignOnService (it offers: {})",
                            display_name(path),
                            idp.sso()
                                .iter()
                                .map(|e| e.binding.short_name().to_owned())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ))
                }
            }
        }
        (None, None) => return Err(failure("bad_idp_settings", "give --sso-url or --idp-metadata")),
    };
    let relay_state = a
        .relay_state
        .as_deref()
        .map(RelayState::new)
        .transpose()
        .map_err(|e| failure(e.code(), format!("--relay-state: {e}")))?;
    let request = AuthnRequest::new(&sp, &sso_url, random_bytes()?, now);
    let url = match &a.sign_key {
        None => request.redirect_url(relay_state),
        Some(path) => {
            let key = SigningKey::from_pem_with(&read_pem(path)?, &AwsLcRs)
                .map_err(|e| CommandError::Failure(Failure::from_error(&display_name(path), e)))?;
            if let Some(cert_path) = &a.sign_cert {
                let certs = fedkit_xmldsig::TrustedKey::from_pem(&read_pem(cert_path)?)
                    .map_err(|e| CommandError::Failure(Failure::from_error(&display_name(cert_path), e)))?;
                if !certs.iter().any(|c| key.matches(c.public_key())) {
                    let fingerprints: Vec<String> =
                        certs.iter().map(|c| c.fingerprint().to_string()).collect();
                    return Err(failure(
                        "sign_key_mismatch",
                        format!(
                            "{} does not belong to the certificate in {} (SHA-256 {}): the IdP would refuse the signature; use the key the certificate was made from, or upload the certificate of this key",
                            display_name(path),
                            display_name(cert_path),
                            fingerprints.join(", ")
                        ),
                    ));
                }
            }
            request
                .signed_redirect_url(relay_state, &key, &AwsLcRs)
                .map_err(|e| failure("signing_failed", e.to_string()))?
        }
    };
    if json {
        return Ok(Output::success(output::json_bytes(&AuthnRequestJson {
            request_id: request.id(),
            redirect_url: &url,
        })));
    }
    Ok(Output::success(
        format!("request ID: {}\nredirect the browser to:\n{url}\n", request.id()).into_bytes(),
    ))
}

fn sp_metadata(a: &SpMetadataArgs) -> Result<Output, CommandError> {
    let sp = service_provider(&a.sp)?;
    let mut md = SpMetadata::new(&sp).name_id_format(fedkit_saml::sp_metadata::NAME_ID_EMAIL);
    if let Some(slo) = &a.slo_url {
        md = md.single_logout(slo);
    }
    if let Some(cert) = &a.cert {
        let name = display_name(cert);
        let text = read_pem(cert)?;
        md = md
            .signing_certificates(&text)
            .map_err(|e| CommandError::Failure(Failure::from_error(&name, e)))?;
    }
    if let Some(cert) = &a.encryption_cert {
        let name = display_name(cert);
        let text = read_pem(cert)?;
        md = md
            .encryption_certificates(&text)
            .map_err(|e| CommandError::Failure(Failure::from_error(&name, e)))?;
    }
    Ok(Output::success(md.to_xml().into_bytes()))
}
