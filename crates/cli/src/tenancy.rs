//! `fedkit domain challenge|check` (domain ownership by DNS TXT record) and `fedkit
//! setup-guide` (the IdP-side steps for a connection), over fedkit-tenancy. The DNS lookup
//! is the only I/O, and lives here, not in the library.

use std::net::SocketAddr;

use clap::{Args, Subcommand, ValueEnum};
use fedkit_tenancy::domain::{
    describe_check, AppName, DomainChallenge, DomainName, TxtCheck, MIN_TOKEN_BYTES,
};
use fedkit_tenancy::guide::{GuideInput, IdpVendor, ScimGuide, EMAIL_FORMAT};
use serde::Serialize;

use crate::output::{json_bytes, CommandError, Failure, Output};

/// Domain ownership: the TXT record to publish, and a check of what DNS answers.
#[derive(Debug, Args)]
pub(crate) struct DomainArgs {
    #[command(subcommand)]
    command: DomainCommand,
}

#[derive(Debug, Subcommand)]
enum DomainCommand {
    /// Make a new challenge: the TXT record name and value to publish, and its token.
    #[command(after_long_help = CHALLENGE_HELP)]
    Challenge(ChallengeArgs),
    /// Resolve the TXT record of a challenge and say whether it proves the domain.
    #[command(after_long_help = CHECK_HELP)]
    Check(CheckArgs),
}

#[derive(Debug, Args)]
struct ChallengeArgs {
    /// The domain to prove (normalised: case, trailing dot, IDNA).
    #[arg(long, value_name = "DOMAIN")]
    domain: String,
    /// The application name in the record: `_<app>-verification.<domain>`.
    #[arg(long, value_name = "NAME")]
    app: String,
}

const CHALLENGE_HELP: &str = "\
Examples:
  fedkit domain challenge --domain acme.com --app craevidence
  fedkit --json domain challenge --domain acme.com --app craevidence

The token is 128 random bits from the operating system, in hex. Keep it: `fedkit domain check`
needs it. JSON (--json): {\"domain\", \"record_name\", \"record_type\": \"TXT\", \"record_value\",
\"token\"}.

Exit status: 0 success; 1 the domain or app name is refused (domain_ip_literal,
domain_single_label, domain_public_suffix, name_invalid, ...); 2 usage error.";

#[derive(Debug, Args)]
struct CheckArgs {
    /// The domain being proven.
    #[arg(long, value_name = "DOMAIN")]
    domain: String,
    /// The token `fedkit domain challenge` printed.
    #[arg(long, value_name = "TOKEN")]
    token: String,
    /// The application name the challenge used.
    #[arg(long, value_name = "NAME", default_value = "fedkit")]
    app: String,
    /// Ask this DNS server (UDP then TCP) instead of the system resolver, e.g. 1.1.1.1:53 or
    /// the domain's authoritative server (which shows a new record before caches do).
    #[arg(long, value_name = "ADDR:PORT")]
    dns_server: Option<SocketAddr>,
}

const CHECK_HELP: &str = "\
Examples:
  fedkit domain check --domain acme.com --app craevidence --token 3f9a...
  fedkit --json domain check --domain acme.com --app craevidence --token 3f9a... --dns-server 8.8.8.8:53

Prints where it looked, every TXT string found there, and why each does or does not match.
JSON (--json): {\"domain\", \"record_name\", \"expected\", \"found\": [...], \"verified\",
\"outcome\": \"verified\"|\"no_record\"|\"mismatch\", \"findings\": [{\"record\", \"mismatch\"}],
\"explanation\"}.

Exit status: 0 the record proves the domain; 1 it does not (txt_record_missing,
txt_record_mismatch), the DNS lookup failed (dns_error), or the input is refused; 2 usage error.";

/// The IdP a guide is for.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Idp {
    Jumpcloud,
    Okta,
    Entra,
    Google,
}

/// Print the step-by-step IdP-side setup for a connection, with its real values.
#[derive(Debug, Args)]
#[command(after_long_help = GUIDE_HELP)]
pub(crate) struct SetupGuideArgs {
    /// The IdP.
    #[arg(long, value_enum)]
    idp: Idp,
    /// The application's name, as users see the tile.
    #[arg(long, value_name = "NAME", default_value = "fedkit")]
    app_name: String,
    /// The site's base URL; with --connection, the SP URLs are fedkit-saml's
    /// `<base>/saml/<connection>/{metadata,acs}`.
    #[arg(long, value_name = "URL", required_unless_present_all = ["sp_entity_id", "acs_url"])]
    base_url: Option<String>,
    /// The connection ID (with --base-url).
    #[arg(long, value_name = "ID", requires = "base_url")]
    connection: Option<String>,
    /// The SP entity ID (overrides the one derived from --base-url).
    #[arg(long, value_name = "URL")]
    sp_entity_id: Option<String>,
    /// The ACS URL (overrides the one derived from --base-url).
    #[arg(long, value_name = "URL")]
    acs_url: Option<String>,
    /// The Single Logout URL, when the SP has one.
    #[arg(long, value_name = "URL")]
    slo_url: Option<String>,
    /// The NameID format URI.
    #[arg(long, value_name = "URI", default_value = EMAIL_FORMAT)]
    name_id_format: String,
    /// The SCIM base URL, to include the provisioning steps.
    #[arg(long, value_name = "URL")]
    scim_base_url: Option<String>,
    /// The IdP's token field must hold `Bearer <token>` (not the bare token).
    #[arg(long, requires = "scim_base_url")]
    scim_token_bearer_prefix: bool,
}

const GUIDE_HELP: &str = "\
Examples:
  fedkit setup-guide --idp jumpcloud --base-url https://app.example.com --connection acme \\
      --scim-base-url https://app.example.com/scim/v2
  fedkit --json setup-guide --idp okta --sp-entity-id https://sp.example/metadata --acs-url https://sp.example/acs

Prints Markdown; with --json the guide as data: {\"idp\", \"title\", \"sections\": [{\"title\",
\"steps\": [{\"text\", \"fields\": [{\"label\", \"value\"}], \"notes\": [{\"kind\", \"text\"}]}]}]}.

Exit status: 0 success; 2 usage error.";

pub(crate) fn run_domain(args: &DomainArgs, json: bool) -> Result<Output, CommandError> {
    match &args.command {
        DomainCommand::Challenge(a) => challenge(a, json),
        DomainCommand::Check(a) => check(a, json),
    }
}

fn parse_inputs(domain: &str, app: &str) -> Result<(DomainName, AppName), Failure> {
    let domain = DomainName::parse(domain).map_err(|e| Failure::new(e.code(), e.to_string()))?;
    let app = AppName::new(app).map_err(|e| Failure::new(e.code(), e.to_string()))?;
    Ok((domain, app))
}

#[derive(Serialize)]
struct ChallengeJson<'a> {
    domain: &'a str,
    record_name: &'a str,
    record_type: &'static str,
    record_value: &'a str,
    token: &'a str,
}

fn challenge(args: &ChallengeArgs, json: bool) -> Result<Output, CommandError> {
    use rand_core::RngCore as _;
    let (domain, app) = parse_inputs(&args.domain, &args.app)?;
    let mut random = [0u8; MIN_TOKEN_BYTES];
    rand_core::OsRng.fill_bytes(&mut random);
    let c = DomainChallenge::new(domain, &app, &random).map_err(|e| Failure::new(e.code(), e.to_string()))?;
    if json {
        return Ok(Output::success(json_bytes(&ChallengeJson {
            domain: c.domain.as_str(),
            record_name: &c.record_name,
            record_type: "TXT",
            record_value: &c.record_value,
            token: &c.token,
        })));
    }
    let text = format!(
        "Publish this DNS record to prove you control {domain}:\n\n  Type:  TXT\n  Name:  {name}\n  Value: {value}\n\n\
         (Some DNS consoles add the domain to the name themselves: then enter only `_{app}-verification`.)\n\
         Token: {token}\n\nThen check it: fedkit domain check --domain {domain} --app {app} --token {token}\n",
        domain = c.domain,
        name = c.record_name,
        value = c.record_value,
        app = app.as_str(),
        token = c.token,
    );
    Ok(Output::success(text.into_bytes()))
}

#[derive(Serialize)]
struct CheckJson<'a> {
    domain: &'a str,
    record_name: &'a str,
    expected: &'a str,
    found: &'a [String],
    verified: bool,
    #[serde(flatten)]
    check: &'a TxtCheck,
    explanation: String,
}

/// The TXT strings at `name` (each record's character-strings concatenated); empty when the
/// name has no TXT record.
fn resolve_txt(name: &str, server: Option<SocketAddr>) -> Result<Vec<String>, Failure> {
    use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
    use hickory_resolver::net::runtime::TokioRuntimeProvider;
    use hickory_resolver::proto::rr::RData;
    use hickory_resolver::TokioResolver;

    let dns_error = |e: &dyn std::fmt::Display| {
        Failure::new(
            "dns_error",
            format!("the TXT lookup of {name} failed: {e}; check the network, or name a reachable server with --dns-server"),
        )
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| dns_error(&e))?;
    runtime.block_on(async {
        let mut builder = match server {
            Some(addr) => {
                let connections = [ConnectionConfig::udp(), ConnectionConfig::tcp()]
                    .into_iter()
                    .map(|mut c| {
                        c.port = addr.port();
                        c
                    })
                    .collect();
                let server = NameServerConfig::new(addr.ip(), true, connections);
                TokioResolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![server]),
                    TokioRuntimeProvider::default(),
                )
            }
            None => TokioResolver::builder_tokio().map_err(|e| dns_error(&e))?,
        };
        let opts = builder.options_mut();
        opts.cache_size = 0;
        opts.attempts = 1;
        opts.timeout = std::time::Duration::from_secs(5);
        let resolver = builder.build().map_err(|e| dns_error(&e))?;
        // The absolute name: no search-domain expansion.
        match resolver.txt_lookup(format!("{name}.")).await {
            Ok(lookup) => Ok(lookup
                .answers()
                .iter()
                .filter_map(|record| match &record.data {
                    RData::TXT(txt) => Some(
                        txt.txt_data
                            .iter()
                            .map(|part| String::from_utf8_lossy(part).into_owned())
                            .collect::<String>(),
                    ),
                    _ => None,
                })
                .collect()),
            Err(e) if e.is_no_records_found() || e.is_nx_domain() => Ok(Vec::new()),
            Err(e) => Err(dns_error(&e)),
        }
    })
}

fn check(args: &CheckArgs, json: bool) -> Result<Output, CommandError> {
    let (domain, app) = parse_inputs(&args.domain, &args.app)?;
    let challenge = DomainChallenge::with_token(domain, &app, &args.token);
    let found = resolve_txt(&challenge.record_name, args.dns_server)?;
    let outcome = challenge.check(&found);
    let explanation = describe_check(&outcome, &challenge.record_name);
    let failure = match &outcome {
        TxtCheck::Verified { .. } => None,
        TxtCheck::NoRecord => Some(Failure::new("txt_record_missing", explanation.clone())),
        _ => Some(Failure::new("txt_record_mismatch", explanation.clone())),
    };
    let stdout = if json {
        json_bytes(&CheckJson {
            domain: challenge.domain.as_str(),
            record_name: &challenge.record_name,
            expected: &challenge.record_value,
            found: &found,
            verified: outcome.is_verified(),
            check: &outcome,
            explanation: explanation.clone(),
        })
    } else {
        let mut text = format!(
            "Looked up TXT {} ({}).\nExpected: {}\n",
            challenge.record_name,
            args.dns_server
                .map_or_else(|| "system resolver".to_owned(), |s| format!("server {s}")),
            challenge.record_value
        );
        if found.is_empty() {
            text.push_str("Found: no TXT record\n");
        }
        for f in &found {
            text.push_str(&format!("Found: {f:?}\n"));
        }
        if outcome.is_verified() {
            text.push_str(&format!("Verified: {explanation}\n"));
        } else {
            text.push_str(&format!("Not verified: {explanation}\n"));
        }
        text.into_bytes()
    };
    Ok(Output { stdout, failure })
}

pub(crate) fn run_setup_guide(args: &SetupGuideArgs, json: bool) -> Result<Output, CommandError> {
    let idp = match args.idp {
        Idp::Jumpcloud => IdpVendor::JumpCloud,
        Idp::Okta => IdpVendor::Okta,
        Idp::Entra => IdpVendor::Entra,
        Idp::Google => IdpVendor::Google,
    };
    let base = args.base_url.as_deref().unwrap_or_default().trim_end_matches('/');
    let connection = args.connection.as_deref().unwrap_or("default");
    let entity = args
        .sp_entity_id
        .clone()
        .unwrap_or_else(|| format!("{base}/saml/{connection}/metadata"));
    let acs = args
        .acs_url
        .clone()
        .unwrap_or_else(|| format!("{base}/saml/{connection}/acs"));
    let mut input = GuideInput::new(&args.app_name, &entity, &acs);
    input.slo_url = args.slo_url.clone();
    input.name_id_format = args.name_id_format.clone();
    input.scim = args.scim_base_url.as_ref().map(|url| ScimGuide {
        base_url: url.trim_end_matches('/').to_owned(),
        token_with_bearer_prefix: args.scim_token_bearer_prefix,
    });
    let guide = idp.guide(&input);
    Ok(Output::success(if json {
        json_bytes(&guide)
    } else {
        guide.to_markdown().into_bytes()
    }))
}
