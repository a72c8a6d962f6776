//! `saas-app`: the fedkit example SaaS application. See README.md.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use std::sync::Arc;

use fedkit_example_saas_app::{Config, IdpConnection, InMemoryTxt, Provisioning};

/// An example SaaS app with SAML single sign-on and SCIM provisioning, built on fedkit.
#[derive(Parser, Debug)]
#[command(name = "saas-app", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "SAAS_LISTEN", default_value = "127.0.0.1:3000")]
    listen: String,
    /// The public base URL browsers use (SP entity ID and ACS URL derive from it).
    #[arg(long, env = "SAAS_BASE_URL", default_value = "http://localhost:3000")]
    base_url: String,
    /// Directory for the app's SQLite database (users, groups).
    #[arg(long, env = "SAAS_DATA_DIR", default_value = "saas-app-data")]
    data_dir: PathBuf,
    /// The IdP's metadata XML file (JumpCloud: "Export Metadata").
    #[arg(long, env = "SAAS_IDP_METADATA", conflicts_with_all = ["idp_entity_id", "idp_sso_url", "idp_cert"])]
    idp_metadata: Option<PathBuf>,
    /// Accept http:// endpoints in the IdP metadata (the local test IdP). Never for a real IdP.
    #[arg(long)]
    dangerous_allow_http_idp: bool,
    /// Without metadata: the IdP Entity ID.
    #[arg(long, env = "SAAS_IDP_ENTITY_ID", requires_all = ["idp_sso_url", "idp_cert"])]
    idp_entity_id: Option<String>,
    /// Without metadata: the IdP's SSO URL (JumpCloud: "IDP URL").
    #[arg(long, env = "SAAS_IDP_SSO_URL")]
    idp_sso_url: Option<String>,
    /// Without metadata: the IdP's Single Logout URL, if it has one.
    #[arg(long, env = "SAAS_IDP_SLO_URL")]
    idp_slo_url: Option<String>,
    /// Without metadata: a PEM file with the IdP signing certificate(s).
    #[arg(long, env = "SAAS_IDP_CERT")]
    idp_cert: Option<PathBuf>,
    /// Who may log in: jit (unknown users are created at first login), invite-only or scim
    /// (only users already in the store).
    #[arg(long, env = "SAAS_PROVISIONING", default_value = "invite-only")]
    provisioning: Provisioning,
    /// Accept IdP-initiated logins (the JumpCloud user portal tile).
    #[arg(long, env = "SAAS_IDP_INITIATED", default_value_t = true, action = clap::ArgAction::Set)]
    idp_initiated: bool,
    /// Only emails in this domain may log in (repeatable; none: every domain).
    #[arg(
        long = "allowed-email-domain",
        env = "SAAS_ALLOWED_EMAIL_DOMAINS",
        value_delimiter = ','
    )]
    allowed_email_domains: Vec<String>,
    /// The token that opens the admin page (/admin) to import the IdP; without it, /admin is off.
    #[arg(long, env = "SAAS_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// The bearer token SCIM clients send (JumpCloud's "Token Key"); without it, /scim/v2 is off.
    #[arg(long, env = "SAAS_SCIM_TOKEN", hide_env_values = true)]
    scim_token: Option<String>,
    /// Link an IdP login to the local account with the same email, when its domain is
    /// verified (admin page /admin/sso).
    #[arg(long, env = "SAAS_ALLOW_LINKING")]
    allow_linking: bool,
    /// Create JIT users only when their email's domain is verified on /admin/sso.
    #[arg(long, env = "SAAS_JIT_REQUIRES_VERIFIED_DOMAIN")]
    jit_requires_verified_domain: bool,
    /// A TXT record the domain check on /admin/sso finds, as NAME=VALUE (repeatable). The
    /// example resolves no DNS itself: give the record you published here, or check it for
    /// real with `fedkit domain check`.
    #[arg(long = "txt-record", value_parser = txt_record)]
    txt_records: Vec<(String, String)>,
}

fn txt_record(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .filter(|(name, _)| !name.is_empty())
        .ok_or_else(|| format!("{s:?} is not NAME=VALUE"))
}

fn idp(args: &Args) -> Result<Option<IdpConnection>, String> {
    if let Some(path) = &args.idp_metadata {
        let xml = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        return IdpConnection::from_metadata(&xml, args.dangerous_allow_http_idp).map(Some);
    }
    match (&args.idp_entity_id, &args.idp_sso_url, &args.idp_cert) {
        (Some(entity_id), Some(sso_url), Some(cert)) => Ok(Some(IdpConnection {
            entity_id: entity_id.clone(),
            sso_url: sso_url.clone(),
            slo_url: args.idp_slo_url.clone(),
            certificates_pem: std::fs::read_to_string(cert)
                .map_err(|e| format!("cannot read {}: {e}", cert.display()))?,
        })),
        (None, None, None) if args.admin_token.is_some() => Ok(None),
        _ => Err(
            "give the IdP: --idp-metadata FILE, or --idp-entity-id, --idp-sso-url and --idp-cert \
                  (or --admin-token, to import it on /admin)"
                .into(),
        ),
    }
}

async fn run(args: Args) -> Result<(), String> {
    let config = Config {
        base_url: args.base_url.trim_end_matches('/').to_owned(),
        data_dir: args.data_dir.clone(),
        idp: idp(&args)?,
        dangerous_allow_http_idp: args.dangerous_allow_http_idp,
        admin_token: args.admin_token.clone(),
        provisioning: args.provisioning,
        allow_idp_initiated: args.idp_initiated,
        allowed_email_domains: args.allowed_email_domains.clone(),
        scim_token: args.scim_token.clone(),
        allow_linking: args.allow_linking,
        jit_requires_verified_domain: args.jit_requires_verified_domain,
        txt_lookup: {
            let txt = InMemoryTxt::new();
            for (name, value) in &args.txt_records {
                txt.publish(name, value);
            }
            Arc::new(txt)
        },
    };
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    eprintln!(
        "saas-app on {} (open {}/); SP metadata {}; IdP {}; provisioning {}",
        args.listen,
        config.base_url,
        config.sp_entity_id(),
        config
            .idp
            .as_ref()
            .map_or("(none yet: /admin)", |i| i.entity_id.as_str()),
        config.provisioning
    );
    fedkit_example_saas_app::serve(listener, config).await
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("saas-app: {e}");
            ExitCode::FAILURE
        }
    }
}
