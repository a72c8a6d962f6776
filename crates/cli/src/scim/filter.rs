//! `fedkit scim filter`: evaluate a SCIM filter over a JSON array of resources.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use fedkit_scim::error::{ScimError, ScimType};
use fedkit_scim::filter::{EvalContext, Filter};
use fedkit_scim::schema::SchemaRegistry;
use serde_json::Value;

use crate::output::{CommandError, Failure, Output, IO_ERROR};

/// Print the ids of the resources a SCIM filter matches.
///
/// Evaluates the filter the way a SCIM service does (RFC 7644 §3.4.2.2, with the core User,
/// Enterprise User and Group schemas): attribute names case-insensitive, strings compared
/// case-insensitively unless the attribute is caseExact, dates chronologically, multi-valued
/// attributes matching when any value matches. Prints the JSON array of the `id`s of the
/// matching resources, in input order. On failure prints the SCIM Error document (RFC 7644
/// §3.12) on stdout, e.g. `"scimType": "invalidFilter"`, and exits 1.
#[derive(Debug, Args)]
#[command(after_long_help = FILTER_HELP)]
pub(crate) struct FilterArgs {
    /// The filter, e.g. 'userName eq "bjensen@example.com"' (quote it for the shell).
    #[arg(long, value_name = "EXPR")]
    filter: String,

    /// The resource type the resources are.
    #[arg(long, value_enum, default_value_t = SchemaChoice::User)]
    schema: SchemaChoice,

    /// A JSON array of SCIM resources, each with an "id".
    #[arg(value_name = "RESOURCES.json")]
    resources: PathBuf,
}

const FILTER_HELP: &str = "\
Examples:
  fedkit scim filter --filter 'userName eq \"bjensen@example.com\"' users.json
  fedkit scim filter --filter 'emails[type eq \"work\" and value ew \"@example.com\"]' users.json
  fedkit scim filter --schema group --filter 'displayName sw \"Tour\"' groups.json

Output: the JSON array of the ids of the matching resources, e.g. [\"2819c223\"].
Exit status: 0 success (also when nothing matches); 1 with the SCIM Error document on stdout
when the filter is invalid (scimType invalidFilter) or the file cannot be read or parsed.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SchemaChoice {
    /// urn:ietf:params:scim:schemas:core:2.0:User (with the Enterprise User extension).
    User,
    /// urn:ietf:params:scim:schemas:core:2.0:Group.
    Group,
}

impl SchemaChoice {
    fn resource_type(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Group => "Group",
        }
    }
}

/// A failure reported as a SCIM Error document on stdout, with a stable code for stderr.
fn scim_failure(code: &'static str, error: &ScimError) -> Output {
    let mut stdout = serde_json::to_vec_pretty(&error.to_json()).unwrap_or_default();
    stdout.push(b'\n');
    Output {
        stdout,
        failure: Some(Failure::new(code, error.detail.clone())),
    }
}

pub(crate) fn run(args: &FilterArgs, _json: bool) -> Result<Output, CommandError> {
    let file = args.resources.display().to_string();
    let filter = match Filter::parse(&args.filter) {
        Ok(f) => f,
        Err(e) => return Ok(scim_failure("invalid_filter", &ScimError::from(e))),
    };
    let registry = SchemaRegistry::core();
    let ctx = EvalContext::new(&registry, args.schema.resource_type());
    let compiled = match filter.compile(&ctx) {
        Ok(c) => c,
        Err(e) => return Ok(scim_failure("invalid_filter", &ScimError::from(e))),
    };
    let bytes = match std::fs::read(&args.resources) {
        Ok(b) => b,
        Err(e) => {
            let err = ScimError::new(400, None, format!("{file}: cannot read the file: {e}"));
            return Ok(scim_failure(IO_ERROR, &err));
        }
    };
    let resources: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            let err = ScimError::bad_request(
                ScimType::InvalidSyntax,
                format!(
                    "{file}: not valid JSON (line {}, column {}): {e}",
                    e.line(),
                    e.column()
                ),
            );
            return Ok(scim_failure("invalid_json", &err));
        }
    };
    let Value::Array(items) = resources else {
        let err = ScimError::bad_request(
            ScimType::InvalidSyntax,
            format!("{file}: expected a JSON array of resources, e.g. [{{\"id\": \"1\", \"userName\": \"bjensen\"}}]"),
        );
        return Ok(scim_failure("invalid_json", &err));
    };
    let mut ids = Vec::new();
    for (i, resource) in items.iter().enumerate() {
        if !resource.is_object() {
            let err = ScimError::bad_request(
                ScimType::InvalidSyntax,
                format!("{file}: element {i} of the array is not a JSON object (a SCIM resource)"),
            );
            return Ok(scim_failure("invalid_json", &err));
        }
        if !compiled.matches(resource) {
            continue;
        }
        match resource.get("id") {
            Some(Value::String(id)) => ids.push(Value::String(id.clone())),
            _ => {
                let err = ScimError::bad_request(
                    ScimType::InvalidValue,
                    format!("{file}: resource {i} matches but has no string \"id\" to print"),
                );
                return Ok(scim_failure("missing_id", &err));
            }
        }
    }
    let mut stdout = serde_json::to_vec(&Value::Array(ids)).unwrap_or_default();
    stdout.push(b'\n');
    Ok(Output::success(stdout))
}
