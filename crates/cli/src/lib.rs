//! `fedkit`: the fedkit command line.
//!
//! This crate is the `fedkit` binary. Its library target exists for one thing: the test
//! IdP's signer in process, [`idp::TestIdp`], for tests that want a signed Response without
//! starting `fedkit idp serve` (development and tests only, like the server). Everything
//! else is the binary's and is not a library API.
//!
//! Exit status: 0 success; 1 the input was judged invalid or was rejected (including files
//! that cannot be read: code `io_error`); 2 usage error. With `--json`, stdout carries exactly
//! one JSON document, `{"error": {"code", "message"}}` on failure.

mod dsig;
pub mod idp;
mod metadata;
mod output;
mod saml;
mod scim;
mod tenancy;

use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{CommandFactory as _, Parser, Subcommand};

use crate::output::{CommandError, Failure};

/// SAML and XML-DSig tools: canonicalize XML, verify XML signatures.
#[derive(Debug, Parser)]
#[command(name = "fedkit", version, propagate_version = true, after_long_help = MAIN_HELP)]
struct Cli {
    /// Print exactly one JSON document on stdout (errors included) instead of human text.
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Dsig(dsig::DsigArgs),
    Saml(saml::SamlArgs),
    Bench(saml::BenchArgs),
    Metadata(metadata::MetadataArgs),
    Scim(scim::ScimArgs),
    Idp(idp::IdpArgs),
    Domain(tenancy::DomainArgs),
    SetupGuide(tenancy::SetupGuideArgs),
}

const MAIN_HELP: &str = "\
Examples:
  fedkit dsig verify --cert examples/data/idp-cert.pem examples/data/signed-response.xml
  fedkit dsig c14n --subtree-id _assert-9b3e examples/data/signed-response.xml
  fedkit --json dsig verify --cert idp.pem response.xml
  fedkit domain challenge --domain acme.com --app myapp
  fedkit setup-guide --idp jumpcloud --base-url https://app.example.com --connection acme

Exit status: 0 success; 1 the input was judged invalid or rejected, or a file could not be
read (error code io_error); 2 usage error. Human messages go to stderr; with --json, stdout
carries one JSON document, {\"error\": {\"code\": \"...\", \"message\": \"...\"}} on failure.";

const EXIT_REJECTED: u8 = 1;
const EXIT_USAGE: u8 = 2;

/// The `fedkit` binary's `main` (not a library API: it parses the process arguments and
/// writes to stdout and stderr).
#[doc(hidden)]
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e, json_requested()),
    };
    let result = match &cli.command {
        Command::Dsig(args) => dsig::run(args, cli.json),
        Command::Saml(args) => saml::run(args, cli.json),
        Command::Bench(args) => saml::run_bench(args, cli.json),
        Command::Metadata(args) => metadata::run(args, cli.json),
        Command::Scim(args) => scim::run(args, cli.json),
        Command::Idp(args) => idp::run(args, cli.json),
        Command::Domain(args) => tenancy::run_domain(args, cli.json),
        Command::SetupGuide(args) => tenancy::run_setup_guide(args, cli.json),
    };
    match result {
        Ok(out) => {
            if !output::write_stdout(&out.stdout) {
                return ExitCode::from(EXIT_REJECTED);
            }
            match out.failure {
                None => ExitCode::SUCCESS,
                Some(failure) => {
                    // Under --json the failure is part of the document already written.
                    if !cli.json {
                        eprintln!("error: [{}] {}", failure.code, failure.message);
                    }
                    ExitCode::from(EXIT_REJECTED)
                }
            }
        }
        Err(CommandError::Failure(failure)) => {
            output::report_failure(&failure, cli.json);
            ExitCode::from(EXIT_REJECTED)
        }
        Err(CommandError::Usage { command, message }) => {
            let mut cmd = Cli::command();
            cmd.build();
            let e = command
                .iter()
                .try_fold(&mut cmd, |c, name| c.find_subcommand_mut(name))
                .map_or_else(
                    || Cli::command().error(ErrorKind::ArgumentConflict, &message),
                    |sub| sub.error(ErrorKind::ArgumentConflict, &message),
                );
            usage_error(&e, cli.json)
        }
    }
}

/// Whether `--json` was given, for errors found before the arguments are parsed.
fn json_requested() -> bool {
    std::env::args_os()
        .take_while(|a| a != "--")
        .any(|a| a == "--json")
}

/// Prints a clap error (or help/version, which clap also reports as errors) and returns its
/// exit status: 0 for help and version, 2 for usage errors.
fn usage_error(e: &clap::Error, json: bool) -> ExitCode {
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let _ = e.print();
    if json {
        // The first paragraph of clap's rendering on one line, without its "error: " prefix.
        let rendered = e.render().to_string();
        let paragraph: Vec<&str> = rendered
            .lines()
            .map(str::trim)
            .take_while(|l| !l.is_empty())
            .collect();
        let joined = paragraph.join(" ");
        let message = joined.strip_prefix("error: ").unwrap_or(&joined).to_owned();
        let failure = Failure::new(output::USAGE_ERROR, message);
        let _ = output::write_stdout(&failure.to_json_document());
    }
    ExitCode::from(EXIT_USAGE)
}
