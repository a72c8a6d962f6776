//! `fedkit scim`: SCIM 2.0 tools. Failures print SCIM's own Error document (RFC 7644 §3.12).

mod filter;
mod patch;

use clap::{Args, Subcommand};

use crate::output::{CommandError, Output};

/// SCIM 2.0 tools: evaluate filters and apply PATCH requests to resources.
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
}

pub(crate) fn run(args: &ScimArgs, json: bool) -> Result<Output, CommandError> {
    match &args.command {
        ScimCommand::Filter(a) => filter::run(a, json),
        ScimCommand::Patch(a) => patch::run(a, json),
    }
}
