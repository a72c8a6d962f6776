//! `fedkit scim`: SCIM 2.0 tools. Failures print SCIM's own Error document (RFC 7644 §3.12).

mod filter;
mod patch;
mod serve;

use clap::{Args, Subcommand};

use crate::output::{CommandError, Output};

/// SCIM 2.0 tools: evaluate filters, apply PATCH requests to resources, serve SCIM over HTTP.
#[derive(Debug, Args)]
pub(crate) struct ScimArgs {
    #[command(subcommand)]
    command: ScimCommand,
}

#[derive(Debug, Subcommand)]
enum ScimCommand {
    /// Print the ids of the resources a filter matches.
    Filter(filter::FilterArgs),
    /// Apply a PATCH request to a resource and print the result.
    Patch(patch::PatchArgs),
    /// Serve SCIM 2.0 over HTTP (Users, Groups, discovery) for an identity provider.
    Serve(serve::ServeArgs),
}

pub(crate) fn run(args: &ScimArgs, json: bool) -> Result<Output, CommandError> {
    match &args.command {
        ScimCommand::Filter(a) => filter::run(a, json),
        ScimCommand::Patch(a) => patch::run(a, json),
        ScimCommand::Serve(a) => serve::run(a, json),
    }
}
