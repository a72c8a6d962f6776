//! `fedkit metadata`: placeholder until the metadata commands land (owned by the metadata issue).

use clap::Args;

use crate::output::{CommandError, Failure, Output};

/// Inspect SAML IdP metadata (not yet implemented).
#[derive(Debug, Args)]
pub(crate) struct MetadataArgs {}

pub(crate) fn run(_args: &MetadataArgs, _json: bool) -> Result<Output, CommandError> {
    Err(CommandError::Failure(Failure::new(
        "not_implemented",
        "this command is not implemented yet",
    )))
}
