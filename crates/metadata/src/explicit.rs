//! The explicit IdP source: entity ID, SSO URL and pasted certificates, as an admin types
//! them from the IdP console (JumpCloud: "IdP Entity ID", "IDP URL", "IDP Certificate").

use base64::Engine as _;
use chrono::{DateTime, Utc};
use fedkit_xmldsig::{KeyError, TrustedKey};

use crate::error::{Error, Location, PasteProblem};
use crate::metadata::{certificate_warnings, signing_keys};
use crate::model::{Binding, Certificate, Endpoint, IdpMetadata, KeyUse, SignatureStatus};
use crate::url::check_endpoint;

/// The DER bytes of every certificate in one paste; the problem names the first block that
/// is wrong, 1-based.
pub(crate) fn parse_paste(pasted: &str) -> Result<Vec<Vec<u8>>, (usize, PasteProblem)> {
    let text = pasted
        .trim_start_matches('\u{FEFF}')
        .replace("\r\n", "\n")
        .replace('\r', "\n");
    let text = unflatten(&text);
    let text = text.trim();
    if text.is_empty() {
        return Err((1, PasteProblem::Empty));
    }
    if text.starts_with('<') {
        return Err((1, PasteProblem::Xml));
    }
    if !text.contains("-----BEGIN ") {
        return decode_certificate(text).map(|der| vec![der]).map_err(|p| (1, p));
    }
    let mut out = Vec::new();
    // Text around the blocks ("Bag Attributes", "subject=...") is ignored.
    for (index, block) in fedkit_xmldsig::pem::blocks(text).into_iter().enumerate() {
        let (label, body, closed) = (block.label, block.body, block.closed);
        let block = index + 1;
        let problem = match label.as_str() {
            l if l.ends_with("PRIVATE KEY") => Some(PasteProblem::PrivateKey { label }),
            "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => Some(PasteProblem::CertificateRequest),
            "PUBLIC KEY" | "RSA PUBLIC KEY" => Some(PasteProblem::PublicKey),
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" if !closed => {
                Some(PasteProblem::MissingEndLine { label })
            }
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => None,
            _ => Some(PasteProblem::UnexpectedLabel { label }),
        };
        if let Some(p) = problem {
            return Err((block, p));
        }
        out.push(decode_certificate(&body).map_err(|p| (block, p))?);
    }
    if out.is_empty() {
        // "-----BEGIN " appeared, but not as a line of its own.
        return Err((
            1,
            PasteProblem::MissingEndLine {
                label: "CERTIFICATE".to_owned(),
            },
        ));
    }
    Ok(out)
}

/// Undoes what web forms and JSON do to a PEM paste: literal `\n` escapes (a PEM copied out
/// of a JSON document) become line breaks, and BEGIN/END lines run together with the base64
/// (line breaks stripped by a single-line input) are put back on lines of their own.
fn unflatten(text: &str) -> String {
    if !text.contains("-----BEGIN ") {
        return text.to_owned();
    }
    let text = text.replace("\\r\\n", "\n").replace("\\n", "\n");
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text.as_str();
    loop {
        let next = [rest.find("-----BEGIN "), rest.find("-----END ")]
            .into_iter()
            .flatten()
            .min();
        let Some(start) = next else { break };
        let (before, marker) = rest.split_at(start);
        out.push_str(before);
        // The marker ends at the first "-----" after its label.
        let label_start = if marker.starts_with("-----BEGIN ") { 11 } else { 9 };
        let Some(end) = marker.get(label_start..).and_then(|m| m.find("-----")) else {
            out.push_str(marker);
            return out;
        };
        let marker_len = label_start + end + 5;
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(marker.get(..marker_len).unwrap_or(marker));
        out.push('\n');
        rest = marker.get(marker_len..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// Decodes base64 text (whitespace anywhere) into a DER certificate, explaining what else it
/// might be when it is not one.
fn decode_certificate(text: &str) -> Result<Vec<u8>, PasteProblem> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if let Some(bad) = compact
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')))
    {
        return Err(PasteProblem::NotBase64 { found: bad });
    }
    let der = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| match e {
            base64::DecodeError::InvalidByte(_, b) if b != b'=' => {
                PasteProblem::NotBase64 { found: char::from(b) }
            }
            _ if !compact.len().is_multiple_of(4) => PasteProblem::Truncated {
                detail: format!(
                    "its base64 text has {} characters, which is not a multiple of 4",
                    compact.len()
                ),
            },
            other => PasteProblem::Truncated {
                detail: format!("its base64 text does not end correctly ({other})"),
            },
        })?;
    if der.is_empty() {
        return Err(PasteProblem::Empty);
    }
    match TrustedKey::from_certificate_der(&der) {
        Ok(_) => Ok(der),
        Err(KeyError::UnsupportedKeyType { oid }) => {
            Err(PasteProblem::Unusable(KeyError::UnsupportedKeyType { oid }))
        }
        Err(e) => Err(sniff(&der).unwrap_or(PasteProblem::NotACertificate {
            reason: e.to_string(),
        })),
    }
}

/// One DER TLV header: (tag, header length, content length).
fn tlv(der: &[u8]) -> Option<(u8, usize, usize)> {
    let tag = *der.first()?;
    let first = *der.get(1)?;
    if first < 0x80 {
        return Some((tag, 2, usize::from(first)));
    }
    let n = usize::from(first & 0x7F);
    if n == 0 || n > 4 {
        return None;
    }
    let mut len = 0usize;
    for i in 0..n {
        len = (len << 8) | usize::from(*der.get(2 + i)?);
    }
    Some((tag, 2 + n, len))
}

/// What a DER blob that is not a parsable certificate looks like.
fn sniff(der: &[u8]) -> Option<PasteProblem> {
    let (tag, header, len) = tlv(der)?;
    if tag != 0x30 {
        return None;
    }
    let total = header + len;
    if der.len() < total {
        return Some(PasteProblem::Truncated {
            detail: format!("it announces {total} bytes but only {} are present", der.len()),
        });
    }
    let inner = der.get(header..total)?;
    let (first_tag, first_header, first_len) = tlv(inner)?;
    match first_tag {
        // PKCS#1, PKCS#8 and SEC1 private keys start with a version INTEGER.
        0x02 => Some(PasteProblem::PrivateKey {
            label: "base64 without BEGIN/END lines".to_owned(),
        }),
        0x30 => {
            let body = inner.get(first_header..first_header + first_len)?;
            let (t, h, l) = tlv(body)?;
            match t {
                // SubjectPublicKeyInfo: AlgorithmIdentifier { OID ... }.
                0x06 => Some(PasteProblem::PublicKey),
                // CertificationRequestInfo: version INTEGER, then a Name (SEQUENCE of SETs),
                // where a v1 certificate has its serial then an AlgorithmIdentifier (OID).
                0x02 => {
                    let after = body.get(h + l..)?;
                    let (name_tag, name_header, _) = tlv(after)?;
                    let first_in_name = after.get(name_header).copied();
                    (name_tag == 0x30 && matches!(first_in_name, Some(0x31) | None))
                        .then_some(PasteProblem::CertificateRequest)
                }
                _ => None,
            }
        }
        _ => None,
    }
}

impl IdpMetadata {
    /// An IdP typed in by an admin: its entity ID (JumpCloud: "IdP Entity ID"), its SSO URL
    /// ("IDP URL") and its signing certificate(s), each paste as copied from the console:
    /// a PEM block, several PEM blocks, or the bare base64 body, with any whitespace and
    /// CRLF line ends. Several pastes (or several blocks in one) pin several keys, as during
    /// a rotation.
    ///
    /// The SSO URL is taken to accept both HTTP-Redirect and HTTP-POST, as JumpCloud, Okta,
    /// Entra ID and AD FS URLs do; it must be `https://`. Certificate expiry is reported in
    /// [`warnings`](Self::warnings), never refused.
    ///
    /// ```
    /// use fedkit_metadata::{Error, IdpMetadata, PasteProblem};
    /// let pem = include_str!("../../../examples/data/idp-cert.pem");
    /// let now = chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")?.to_utc();
    /// let idp = IdpMetadata::from_explicit(
    ///     "https://sso.jumpcloud.com/saml2/acme",
    ///     "https://sso.jumpcloud.com/saml2/acme",
    ///     &[pem.replace('\n', "\r\n")],
    ///     now,
    /// )?;
    /// assert_eq!(idp.signing_keys().keys().len(), 1);
    ///
    /// let err = IdpMetadata::from_explicit("x", "https://idp.example.com/sso",
    ///     &["-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----"], now).unwrap_err();
    /// assert!(matches!(err, Error::Pasted { problem: PasteProblem::PrivateKey { .. }, .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_explicit<S: AsRef<str>>(
        entity_id: &str,
        sso_url: &str,
        certificates: &[S],
        now: DateTime<Utc>,
    ) -> Result<Self, Error> {
        if entity_id.trim().is_empty() {
            return Err(Error::EmptyField {
                field: "IdP entity ID",
            });
        }
        if entity_id.chars().count() > 1024 {
            return Err(Error::InvalidValue {
                location: Location::new(None, "IdP entity ID", None),
                value: entity_id.to_owned(),
                expected: "at most 1024 characters (SAML Metadata §2.3.2)",
            });
        }
        if sso_url.trim().is_empty() {
            return Err(Error::EmptyField { field: "SSO URL" });
        }
        check_endpoint(sso_url, false).map_err(|problem| Error::UnsafeUrl {
            location: Location::new(None, "SSO URL", None),
            url: sso_url.to_owned(),
            problem,
        })?;
        if certificates.is_empty() {
            return Err(Error::EmptyField {
                field: "certificates",
            });
        }
        let mut certs: Vec<Certificate> = Vec::new();
        for (i, pasted) in certificates.iter().enumerate() {
            let ders = parse_paste(pasted.as_ref()).map_err(|(block, problem)| Error::Pasted {
                index: i + 1,
                block,
                problem,
            })?;
            for der in ders {
                let key = TrustedKey::from_certificate_der(&der).map_err(|e| Error::Pasted {
                    index: i + 1,
                    block: 1,
                    problem: PasteProblem::Unusable(e),
                })?;
                if certs.iter().any(|c| c.sha256 == key.fingerprint()) {
                    continue;
                }
                if let Some(c) = Certificate::new(KeyUse::Signing, i + 1, key) {
                    certs.push(c);
                }
            }
        }
        let keys = signing_keys(&certs).ok_or(Error::EmptyField {
            field: "certificates",
        })?;
        let mut warnings = Vec::new();
        certificate_warnings(&certs, now, &mut warnings);
        let endpoint = |binding| Endpoint {
            binding,
            location: sso_url.to_owned(),
            response_location: None,
            index: None,
        };
        Ok(IdpMetadata {
            entity_id: entity_id.to_owned(),
            sso: vec![endpoint(Binding::HttpRedirect), endpoint(Binding::HttpPost)],
            slo: Vec::new(),
            slo_plain_http: Vec::new(),
            artifact_resolution: Vec::new(),
            name_id_formats: Vec::new(),
            want_authn_requests_signed: false,
            certificates: certs,
            signing_keys: keys,
            valid_until: None,
            cache_duration: None,
            error_url: None,
            organization: None,
            contacts: Vec::new(),
            ui: None,
            registration: None,
            scopes: Vec::new(),
            entity_attributes: Vec::new(),
            signature: SignatureStatus::Explicit,
            warnings,
        })
    }
}
