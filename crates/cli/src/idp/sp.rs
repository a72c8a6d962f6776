//! The one Service Provider the test IdP serves: from its SAML metadata (`--sp-metadata`) or
//! from flags (`--sp-entity-id`, `--acs-url`, ...).

use base64::Engine as _;
use fedkit_xmldsig::roxmltree::Node;
use fedkit_xmldsig::{Document, Limits, TrustedKey, TrustedKeys};

use crate::output::Failure;

const MD_NS: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const DS_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
pub(crate) const BINDING_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
pub(crate) const BINDING_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
/// Largest SP metadata read, in bytes.
const MAX_METADATA_BYTES: usize = 1 << 20;

/// An Assertion Consumer Service of the SP (HTTP-POST only: the binding Responses use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Acs {
    pub(crate) url: String,
    pub(crate) index: Option<u32>,
}

/// How the SP's Single Logout endpoint takes messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SloBinding {
    Post,
    Redirect,
}

/// Where the IdP sends the LogoutResponse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Slo {
    pub(crate) url: String,
    pub(crate) binding: SloBinding,
}

/// What the IdP knows about the SP — what an admin types into JumpCloud's SSO tab.
#[derive(Debug, Clone)]
pub(crate) struct SpConfig {
    /// "SP Entity ID": the Audience, and the Issuer the SP's requests must carry.
    pub(crate) entity_id: String,
    /// "ACS URLs", the default first.
    pub(crate) acs: Vec<Acs>,
    /// The SP's Single Logout endpoint, if it has one.
    pub(crate) slo: Option<Slo>,
    /// "SP Certificate": verifies signed AuthnRequests and LogoutRequests.
    pub(crate) signing_keys: Option<TrustedKeys>,
    /// Unsigned requests are refused (`AuthnRequestsSigned="true"`, or `--sp-cert`).
    pub(crate) requests_must_be_signed: bool,
}

impl SpConfig {
    /// The default ACS URL (for IdP-initiated logins and requests that name none).
    pub(crate) fn default_acs(&self) -> &str {
        self.acs.first().map(|a| a.url.as_str()).unwrap_or_default()
    }

    /// Whether `url` is one of the SP's ACS URLs.
    pub(crate) fn has_acs(&self, url: &str) -> bool {
        self.acs.iter().any(|a| a.url == url)
    }

    /// The ACS URL with metadata index `index`.
    pub(crate) fn acs_by_index(&self, index: u32) -> Option<&str> {
        self.acs
            .iter()
            .find(|a| a.index == Some(index))
            .map(|a| a.url.as_str())
    }
}

fn bad_metadata(source: &str, message: impl std::fmt::Display) -> Failure {
    Failure::new("bad_sp_metadata", format!("{source}: {message}"))
}

fn check_url(what: &str, url: &str) -> Result<(), String> {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some(r)
            if !r.starts_with('/')
                && !r.is_empty()
                && !url.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            Ok(())
        }
        _ => Err(format!("{what} {url:?} is not an absolute http(s) URL")),
    }
}

/// The SP from flags.
pub(crate) fn from_flags(
    entity_id: &str,
    acs_urls: &[String],
    slo_url: Option<&str>,
    certificate_pem: Option<(&str, &str)>,
) -> Result<SpConfig, Failure> {
    let usage = |m: String| Failure::new("bad_sp_settings", m);
    if entity_id.trim().is_empty() {
        return Err(usage("--sp-entity-id is empty".to_owned()));
    }
    for url in acs_urls {
        check_url("--acs-url", url).map_err(usage)?;
    }
    if let Some(url) = slo_url {
        check_url("--sp-slo-url", url).map_err(usage)?;
    }
    let signing_keys = match certificate_pem {
        Some((source, pem)) => Some(
            TrustedKeys::from_pem(pem)
                .map_err(|e| Failure::new("bad_certificate", format!("{source}: {e}")))?,
        ),
        None => None,
    };
    Ok(SpConfig {
        entity_id: entity_id.to_owned(),
        acs: acs_urls
            .iter()
            .map(|url| Acs {
                url: url.clone(),
                index: None,
            })
            .collect(),
        slo: slo_url.map(|url| Slo {
            url: url.to_owned(),
            binding: SloBinding::Post,
        }),
        requests_must_be_signed: signing_keys.is_some(),
        signing_keys,
    })
}

fn md_children<'a, 'i>(node: Node<'a, 'i>, local: &'static str) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children().filter(move |c| {
        c.is_element() && c.tag_name().namespace() == Some(MD_NS) && c.tag_name().name() == local
    })
}

/// The SP from its metadata (an `EntityDescriptor` with an `SPSSODescriptor`, or an
/// `EntitiesDescriptor` holding exactly one such entity).
pub(crate) fn from_metadata(source: &str, xml: &[u8]) -> Result<SpConfig, Failure> {
    let limits = Limits::default().with_max_bytes(MAX_METADATA_BYTES);
    let doc = Document::parse_bytes_with_limits(xml, &limits).map_err(|e| bad_metadata(source, e))?;
    let root = doc.root_element();
    let is_md = |n: Node<'_, '_>, local: &str| {
        n.tag_name().namespace() == Some(MD_NS) && n.tag_name().name() == local
    };
    let entity = if is_md(root, "EntityDescriptor") {
        root
    } else if is_md(root, "EntitiesDescriptor") {
        let mut sps = root
            .descendants()
            .filter(|n| is_md(*n, "EntityDescriptor") && md_children(*n, "SPSSODescriptor").next().is_some());
        match (sps.next(), sps.next()) {
            (Some(one), None) => one,
            (None, _) => {
                return Err(bad_metadata(
                    source,
                    "no EntityDescriptor with an SPSSODescriptor",
                ))
            }
            (Some(_), Some(_)) => {
                return Err(bad_metadata(
                    source,
                    "several SP entities: give the metadata of exactly one SP",
                ))
            }
        }
    } else {
        return Err(bad_metadata(
            source,
            format!(
                "the root element is {:?}; SAML metadata (md:EntityDescriptor) was expected",
                root.tag_name().name()
            ),
        ));
    };
    let entity_id = entity
        .attribute("entityID")
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| bad_metadata(source, "the EntityDescriptor has no entityID"))?;
    let descriptor = md_children(entity, "SPSSODescriptor").next().ok_or_else(|| {
        bad_metadata(
            source,
            if md_children(entity, "IDPSSODescriptor").next().is_some() {
                format!("{entity_id:?} is an Identity Provider; --sp-metadata takes the SP's metadata")
            } else {
                format!("{entity_id:?} has no SPSSODescriptor")
            },
        )
    })?;
    let mut acs: Vec<(bool, Acs)> = Vec::new();
    for service in md_children(descriptor, "AssertionConsumerService") {
        if service.attribute("Binding") != Some(BINDING_POST) {
            continue;
        }
        let url = service.attribute("Location").unwrap_or_default();
        check_url("AssertionConsumerService Location", url).map_err(|m| bad_metadata(source, m))?;
        let index = match service.attribute("index") {
            Some(i) => Some(i.parse::<u32>().map_err(|_| {
                bad_metadata(
                    source,
                    format!("AssertionConsumerService index {i:?} is not a number"),
                )
            })?),
            None => None,
        };
        let default = service.attribute("isDefault") == Some("true");
        acs.push((
            default,
            Acs {
                url: url.to_owned(),
                index,
            },
        ));
    }
    if acs.is_empty() {
        return Err(bad_metadata(
            source,
            "no AssertionConsumerService with the HTTP-POST binding: the IdP has nowhere to post the Response",
        ));
    }
    // The default ACS first: isDefault="true", else the lowest index, else document order.
    acs.sort_by_key(|(default, a)| (!default, a.index.unwrap_or(u32::MAX)));
    let acs: Vec<Acs> = acs.into_iter().map(|(_, a)| a).collect();

    let mut slo = None;
    for (binding, uri) in [
        (SloBinding::Post, BINDING_POST),
        (SloBinding::Redirect, BINDING_REDIRECT),
    ] {
        if let Some(service) =
            md_children(descriptor, "SingleLogoutService").find(|s| s.attribute("Binding") == Some(uri))
        {
            let url = service
                .attribute("ResponseLocation")
                .or_else(|| service.attribute("Location"))
                .unwrap_or_default();
            check_url("SingleLogoutService Location", url).map_err(|m| bad_metadata(source, m))?;
            slo = Some(Slo {
                url: url.to_owned(),
                binding,
            });
            break;
        }
    }

    let mut keys = Vec::new();
    for descriptor_key in md_children(descriptor, "KeyDescriptor") {
        if !matches!(descriptor_key.attribute("use"), None | Some("signing")) {
            continue;
        }
        for cert in descriptor_key
            .descendants()
            .filter(|n| n.tag_name().namespace() == Some(DS_NS) && n.tag_name().name() == "X509Certificate")
        {
            let text: String = cert
                .descendants()
                .filter(|n| n.is_text())
                .filter_map(|n| n.text())
                .flat_map(str::chars)
                .filter(|c| !c.is_whitespace())
                .collect();
            let der = base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|e| bad_metadata(source, format!("a signing X509Certificate is not base64: {e}")))?;
            keys.push(
                TrustedKey::from_certificate_der(&der)
                    .map_err(|e| bad_metadata(source, format!("a signing certificate: {e}")))?,
            );
        }
    }
    let signing_keys = TrustedKeys::new(keys);
    let requests_must_be_signed = descriptor.attribute("AuthnRequestsSigned") == Some("true");
    if requests_must_be_signed && signing_keys.is_none() {
        return Err(bad_metadata(
            source,
            "AuthnRequestsSigned=\"true\" but no signing certificate (KeyDescriptor use=\"signing\"): \
             the IdP could not verify the requests",
        ));
    }
    Ok(SpConfig {
        entity_id: entity_id.to_owned(),
        acs,
        slo,
        signing_keys,
        requests_must_be_signed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SP_CERT: &str = include_str!("../../../saml/tests/data/keys/sp.crt.pem");

    fn metadata(extra: &str, signed: bool) -> String {
        format!(
            "<md:EntityDescriptor xmlns:md=\"{MD_NS}\" xmlns:ds=\"{DS_NS}\" entityID=\"https://sp.test/metadata\">\
             <md:SPSSODescriptor AuthnRequestsSigned=\"{signed}\" protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\
             {extra}</md:SPSSODescriptor></md:EntityDescriptor>"
        )
    }

    fn cert_b64() -> String {
        SP_CERT
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<String>()
    }

    #[test]
    fn metadata_gives_entity_acs_slo_and_certificate() {
        let xml = metadata(
            &format!(
                "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate>\
                 </ds:X509Data></ds:KeyInfo></md:KeyDescriptor>\
                 <md:SingleLogoutService Binding=\"{BINDING_REDIRECT}\" Location=\"https://sp.test/slo\"/>\
                 <md:AssertionConsumerService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact\" Location=\"https://sp.test/art\" index=\"0\"/>\
                 <md:AssertionConsumerService Binding=\"{BINDING_POST}\" Location=\"https://sp.test/acs2\" index=\"2\"/>\
                 <md:AssertionConsumerService Binding=\"{BINDING_POST}\" Location=\"https://sp.test/acs1\" index=\"1\" isDefault=\"true\"/>",
                cert_b64()
            ),
            true,
        );
        let sp = from_metadata("sp.xml", xml.as_bytes()).map_err(|f| f.message);
        let Ok(sp) = sp else { unreachable!("{sp:?}") };
        assert_eq!(sp.entity_id, "https://sp.test/metadata");
        assert_eq!(sp.default_acs(), "https://sp.test/acs1");
        assert_eq!(sp.acs_by_index(2), Some("https://sp.test/acs2"));
        assert!(!sp.has_acs("https://sp.test/art"));
        assert_eq!(
            sp.slo,
            Some(Slo {
                url: "https://sp.test/slo".to_owned(),
                binding: SloBinding::Redirect
            })
        );
        assert!(sp.requests_must_be_signed);
        assert_eq!(sp.signing_keys.map(|k| k.keys().len()), Some(1));
    }

    #[test]
    fn unusable_metadata_is_refused_with_the_reason() {
        let post = format!("<md:AssertionConsumerService Binding=\"{BINDING_POST}\" Location=\"https://sp.test/acs\" index=\"0\"/>");
        let cases = [
            (metadata("", false), "no AssertionConsumerService with the HTTP-POST binding"),
            (metadata(&post, true), "AuthnRequestsSigned=\"true\" but no signing certificate"),
            (
                metadata(
                    &format!("<md:AssertionConsumerService Binding=\"{BINDING_POST}\" Location=\"javascript:alert(1)\"/>"),
                    false,
                ),
                "is not an absolute http(s) URL",
            ),
            (
                format!("<md:EntityDescriptor xmlns:md=\"{MD_NS}\" entityID=\"https://idp.test\"><md:IDPSSODescriptor/></md:EntityDescriptor>"),
                "is an Identity Provider",
            ),
            ("<html/>".to_owned(), "md:EntityDescriptor) was expected"),
            ("<!DOCTYPE x [<!ENTITY a \"b\">]><x/>".to_owned(), "DOCTYPE declaration is not allowed"),
        ];
        for (xml, expected) in cases {
            let err = from_metadata("sp.xml", xml.as_bytes())
                .err()
                .map(|f| (f.code, f.message));
            let (code, message) = err.unwrap_or_default();
            assert_eq!(code, "bad_sp_metadata", "{xml}");
            assert!(message.contains(expected), "{message} should contain {expected}");
        }
    }

    #[test]
    fn flags_are_checked() {
        let acs = vec!["https://sp.test/acs".to_owned()];
        assert!(from_flags("sp", &acs, None, None).is_ok());
        assert_eq!(
            from_flags(" ", &acs, None, None).err().map(|f| f.code),
            Some("bad_sp_settings")
        );
        let bad = vec!["/acs".to_owned()];
        assert!(from_flags("sp", &bad, None, None)
            .err()
            .is_some_and(|f| f.message.contains("--acs-url \"/acs\"")));
        let with_cert = from_flags(
            "sp",
            &acs,
            Some("http://localhost:3000/slo"),
            Some(("sp.pem", SP_CERT)),
        );
        assert!(with_cert.is_ok_and(|sp| sp.requests_must_be_signed && sp.slo.is_some()));
    }

    proptest::proptest! {
        /// Arbitrary bytes as SP metadata or users.json: an error, never a panic.
        #[test]
        fn arbitrary_files_are_refused_without_panicking(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            proptest::prop_assert!(from_metadata("f", &bytes).is_err());
            let _ = super::super::users::parse_users("f", &bytes);
        }
    }
}
