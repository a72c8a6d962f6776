//! What the protocol tests share: one SP, the IdP's test key, a fixed clock.

pub(crate) use base64::Engine as _;
use chrono::{DateTime, TimeZone as _, Utc};
pub(crate) use fedkit_saml::bindings::percent_encode;
pub(crate) use fedkit_saml::request::AuthnRequest;
pub(crate) use fedkit_saml::{
    IdentityProvider, InMemoryReplayCache, RelayState, ResponseValidator, ServiceProvider, Settings,
};
pub(crate) use fedkit_xmldsig::SigningKey;
pub(crate) use fedkit_xmldsig::TrustedKeys;

use super::super::sp;
use super::super::users::demo_users;
use super::{Idp, ResponseIds, SignMode};

pub(crate) const SP_ID: &str = "https://sp.test/metadata";
pub(crate) const ACS: &str = "https://sp.test/acs";
pub(crate) const IDP_KEY: &str = include_str!("../../../../saml/tests/data/keys/idp.key.pem");
pub(crate) const IDP_CERT: &str = include_str!("../../../../saml/tests/data/keys/idp.crt.pem");
pub(crate) const SP_KEY: &str = include_str!("../../../../saml/tests/data/keys/sp.key.pem");
pub(crate) const SP_CERT: &str = include_str!("../../../../saml/tests/data/keys/sp.crt.pem");

pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
        .single()
        .unwrap_or_default()
}

pub(crate) fn idp(sign: SignMode, sp_cert: Option<&str>, slo: Option<&str>) -> Idp {
    let sp = sp::from_flags(SP_ID, &[ACS.to_owned()], slo, sp_cert.map(|c| ("sp.pem", c)));
    let cert = TrustedKeys::from_pem(IDP_CERT).ok();
    let der = cert
        .as_ref()
        .and_then(|k| k.keys().first())
        .and_then(|k| k.certificate_der())
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    let (Ok(sp), Ok(key)) = (sp, SigningKey::from_pem(IDP_KEY)) else {
        unreachable!("test configuration")
    };
    Idp {
        base_url: "http://127.0.0.1:7000".to_owned(),
        app: "fedkit-test".to_owned(),
        entity_id: "http://127.0.0.1:7000/saml2/fedkit-test".to_owned(),
        sp,
        users: demo_users(),
        sign,
        key,
        certificate_der: der,
    }
}

pub(crate) fn service_provider() -> ServiceProvider {
    ServiceProvider::new(SP_ID, [ACS]).unwrap_or_else(|_| unreachable!())
}

pub(crate) fn validator(idp: &Idp, allow_unsolicited: bool) -> ResponseValidator {
    let keys = TrustedKeys::from_pem(IDP_CERT).unwrap_or_else(|_| unreachable!());
    let identity = IdentityProvider::new(&idp.entity_id, keys).unwrap_or_else(|_| unreachable!());
    let settings = Settings::default().with_idp_initiated(allow_unsolicited);
    ResponseValidator::with_settings(service_provider(), identity, settings)
}

pub(crate) fn ids(n: u8) -> ResponseIds {
    ResponseIds {
        response: [n; 20],
        assertion: [n + 1; 20],
        session: [n + 2; 20],
    }
}

pub(crate) fn redirect_query(url: &str) -> &str {
    url.split_once('?').map(|(_, q)| q).unwrap_or_default()
}
