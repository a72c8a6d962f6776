//! The login routes: the login start (`GET login`), the ACS (`POST acs`) and the SP metadata
//! (`GET metadata`).

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use fedkit_saml::flow::Outgoing;
use fedkit_saml::request::{safe_redirect, ID_RANDOM_BYTES};
use serde::Deserialize;

use super::{cookie, random, refuse, see_other, Inner};
use crate::error::SsoError;

/// The longest return path (`next`) a login keeps in the request store.
const MAX_RETURN_PATH_BYTES: usize = 2048;

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

/// `GET login?next=/path`: starts an SP-initiated login.
pub(super) async fn login(inner: web::Data<Inner>, request: HttpRequest) -> HttpResponse {
    if let Some(e) = inner.split_error() {
        return refuse(&inner, &request, &e);
    }
    let next = match web::Query::<LoginQuery>::from_query(request.query_string()) {
        Ok(q) => q.into_inner().next,
        Err(_) => {
            let error = SsoError::ReturnPath {
                found: request.query_string().to_owned(),
            };
            return refuse(&inner, &request, &error);
        }
    };
    if let Some(next) = &next {
        if next.len() > MAX_RETURN_PATH_BYTES || safe_redirect(next, &[]).is_none() {
            return refuse(&inner, &request, &SsoError::ReturnPath { found: next.clone() });
        }
    }
    let randoms = random::<ID_RANDOM_BYTES>().and_then(|r| Ok((r, random::<32>()?)));
    let started = match randoms {
        Ok((request_random, binding_random)) => {
            let state = Arc::clone(&inner);
            web::block(move || {
                state
                    .flow
                    .start(
                        next.as_deref(),
                        request_random,
                        binding_random,
                        Utc::now(),
                        &*state.requests,
                    )
                    .map_err(SsoError::from)
            })
            .await
            .unwrap_or_else(|e| {
                Err(SsoError::Blocking {
                    detail: e.to_string(),
                })
            })
        }
        Err(e) => Err(e),
    };
    let started = match started {
        Ok(s) => s,
        Err(e) => return refuse(&inner, &request, &e),
    };
    let mut response = match started.outgoing() {
        Outgoing::Redirect(url) => see_other(url),
        Outgoing::PostForm(_) => HttpResponse::Ok(),
        // A future binding: nothing to send, so say so rather than guess.
        _ => HttpResponse::NotImplemented(),
    };
    response.insert_header((header::SET_COOKIE, started.cookie().set_cookie_header()));
    response.insert_header((header::CACHE_CONTROL, "no-store"));
    match started.outgoing() {
        Outgoing::PostForm(html) => response
            .content_type("text/html; charset=utf-8")
            .body(html.clone()),
        _ => response.finish(),
    }
}

#[derive(Deserialize)]
pub(super) struct AcsForm {
    #[serde(rename = "SAMLResponse")]
    saml_response: Option<String>,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

/// `POST acs`: the IdP's Response, checked by `LoginFlow::finish` and the host.
pub(super) async fn acs(
    inner: web::Data<Inner>,
    request: HttpRequest,
    form: web::Form<AcsForm>,
) -> HttpResponse {
    if let Some(e) = inner.split_error() {
        return refuse(&inner, &request, &e);
    }
    let AcsForm {
        saml_response,
        relay_state,
    } = form.into_inner();
    let Some(saml_response) = saml_response else {
        return refuse(
            &inner,
            &request,
            &SsoError::MissingField {
                field: "SAMLResponse",
            },
        );
    };
    let cookie = cookie(&request, inner.flow.cookie_name()).map(str::to_owned);
    let state = Arc::clone(&inner);
    let finished = web::block(move || {
        let login = state.flow.finish(
            &saml_response,
            relay_state.as_deref(),
            cookie.as_deref(),
            Utc::now(),
            &*state.requests,
            &*state.replay,
        )?;
        if let Some((scim, tenant)) = &state.directory {
            scim.check_login(tenant, &login)?;
        }
        state.host.check(&login)?;
        Ok::<_, SsoError>(login)
    })
    .await
    .unwrap_or_else(|e| {
        Err(SsoError::Blocking {
            detail: e.to_string(),
        })
    });
    match finished {
        Ok(login) => {
            let target = login
                .redirect_target(&[])
                .unwrap_or(&inner.after_login)
                .to_owned();
            let mut response = see_other(&target);
            response.insert_header((header::CACHE_CONTROL, "no-store"));
            inner.host.logged_in(&request, login, &mut response);
            response.append_header((header::SET_COOKIE, inner.flow.clear_cookie_header()));
            response.finish()
        }
        Err(e) => refuse(&inner, &request, &e),
    }
}

/// `GET metadata`: the SP metadata document.
pub(super) async fn metadata(inner: web::Data<Inner>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/samlmetadata+xml")
        .body(inner.metadata_xml.clone())
}
