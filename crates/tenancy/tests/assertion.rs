//! Admission from a real `VerifiedAssertion`: a JumpCloud-shaped Response signed with the
//! test IdP key of fedkit-saml's tests, validated by the connection's own validator, mapped
//! with the default `AttributeMapping`, then admitted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::convert::Infallible;

use chrono::{TimeZone, Utc};
use fedkit_saml::connection::Connection;
use fedkit_saml::{AttributeMapping, InMemoryReplayCache, VerifiedAssertion};
use fedkit_tenancy::admission::{
    admit_assertion, Account, AdmissionPolicy, Decision, Directory, LoginContext, Provisioning, ScimLookup,
    ScimState,
};
use fedkit_tenancy::domain::{AppName, DomainName, DomainRegistry, TenantId};
use fedkit_tenancy::identity::IdentityKey;
use fedkit_xmldsig::SigningKey;

const IDP: &str = "https://sso.jumpcloud.com/saml2/fedkit-test";
const BASE: &str = "https://app.example.com";
const SP: &str = "https://app.example.com/saml/acme-jc/metadata";
const ACS: &str = "https://app.example.com/saml/acme-jc/acs";
const REQUEST: &str = "_req-7f3a";
const IDP_CERT: &str = include_str!("../../saml/tests/data/keys/idp.crt.pem");
const IDP_KEY: &str = include_str!("../../saml/tests/data/keys/idp.key.pem");
const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";

fn connection() -> Connection {
    serde_json::from_value(serde_json::json!({
        "id": "acme-jc", "enabled": true,
        "idp": {"type": "explicit", "entity_id": IDP, "sso_url": IDP, "certificates": [IDP_CERT]},
        "behavior": {"email_domain_allowlist": ["example.com"]}
    }))
    .unwrap()
}

fn verified_assertion(name_id_format: &str, attributes: &str) -> VerifiedAssertion {
    let xml = format!(
        r#"<saml2p:Response xmlns:saml2p="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml2="{SAML}" ID="_resp-1" Version="2.0" IssueInstant="2026-11-22T10:00:00Z" Destination="{ACS}" InResponseTo="{REQUEST}"><saml2:Issuer>{IDP}</saml2:Issuer><saml2p:Status><saml2p:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></saml2p:Status><saml2:Assertion ID="_assert-1" Version="2.0" IssueInstant="2026-11-22T10:00:00Z"><saml2:Issuer>{IDP}</saml2:Issuer><saml2:Subject><saml2:NameID Format="{name_id_format}">jane.doe@example.com</saml2:NameID><saml2:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml2:SubjectConfirmationData InResponseTo="{REQUEST}" NotOnOrAfter="2026-11-22T10:05:00Z" Recipient="{ACS}"/></saml2:SubjectConfirmation></saml2:Subject><saml2:Conditions NotBefore="2026-11-22T09:59:00Z" NotOnOrAfter="2026-11-22T10:05:00Z"><saml2:AudienceRestriction><saml2:Audience>{SP}</saml2:Audience></saml2:AudienceRestriction></saml2:Conditions><saml2:AuthnStatement AuthnInstant="2026-11-22T09:59:58Z" SessionIndex="_s-1"><saml2:AuthnContext><saml2:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml2:AuthnContextClassRef></saml2:AuthnContext></saml2:AuthnStatement><saml2:AttributeStatement>{attributes}</saml2:AttributeStatement></saml2:Assertion></saml2p:Response>"#
    );
    let key = SigningKey::from_pem(IDP_KEY).unwrap();
    let signed = fedkit_xmldsig::sign::sign_enveloped(
        &xml,
        "_assert-1",
        Some((SAML, "Issuer")),
        &key,
        None,
        fedkit_xmldsig::crypto::default_provider(),
    )
    .unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 10, 1, 0).unwrap();
    connection()
        .validator(BASE)
        .unwrap()
        .process_xml(
            signed.as_bytes(),
            Some(REQUEST),
            now,
            &InMemoryReplayCache::new(10),
        )
        .unwrap_or_else(|e| panic!("refused: {e}"))
}

const EMAIL_FORMAT: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";

fn attrs() -> String {
    ["email:jane.doe@example.com", "firstName:Jane", "lastName:Doe"]
        .iter()
        .map(|pair| {
            let (n, v) = pair.split_once(':').unwrap();
            format!(r#"<saml2:Attribute Name="{n}"><saml2:AttributeValue>{v}</saml2:AttributeValue></saml2:Attribute>"#)
        })
        .collect()
}

struct Empty(Option<Option<String>>);

impl Directory for Empty {
    type Error = Infallible;
    fn by_identity(&self, _: &IdentityKey) -> Result<Option<Account>, Infallible> {
        Ok(None)
    }
    fn by_external_id(&self, _: &TenantId, _: &str) -> Result<Vec<Account>, Infallible> {
        Ok(vec![])
    }
    fn by_email(&self, _: &TenantId, _: &str) -> Result<Vec<Account>, Infallible> {
        Ok(vec![])
    }
    fn scim_status(&self, _: &TenantId, _: ScimLookup<'_>) -> Result<Option<ScimState>, Infallible> {
        Ok(None)
    }
    fn pinned_name_id_format(&self, _: &str) -> Result<Option<Option<String>>, Infallible> {
        Ok(self.0.clone())
    }
}

fn run(
    assertion: &VerifiedAssertion,
    mapping: &AttributeMapping,
    pinned: Option<Option<String>>,
) -> Decision {
    let tenant = TenantId::new("acme").unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0).unwrap();
    let mut domains = DomainRegistry::default();
    let c = domains
        .claim(
            &tenant,
            DomainName::parse("example.com").unwrap(),
            &AppName::new("app").unwrap(),
            &[8; 16],
            now,
        )
        .unwrap();
    domains
        .verify(&tenant, &c.domain, std::slice::from_ref(&c.record_value), now)
        .unwrap();
    let conn = connection();
    let policy = AdmissionPolicy::new(Provisioning::Jit, "member");
    let ctx = LoginContext {
        tenant: &tenant,
        connection: &conn,
        policy: &policy,
        domains: &domains,
    };
    admit_assertion(ctx, assertion, mapping, &Empty(pinned))
        .unwrap()
        .decision
}

#[test]
fn jit_from_a_signed_jumpcloud_assertion() {
    let a = verified_assertion(EMAIL_FORMAT, &attrs());
    match run(&a, &AttributeMapping::default(), None) {
        Decision::Create { account } => {
            assert_eq!(account.identity.to_string(), "saml:acme-jc:jane.doe@example.com");
            assert_eq!(account.profile.first_name.as_deref(), Some("Jane"));
            assert_eq!(account.profile.display_name.as_deref(), Some("Jane Doe"));
            assert_eq!(account.role, "member");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn mapping_failure_is_a_refusal_with_the_mapping_code() {
    let a = verified_assertion(EMAIL_FORMAT, &attrs());
    let mapping = AttributeMapping {
        unique_id: fedkit_saml::UniqueId::Attribute("objectGUID".into()),
        ..AttributeMapping::default()
    };
    let decision = run(&a, &mapping, None);
    assert_eq!(decision.refusal().map(|r| r.code()), Some("unique_id_missing"));
}

#[test]
fn name_id_format_change_is_refused_with_the_pulumi_warning() {
    let a = verified_assertion("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent", &attrs());
    match run(&a, &AttributeMapping::default(), Some(Some(EMAIL_FORMAT.into()))) {
        Decision::Refuse {
            code, admin_message, ..
        } => {
            assert_eq!(code, "name_id_format_changed");
            assert!(
                admin_message.contains("Changing it will break existing user sessions"),
                "{admin_message}"
            );
        }
        other => panic!("{other:?}"),
    }
}
