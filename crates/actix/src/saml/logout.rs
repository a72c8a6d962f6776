//! The logout routes: the logout start (`POST logout`) and the IdP's Single Logout messages
//! (`GET` and `POST slo`).

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Duration, Utc};
use fedkit_saml::logout::{LogoutMessage, LogoutRequest, OutgoingLogout};
use fedkit_saml::request::ID_RANDOM_BYTES;
use fedkit_saml::RelayState;
use serde::Deserialize;

use super::{random, refuse, see_other, store_error, Inner};
use crate::error::SsoError;

/// How long an SP-initiated LogoutRequest waits for the IdP's LogoutResponse.
const LOGOUT_LIFETIME_MINUTES: i64 = 10;

/// `POST logout`: ends the host's session, then asks the IdP to end its session.
pub(super) async fn logout(inner: web::Data<Inner>, request: HttpRequest) -> HttpResponse {
    if let Some(e) = inner.split_error() {
        return refuse(&inner, &request, &e);
    }
    let mut response = HttpResponse::SeeOther();
    let ended = inner.host.logout(&request, &mut response);
    let (Some(slo), Some(who)) = (&inner.logout, ended) else {
        return response
            .insert_header((header::LOCATION, inner.after_logout.as_str()))
            .finish();
    };
    let Some(session_index) = who.session_index.as_deref() else {
        // A LogoutRequest must name the session (Profiles §4.4.4.1); with none to name, only
        // the local session ends.
        log::warn!(
            "fedkit: no LogoutRequest sent to the IdP: the assertion of this session carried no \
             SessionIndex to name (SAML Profiles 4.4.4.1); only the local session ended"
        );
        return response
            .insert_header((header::LOCATION, inner.after_logout.as_str()))
            .finish();
    };
    let now = Utc::now();
    let outgoing = match random::<ID_RANDOM_BYTES>() {
        Ok(r) => OutgoingLogout::request(&slo.sp, &slo.idp_slo_url, &who.name_id, session_index, r, now),
        Err(e) => return refuse(&inner, &request, &e),
    };
    let id = outgoing.id().to_owned();
    let state = Arc::clone(&inner);
    let remembered = web::block(move || {
        state
            .requests
            .remember(&id, now + Duration::minutes(LOGOUT_LIFETIME_MINUTES), now)
            .map_err(store_error)
    })
    .await
    .unwrap_or_else(|e| {
        Err(SsoError::Blocking {
            detail: e.to_string(),
        })
    });
    if let Err(e) = remembered {
        // The local session is over; only the IdP's remains.
        log::warn!(
            "fedkit: the LogoutRequest was not sent to the IdP [{}]: {e}",
            e.code()
        );
        return response
            .insert_header((header::LOCATION, inner.after_logout.as_str()))
            .finish();
    }
    // The RelayState names the request the LogoutResponse answers (a message ID, 41 bytes,
    // always fits in one).
    let relay_state = RelayState::new(outgoing.id()).ok();
    let url = match &slo.signing {
        Some((key, provider)) => outgoing.signed_redirect_url(relay_state, key, *provider),
        None => Ok(outgoing.redirect_url(relay_state)),
    };
    match url {
        Ok(url) => response.insert_header((header::LOCATION, url)).finish(),
        Err(e) => refuse(&inner, &request, &SsoError::from(e)),
    }
}

/// A Single Logout message as it arrived.
enum SloMessage {
    Redirect(String),
    Post(String),
}

/// `GET slo`: HTTP-Redirect binding.
pub(super) async fn slo_redirect(inner: web::Data<Inner>, request: HttpRequest) -> HttpResponse {
    let query = request.query_string().to_owned();
    let has_message = query
        .split('&')
        .any(|p| p.starts_with("SAMLRequest=") || p.starts_with("SAMLResponse="));
    if !has_message {
        return see_other(&inner.after_logout).finish();
    }
    // The signature covers the raw query; the RelayState is read decoded, as from a form.
    let relay_state = web::Query::<RelayStateQuery>::from_query(&query)
        .ok()
        .and_then(|q| q.into_inner().relay_state);
    slo(inner, request, SloMessage::Redirect(query), relay_state).await
}

#[derive(Deserialize)]
struct RelayStateQuery {
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct SloForm {
    #[serde(rename = "SAMLRequest")]
    saml_request: Option<String>,
    #[serde(rename = "SAMLResponse")]
    saml_response: Option<String>,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

/// `POST slo`: HTTP-POST binding.
pub(super) async fn slo_post(
    inner: web::Data<Inner>,
    request: HttpRequest,
    form: web::Form<SloForm>,
) -> HttpResponse {
    let form = form.into_inner();
    match form.saml_response.or(form.saml_request) {
        Some(value) => slo(inner, request, SloMessage::Post(value), form.relay_state).await,
        None => see_other(&inner.after_logout).finish(),
    }
}

/// What a verified logout message leads to.
enum SloOutcome {
    /// The IdP answered this SP's LogoutRequest.
    Answered,
    /// The IdP asked to end sessions (done): answer it.
    Request(Box<LogoutRequest>),
}

async fn slo(
    inner: web::Data<Inner>,
    request: HttpRequest,
    message: SloMessage,
    relay_state: Option<String>,
) -> HttpResponse {
    if let Some(e) = inner.split_error() {
        return refuse(&inner, &request, &e);
    }
    let Some(slo) = &inner.logout else {
        return see_other(&inner.after_logout).finish();
    };
    let state = Arc::clone(&inner);
    let relay = relay_state.clone();
    let outcome = web::block(move || {
        let Some(slo) = &state.logout else {
            return Ok(SloOutcome::Answered);
        };
        let now = Utc::now();
        // Only a RelayState naming an outstanding request of ours selects it.
        let expected = match relay {
            Some(id) if state.requests.is_outstanding(&id, now).map_err(store_error)? => Some(id),
            _ => None,
        };
        let verified = match &message {
            SloMessage::Redirect(query) => slo.validator.process_redirect(query, expected.as_deref(), now),
            SloMessage::Post(value) => slo.validator.process_post(value, expected.as_deref(), now),
        }?;
        match verified {
            LogoutMessage::Response(response) => {
                state
                    .requests
                    .consume(response.in_response_to(), now)
                    .map_err(store_error)?;
                Ok(SloOutcome::Answered)
            }
            LogoutMessage::Request(logout) => {
                state.host.idp_logout(&logout);
                Ok(SloOutcome::Request(Box::new(logout)))
            }
            // A future message kind: nothing to do.
            _ => Ok(SloOutcome::Answered),
        }
    })
    .await
    .unwrap_or_else(|e| {
        Err(SsoError::Blocking {
            detail: e.to_string(),
        })
    });
    match outcome {
        Ok(SloOutcome::Answered) => see_other(&inner.after_logout).finish(),
        Ok(SloOutcome::Request(logout)) => {
            let answer = match random::<ID_RANDOM_BYTES>() {
                Ok(r) => OutgoingLogout::response(&slo.sp, &slo.idp_slo_url, &logout, r, Utc::now()),
                Err(e) => return refuse(&inner, &request, &e),
            };
            // The IdP's RelayState goes back exactly as it came (Bindings §3.4.3).
            let relay_state = relay_state.as_deref().map(RelayState::echo);
            let url = match &slo.signing {
                Some((key, provider)) => answer.signed_redirect_url(relay_state, key, *provider),
                None => Ok(answer.redirect_url(relay_state)),
            };
            match url {
                Ok(url) => see_other(&url).finish(),
                Err(e) => refuse(&inner, &request, &SsoError::from(e)),
            }
        }
        Err(e) => refuse(&inner, &request, &e),
    }
}
