//! `fedkit scim patch`: apply a SCIM PATCH request to a resource and print the result.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use fedkit_scim::error::{ScimError, ScimType};
use fedkit_scim::patch::{apply, PatchOptions, PatchRequest};
use fedkit_scim::schema::{SchemaRegistry, GROUP_SCHEMA};
use serde_json::Value;

use crate::output::{CommandError, Failure, Output, IO_ERROR};

/// Apply a SCIM PATCH request (RFC 7644 §3.5.2) to a resource and print the patched resource.
///
/// Applies the request the way a SCIM service built on fedkit-scim does, with the core User,
/// Enterprise User and Group schemas: operations in order and atomically, values type-checked,
/// readOnly and immutable attributes protected, and the deviations real identity providers
/// send accepted (capitalized "Replace", "False" strings, Entra ID's dotted keys, member
/// removal with a value list). On failure prints the SCIM Error document (RFC 7644 §3.12) on
/// stdout, e.g. `"status": "400", "scimType": "noTarget"`, and exits 1.
#[derive(Debug, Args)]
#[command(after_long_help = PATCH_HELP)]
pub(crate) struct PatchArgs {
    /// The resource to patch: a SCIM User or Group as JSON.
    #[arg(long, value_name = "R.json")]
    resource: PathBuf,

    /// The PATCH request body: {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    /// "Operations": [...]}.
    #[arg(long, value_name = "P.json")]
    patch: PathBuf,

    /// The resource type. Default: group when the resource's "schemas" lists the core Group
    /// schema, user otherwise.
    #[arg(long, value_enum)]
    schema: Option<SchemaChoice>,

    /// Refuse every deviation from RFC 7644 (capitalized op names, "False" strings, dotted
    /// keys, remove with a value list, ...), and make removing something absent noTarget.
    #[arg(long)]
    strict: bool,

    /// When an add/replace value filter matches nothing, create the value it describes
    /// instead of answering noTarget (what Microsoft Entra ID expects for
    /// emails[type eq "work"].value).
    #[arg(long)]
    create_on_unmatched_filter: bool,
}

const PATCH_HELP: &str = "\
Examples:
  fedkit scim patch --resource user.json --patch deactivate.json
  fedkit scim patch --schema group --resource group.json --patch add-member.json
  fedkit scim patch --strict --resource user.json --patch entra.json

deactivate.json (what JumpCloud sends when a user leaves every bound group):
  {\"schemas\": [\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],
   \"Operations\": [{\"op\": \"replace\", \"path\": \"active\", \"value\": false}]}

Output: the patched resource as JSON.
Exit status: 0 success (also when the request changes nothing); 1 with the SCIM Error document
on stdout when the request is refused (status \"400\" and a scimType such as invalidPath,
noTarget, invalidValue, mutability or invalidSyntax) or a file cannot be read or parsed.";

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

    /// Group when the resource lists the core Group schema, User otherwise.
    fn infer(resource: &Value) -> Self {
        let lists_group = resource
            .as_object()
            .and_then(|o| {
                o.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("schemas"))
                    .map(|(_, v)| v)
            })
            .and_then(Value::as_array)
            .is_some_and(|s| {
                s.iter()
                    .any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(GROUP_SCHEMA)))
            });
        if lists_group {
            Self::Group
        } else {
            Self::User
        }
    }
}

/// The SCIM Error document on stdout, with a stable code for stderr.
fn scim_failure(code: &'static str, error: &ScimError) -> Output {
    let mut stdout = serde_json::to_vec_pretty(&error.to_json()).unwrap_or_default();
    stdout.push(b'\n');
    Output {
        stdout,
        failure: Some(Failure::new(code, error.detail.clone())),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, Output> {
    std::fs::read(path).map_err(|e| {
        let err = ScimError::new(
            400,
            None,
            format!("{}: cannot read the file: {e}", path.display()),
        );
        scim_failure(IO_ERROR, &err)
    })
}

pub(crate) fn run(args: &PatchArgs, _json: bool) -> Result<Output, CommandError> {
    let resource_bytes = match read(&args.resource) {
        Ok(b) => b,
        Err(out) => return Ok(out),
    };
    let patch_bytes = match read(&args.patch) {
        Ok(b) => b,
        Err(out) => return Ok(out),
    };
    let file = args.resource.display();
    let mut resource: Value = match serde_json::from_slice(&resource_bytes) {
        Ok(Value::Object(o)) => Value::Object(o),
        Ok(_) => {
            let err = ScimError::bad_request(
                ScimType::InvalidSyntax,
                format!("{file}: expected a JSON object (one SCIM resource)"),
            );
            return Ok(scim_failure("invalid_json", &err));
        }
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
    let options = if args.strict {
        PatchOptions::strict()
    } else {
        PatchOptions::default()
    }
    .with_create_on_unmatched_filter(args.create_on_unmatched_filter);
    let resource_type = args
        .schema
        .unwrap_or_else(|| SchemaChoice::infer(&resource))
        .resource_type();
    let registry = SchemaRegistry::core();
    let result = PatchRequest::from_slice(&patch_bytes, &options)
        .and_then(|request| apply(&registry, resource_type, &mut resource, &request, &options));
    if let Err(e) = result {
        return Ok(scim_failure("scim_patch_failed", &ScimError::from(e)));
    }
    let mut stdout = serde_json::to_vec_pretty(&resource).unwrap_or_default();
    stdout.push(b'\n');
    Ok(Output::success(stdout))
}
