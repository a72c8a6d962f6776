//! `fedkit metadata inspect`: what an IdP's metadata says, as an admin compares it with the
//! IdP console, or as JSON.

use std::path::PathBuf;

use chrono::{DateTime, SecondsFormat, Utc};
use clap::{Args, Subcommand};
use fedkit_metadata::{
    Certificate, Endpoint, IdpMetadata, ImportSettings, Limits, Metadata, SignaturePolicy,
};
use fedkit_xmldsig::crypto::AwsLcRs;
use serde::Serialize;

use crate::dsig::{display_name, load_keys, read_input};
use crate::output::{json_bytes, CommandError, Failure, Output};

/// SAML 2.0 metadata tools.
#[derive(Debug, Args)]
pub(crate) struct MetadataArgs {
    #[command(subcommand)]
    command: MetadataCommand,
}

#[derive(Debug, Subcommand)]
enum MetadataCommand {
    Inspect(InspectArgs),
}

/// Show the IdP a metadata file describes (a single EntityDescriptor, or one entity of an
/// aggregate): entity ID, SSO/SLO endpoints, certificates to pin, NameID formats.
#[derive(Debug, Args)]
#[command(after_long_help = INSPECT_HELP)]
struct InspectArgs {
    /// The IdP to show, by entity ID (required when the file describes several IdPs).
    #[arg(long, value_name = "ID")]
    entity_id: Option<String>,
    /// Require the metadata to be signed by this certificate (PEM; repeatable): a
    /// federation's or MDQ service's signing certificate.
    #[arg(long = "verify-cert", value_name = "PEM")]
    verify_certs: Vec<PathBuf>,
    /// DANGEROUS: with --verify-cert, accept an RSA metadata signing key down to BITS bits
    /// instead of 2048 (at least 1024).
    #[arg(long, value_name = "BITS", requires = "verify_certs", value_parser = crate::dsig::rsa_bits_parser())]
    dangerous_min_rsa_bits: Option<usize>,
    /// Check validUntil and certificate expiry as of this instant (RFC 3339) instead of now.
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// Accept http:// endpoint URLs (a local test IdP only).
    #[arg(long)]
    allow_http: bool,
    /// The metadata XML file, `-` for stdin.
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

const INSPECT_HELP: &str = "\
Examples:
  fedkit metadata inspect JumpCloud-metadata.xml
  fedkit --json metadata inspect --verify-cert federation-signer.pem \\
      --entity-id https://idp.example.edu/idp/shibboleth aggregate.xml

Without --verify-cert the signature is not checked (\"signature\": \"absent\" or
\"not_checked\"); trust then rests on where the file came from. With it, a missing or invalid
signature is an error.

JSON (--json): {\"entities_total\", \"signature\": \"verified\"|\"absent\"|\"not_checked\",
\"valid_until\" (the entity's effective validUntil, or null), \"entity\": {\"entity_id\",
\"sso\": [{\"binding\", \"location\"}], \"slo\": [...], \"signing_certs\": [{\"sha256\",
\"subject\", \"not_after\"}], \"encryption_certs\": [...], \"name_id_formats\",
\"want_authn_requests_signed\", \"warnings\"}}.

Exit status: 0 success; 1 the signature is absent or invalid while --verify-cert is given,
validUntil has passed, the entity is not found or not an IdP, the input is malformed, or a
file cannot be read ({\"error\": {\"code\", \"message\"}} with --json); 2 usage error.";

pub(crate) fn run(args: &MetadataArgs, json: bool) -> Result<Output, CommandError> {
    match &args.command {
        MetadataCommand::Inspect(a) => inspect(a, json),
    }
}

fn now(a: &InspectArgs) -> Result<DateTime<Utc>, CommandError> {
    match &a.now {
        None => Ok(Utc::now()),
        Some(t) => DateTime::parse_from_rfc3339(t)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| CommandError::Usage {
                command: &["metadata", "inspect"],
                message: format!("--now {t:?} is not an RFC 3339 time: {e}"),
            }),
    }
}

fn failure(name: &str, e: &fedkit_metadata::Error) -> CommandError {
    CommandError::Failure(Failure::new(e.code(), format!("{name}: {e}")))
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

#[derive(Serialize)]
struct EndpointJson<'a> {
    binding: &'a str,
    location: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_location: Option<&'a str>,
}

impl<'a> From<&'a Endpoint> for EndpointJson<'a> {
    fn from(e: &'a Endpoint) -> Self {
        Self {
            binding: e.binding.uri(),
            location: &e.location,
            response_location: e.response_location.as_deref(),
        }
    }
}

#[derive(Serialize)]
struct CertJson<'a> {
    sha256: String,
    subject: &'a str,
    not_after: String,
}

impl<'a> From<&'a Certificate> for CertJson<'a> {
    fn from(c: &'a Certificate) -> Self {
        Self {
            sha256: c.sha256.to_string(),
            subject: &c.subject,
            not_after: time(c.not_after),
        }
    }
}

#[derive(Serialize)]
struct EntityJson<'a> {
    entity_id: &'a str,
    sso: Vec<EndpointJson<'a>>,
    slo: Vec<EndpointJson<'a>>,
    signing_certs: Vec<CertJson<'a>>,
    encryption_certs: Vec<CertJson<'a>>,
    name_id_formats: &'a [String],
    want_authn_requests_signed: bool,
    warnings: Vec<String>,
}

#[derive(Serialize)]
struct InspectJson<'a> {
    entities_total: usize,
    signature: &'static str,
    valid_until: Option<String>,
    entity: EntityJson<'a>,
}

fn inspect(a: &InspectArgs, json: bool) -> Result<Output, CommandError> {
    let now = now(a)?;
    let name = display_name(&a.file);
    let policy = if a.verify_certs.is_empty() {
        SignaturePolicy::NotRequired
    } else {
        SignaturePolicy::Required(load_keys(&a.verify_certs)?)
    };
    // A file on the admin's own disk: aggregates are allowed in size.
    let mut options = ImportSettings::new(policy)
        .with_limits(Limits::aggregate())
        .with_provider(&AwsLcRs);
    if a.allow_http {
        options = options.dangerous_allow_http_endpoints();
    }
    if let Some(bits) = a.dangerous_min_rsa_bits {
        options =
            options.with_algorithms(fedkit_xmldsig::AlgorithmPolicy::default().dangerous_min_rsa_bits(bits));
    }
    let bytes = read_input(&a.file)?;
    let metadata = Metadata::parse(&bytes, &options, now).map_err(|e| failure(&name, &e))?;
    drop(bytes);
    let idp = match &a.entity_id {
        Some(id) => metadata.idp(id, now),
        None => metadata.only_idp(now),
    }
    .map_err(|e| failure(&name, &e))?;
    if json {
        let value = InspectJson {
            entities_total: metadata.entities_total(),
            signature: metadata.signature().as_str(),
            valid_until: idp.valid_until().map(time),
            entity: EntityJson {
                entity_id: idp.entity_id(),
                sso: idp.sso().iter().map(EndpointJson::from).collect(),
                slo: idp.slo().iter().map(EndpointJson::from).collect(),
                signing_certs: idp.signing_certificates().map(CertJson::from).collect(),
                encryption_certs: idp.encryption_certificates().map(CertJson::from).collect(),
                name_id_formats: idp.name_id_formats(),
                want_authn_requests_signed: idp.want_authn_requests_signed(),
                warnings: idp.warnings().iter().map(ToString::to_string).collect(),
            },
        };
        return Ok(Output::success(json_bytes(&value)));
    }
    Ok(Output::success(human(&name, &metadata, &idp, now).into_bytes()))
}

fn human(name: &str, metadata: &Metadata, idp: &IdpMetadata, now: DateTime<Utc>) -> String {
    use core::fmt::Write as _;
    let mut out = String::new();
    let signature = match metadata.signature() {
        fedkit_metadata::SignatureStatus::Verified { key, algorithm } => {
            format!("verified ({}, by the pinned certificate {key})", algorithm.name())
        }
        fedkit_metadata::SignatureStatus::NotChecked => {
            "present, NOT checked (pass --verify-cert to verify it)".to_owned()
        }
        _ => "absent".to_owned(),
    };
    let _ = writeln!(
        out,
        "{name}: {} entit{} ({} IdP{}), signature {signature}",
        metadata.entities_total(),
        if metadata.entities_total() == 1 {
            "y"
        } else {
            "ies"
        },
        metadata.idps_total(),
        if metadata.idps_total() == 1 { "" } else { "s" }
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "IdP entity ID:        {}", idp.entity_id());
    if let Some(display) = idp.display_name() {
        let _ = writeln!(out, "Name:                 {display}");
    }
    let endpoints = |out: &mut String, label: &str, list: &[Endpoint]| {
        if list.is_empty() {
            let _ = writeln!(out, "{label:<22}(none)");
        }
        for (i, e) in list.iter().enumerate() {
            let label = if i == 0 { label } else { "" };
            let _ = writeln!(out, "{label:<22}{:<16} {}", e.binding.short_name(), e.location);
        }
    };
    endpoints(&mut out, "SSO URL (IdP URL):", idp.sso());
    endpoints(&mut out, "SLO URL:", idp.slo());
    let formats = if idp.name_id_formats().is_empty() {
        "(not stated)".to_owned()
    } else {
        idp.name_id_formats().join(", ")
    };
    let _ = writeln!(out, "NameID formats:       {formats}");
    let _ = writeln!(
        out,
        "Signed AuthnRequests: {}",
        if idp.want_authn_requests_signed() {
            "required by the IdP"
        } else {
            "not required"
        }
    );
    let certs = |out: &mut String, title: &str, list: Vec<&Certificate>| {
        let _ = writeln!(out, "{title}");
        if list.is_empty() {
            let _ = writeln!(out, "  (none)");
        }
        for c in list {
            let state = if c.not_after < now {
                "  EXPIRED"
            } else if c.not_before > now {
                "  not yet valid"
            } else {
                ""
            };
            let _ = writeln!(out, "  SHA-256 {}", c.sha256);
            let _ = writeln!(out, "    subject  {}", c.subject);
            let _ = writeln!(
                out,
                "    valid    {} to {}{state}",
                c.not_before.format("%Y-%m-%d"),
                c.not_after.format("%Y-%m-%d")
            );
        }
    };
    certs(
        &mut out,
        "Signing certificates (the keys to pin):",
        idp.signing_certificates().collect(),
    );
    let encryption: Vec<&Certificate> = idp.encryption_certificates().collect();
    if !encryption.is_empty() {
        certs(&mut out, "Encryption certificates:", encryption);
    }
    let _ = writeln!(
        out,
        "Valid until:          {}",
        idp.valid_until().map_or_else(|| "(not stated)".to_owned(), time)
    );
    if let Some(d) = idp.cache_duration() {
        let _ = writeln!(out, "Cache duration:       {d}");
    }
    if let Some(t) = idp.refresh_at(now) {
        let _ = writeln!(out, "Fetch again by:       {}", time(t));
    }
    if !idp.warnings().is_empty() {
        let _ = writeln!(out, "Warnings:");
        for w in idp.warnings() {
            let _ = writeln!(out, "  - {w}");
        }
    }
    out
}
