//! From method + path to an operation.

use fedkit_scim::discovery::{
    resource_type_document, resource_types_document, schema_document, schemas_document,
};
use fedkit_scim::error::{ScimError, ScimType};
use fedkit_scim::list::SearchRequest;
use fedkit_scim::projection::Projection;

use super::ops::{Ops, Preconditions};
use super::{json_response, RequestContext, ScimRequest, ScimResponse, ScimService, SCIM_CONTENT_TYPE};
use crate::store::ResourceKind;

/// Percent-decodes `text` (the `percent-encoding` crate; an invalid escape stays as it is);
/// with `plus_is_space`, `+` means a space (query strings). `None` when the result is not UTF-8.
pub(crate) fn percent_decode(text: &str, plus_is_space: bool) -> Option<String> {
    let spaced;
    let text = if plus_is_space {
        spaced = text.replace('+', " ");
        spaced.as_str()
    } else {
        text
    };
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// The decoded `(name, value)` pairs of a query string.
pub(crate) fn query_pairs(query: &str) -> Result<Vec<(String, String)>, ScimError> {
    let mut out = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = part.split_once('=').unwrap_or((part, ""));
        let bad = || {
            ScimError::bad_request(
                ScimType::InvalidValue,
                format!("the query parameter {name:?} is not valid percent-encoded UTF-8"),
            )
        };
        out.push((
            percent_decode(name, true).ok_or_else(bad)?,
            percent_decode(value, true).ok_or_else(bad)?,
        ));
    }
    Ok(out)
}

/// The `attributes` / `excludedAttributes` of a query (for POST/PUT/PATCH/GET-by-id).
fn projection_of(pairs: &[(String, String)]) -> Result<Projection, ScimError> {
    let search = SearchRequest::from_query(pairs.iter().filter_map(|(n, v)| {
        (n.eq_ignore_ascii_case("attributes") || n.eq_ignore_ascii_case("excludedAttributes"))
            .then_some((n.as_str(), v.as_str()))
    }))?;
    Ok(search.projection)
}

fn method_not_allowed(method: &str, path: &str, allowed: &str) -> ScimError {
    ScimError::new(
        405,
        None,
        format!("{method} is not supported on {path}; this endpoint accepts {allowed}"),
    )
}

pub(crate) fn kind_of(segment: &str) -> Option<ResourceKind> {
    if segment.eq_ignore_ascii_case("Users") {
        Some(ResourceKind::User)
    } else if segment.eq_ignore_ascii_case("Groups") {
        Some(ResourceKind::Group)
    } else {
        None
    }
}

/// The media type of a `Content-Type` or `Accept` element, lowercased, and its parameters.
fn media_type(text: &str) -> (String, Vec<(String, String)>) {
    let mut parts = text.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let params = parts
        .filter_map(|p| {
            let (n, v) = p.split_once('=')?;
            Some((
                n.trim().to_ascii_lowercase(),
                v.trim().trim_matches('"').to_owned(),
            ))
        })
        .collect();
    (essence, params)
}

/// The media types a SCIM body is sent and answered in (RFC 7644 §3.1, §3.8).
const JSON_TYPES: [&str; 2] = [SCIM_CONTENT_TYPE, "application/json"];

/// RFC 7644 §3.8 / RFC 9110 §8.3: a request body (POST, PUT, PATCH) must be
/// `application/scim+json` or `application/json`, in UTF-8 (RFC 8259 §8.1); parameters are
/// allowed. A request without `Content-Type` is read as JSON: some provisioning clients and
/// scripts omit it, and the body is parsed and validated as JSON either way.
fn check_content_type(method: &str, request: &ScimRequest<'_>) -> Result<(), ScimError> {
    if !matches!(method, "POST" | "PUT" | "PATCH") {
        return Ok(());
    }
    let Some(header) = request.header("Content-Type").filter(|h| !h.trim().is_empty()) else {
        return Ok(());
    };
    let (essence, params) = media_type(header);
    let charset = params
        .iter()
        .find(|(n, _)| n == "charset")
        .map(|(_, v)| v.as_str());
    let utf8 = charset.is_none_or(|c| c.eq_ignore_ascii_case("utf-8") || c.eq_ignore_ascii_case("utf8"));
    if JSON_TYPES.contains(&essence.as_str()) && utf8 {
        return Ok(());
    }
    Err(ScimError::new(
        415,
        None,
        format!(
            "the request body is sent as {header:?}; this service reads SCIM requests as              application/scim+json (or application/json) in UTF-8: set Content-Type: application/scim+json"
        ),
    ))
}

/// RFC 9110 §12.5.1: the answer is `application/scim+json` (RFC 7644 §3.8), so an `Accept`
/// header must allow it or `application/json` with a non-zero quality: `*/*`, `application/*`
/// or one of the two. The most specific range naming a type decides its quality. No
/// `Accept` accepts anything.
fn check_accept(request: &ScimRequest<'_>) -> Result<(), ScimError> {
    let Some(header) = request.header("Accept").filter(|h| !h.trim().is_empty()) else {
        return Ok(());
    };
    let ranges: Vec<(String, f32)> = header
        .split(',')
        .filter(|r| !r.trim().is_empty())
        .map(|r| {
            let (essence, params) = media_type(r);
            let q = params
                .iter()
                .find(|(n, _)| n == "q")
                .and_then(|(_, v)| v.parse::<f32>().ok())
                .unwrap_or(1.0);
            (essence, q)
        })
        .collect();
    let quality = |target: &str| -> f32 {
        let specificity = |range: &str| -> Option<u8> {
            if range == target {
                Some(3)
            } else if range == "application/*" {
                Some(2)
            } else if range == "*/*" || range == "*" {
                Some(1)
            } else {
                None
            }
        };
        ranges
            .iter()
            .filter_map(|(r, q)| specificity(r).map(|s| (s, *q)))
            .max_by_key(|(s, _)| *s)
            .map_or(0.0, |(_, q)| q)
    };
    if JSON_TYPES.iter().any(|t| quality(t) > 0.0) {
        return Ok(());
    }
    Err(ScimError::new(
        406,
        None,
        format!(
            "the request accepts only {header:?}; SCIM responses are application/scim+json:              send Accept: application/scim+json (or application/json, or omit Accept)"
        ),
    ))
}

pub(super) fn dispatch(
    service: &ScimService,
    ctx: &RequestContext<'_>,
    request: &ScimRequest<'_>,
) -> Result<ScimResponse, ScimError> {
    let method = request.method.to_ascii_uppercase();
    check_accept(request)?;
    check_content_type(&method, request)?;
    let raw_path = request.path.split(['?', '#']).next().unwrap_or("");
    let segments: Vec<String> = raw_path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_decode(s, false).ok_or_else(|| {
                ScimError::not_found(format!(
                    "the path {raw_path:?} is not valid percent-encoded UTF-8"
                ))
            })
        })
        .collect::<Result<_, _>>()?;
    let is_bulk = segments.len() == 1 && segments.first().is_some_and(|s| s.eq_ignore_ascii_case("Bulk"));
    let max_body = if is_bulk {
        service.config.bulk_limits().max_payload_size()
    } else {
        service.config.max_body_bytes()
    };
    if request.body.len() > max_body {
        return Err(ScimError::new(
            413,
            None,
            format!(
                "the request body is {} bytes; this service accepts at most {max_body} bytes",
                request.body.len()
            ),
        ));
    }
    let pairs = query_pairs(request.query)?;
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let base = ctx.base_url;
    let ops = Ops::new(service, ctx);

    match segs.as_slice() {
        [] => Err(ScimError::not_found(
            "this is the SCIM base URL; resources live under /Users and /Groups",
        )),
        [first, rest @ ..] if first.eq_ignore_ascii_case("ServiceProviderConfig") => {
            if !rest.is_empty() {
                return Err(ScimError::not_found(format!("no such path: {raw_path}")));
            }
            if method != "GET" {
                return Err(method_not_allowed(&method, raw_path, "GET"));
            }
            Ok(json_response(
                200,
                &service.service_provider_config().to_json(Some(base)),
            ))
        }
        [first, rest @ ..] if first.eq_ignore_ascii_case("ResourceTypes") => {
            if method != "GET" {
                return Err(method_not_allowed(&method, raw_path, "GET"));
            }
            match rest {
                [] => Ok(json_response(
                    200,
                    &resource_types_document(&service.registry, Some(base)),
                )),
                [name] => resource_type_document(&service.registry, name, Some(base))
                    .map(|d| json_response(200, &d))
                    .ok_or_else(|| {
                        ScimError::not_found(format!("no resource type {name:?}; try User or Group"))
                    }),
                _ => Err(ScimError::not_found(format!("no such path: {raw_path}"))),
            }
        }
        [first, rest @ ..] if first.eq_ignore_ascii_case("Schemas") => {
            if method != "GET" {
                return Err(method_not_allowed(&method, raw_path, "GET"));
            }
            // A schema URN contains no '/', so it is exactly one segment.
            match rest {
                [] => Ok(json_response(
                    200,
                    &schemas_document(&service.registry, Some(base)),
                )),
                [urn] => schema_document(&service.registry, urn, Some(base))
                    .map(|d| json_response(200, &d))
                    .ok_or_else(|| ScimError::not_found(format!("no schema {urn:?} on this service"))),
                _ => Err(ScimError::not_found(format!("no such path: {raw_path}"))),
            }
        }
        [first] if first.eq_ignore_ascii_case("Bulk") => {
            if method != "POST" {
                return Err(method_not_allowed(&method, raw_path, "POST"));
            }
            if !service.config.bulk_enabled() {
                return Err(ScimError::new(
                    501,
                    None,
                    "bulk operations are not enabled on this service",
                ));
            }
            ops.bulk(request.body)
        }
        [first] if *first == ".search" => {
            if method != "POST" {
                return Err(method_not_allowed(&method, raw_path, "POST"));
            }
            let search = ops.parse_search_body(request.body)?;
            ops.search(&ResourceKind::ALL, &search)
        }
        [first, rest @ ..] if first.eq_ignore_ascii_case("Me") => {
            let Some(resolver) = &service.config.me() else {
                return Err(ScimError::new(
                    501,
                    None,
                    "/Me is not implemented by this service (RFC 7644 §3.11 makes it optional)",
                ));
            };
            if !rest.is_empty() {
                return Err(ScimError::not_found(format!("no such path: {raw_path}")));
            }
            let id = resolver(ctx, request).ok_or_else(|| {
                ScimError::not_found("the authenticated client is not a user of this service")
            })?;
            by_id(&ops, &method, raw_path, ResourceKind::User, &id, request, &pairs)
        }
        [first, rest @ ..] => {
            let Some(kind) = kind_of(first) else {
                return Err(ScimError::not_found(format!(
                    "no endpoint {first:?}; this service offers /Users, /Groups, /Bulk, /.search, \
                     /ServiceProviderConfig, /ResourceTypes and /Schemas"
                )));
            };
            match rest {
                [] => match method.as_str() {
                    "GET" => {
                        let search = SearchRequest::from_query_with_limits(
                            pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())),
                            service.config.filter_limits(),
                        )?;
                        ops.search(&[kind], &search)
                    }
                    "POST" => ops.create(kind, request.body, &projection_of(&pairs)?),
                    _ => Err(method_not_allowed(&method, raw_path, "GET and POST")),
                },
                [id] if *id == ".search" => {
                    if method != "POST" {
                        return Err(method_not_allowed(&method, raw_path, "POST"));
                    }
                    let search = ops.parse_search_body(request.body)?;
                    ops.search(&[kind], &search)
                }
                [id] => by_id(&ops, &method, raw_path, kind, id, request, &pairs),
                _ => Err(ScimError::not_found(format!("no such path: {raw_path}"))),
            }
        }
    }
}

fn by_id(
    ops: &Ops<'_>,
    method: &str,
    raw_path: &str,
    kind: ResourceKind,
    id: &str,
    request: &ScimRequest<'_>,
    pairs: &[(String, String)],
) -> Result<ScimResponse, ScimError> {
    let pre = Preconditions {
        if_match: request.header("If-Match"),
        if_none_match: request.header("If-None-Match"),
    };
    let projection = projection_of(pairs)?;
    match method {
        "GET" => ops.get(kind, id, &pre, &projection),
        "PUT" => ops.replace(kind, id, request.body, &pre, &projection),
        "PATCH" => ops.patch(kind, id, request.body, &pre, &projection),
        "DELETE" => ops.delete(kind, id, &pre),
        _ => Err(method_not_allowed(method, raw_path, "GET, PUT, PATCH and DELETE")),
    }
}

/// The ETag value without a weak prefix, for weak comparison (RFC 9110 §8.8.3.2).
pub(crate) fn opaque_tag(tag: &str) -> &str {
    let t = tag.trim();
    t.strip_prefix("W/").unwrap_or(t)
}

/// Whether an `If-Match` / `If-None-Match` header value lists `current` (or is `*`).
pub(crate) fn tag_list_matches(header: &str, current: &str) -> bool {
    header
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || opaque_tag(t) == opaque_tag(current))
}
