//! `fedkit scim patch` (in progress).

use clap::Args;

use crate::output::{CommandError, Failure, Output};

/// (in progress)
#[derive(Debug, Args)]
pub(crate) struct PatchArgs {}

pub(crate) fn run(_args: &PatchArgs, _json: bool) -> Result<Output, CommandError> {
    Err(CommandError::Failure(Failure::new(
        "not_implemented",
        "this command is not implemented yet",
    )))
}
