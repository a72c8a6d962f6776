//! From method + path to an operation.

use fedkit_scim::discovery::{
    resource_type_document, resource_types_document, schema_document, schemas_document,
};
use fedkit_scim::error::{ScimError, ScimType};
use fedkit_scim::list::SearchRequest;
use fedkit_scim::projection::Projection;

use super::ops::{Ops, Preconditions};
use super::{json_response, Request, RequestContext, Response, ScimService};
use crate::store::ResourceKind;

/// Percent-decodes `text`; with `plus_is_space`, `+` means a space (query strings).
/// `None` when the result is not UTF-8.
pub(crate) fn percent_decode(text: &str, plus_is_space: bool) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' if plus_is_space => out.push(b' '),
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
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

pub(super) fn dispatch(
    service: &ScimService,
    ctx: &RequestContext<'_>,
    request: &Request<'_>,
) -> Result<Response, ScimError> {
    let method = request.method.to_ascii_uppercase();
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
        service.config.bulk.max_payload_size
    } else {
        service.config.max_body_bytes
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
            if !service.config.bulk_enabled {
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
            let Some(resolver) = &service.config.me else {
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
                            &service.config.filter,
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
    request: &Request<'_>,
    pairs: &[(String, String)],
) -> Result<Response, ScimError> {
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
