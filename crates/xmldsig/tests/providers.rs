//! The crypto provider contract (issue 20, item 5): keys are loaded by the provider asked,
//! every operation is the provider's own or delegated as its `supports` says, and what a
//! provider cannot do is refused with a typed error naming the provider and the operation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::Engine as _;
#[cfg(feature = "rust-crypto")]
use fedkit_xmldsig::crypto::RustCrypto;
use fedkit_xmldsig::crypto::{
    all_providers, default_provider, CryptoError, CryptoProvider, Operation, PrivateKeyDer, Support,
};
use fedkit_xmldsig::key::KeyType;
use fedkit_xmldsig::sign;
use fedkit_xmldsig::{
    AlgorithmPolicy, DecryptionKey, DigestAlgorithm, Document, KeyError, SignatureAlgorithm, SigningKey,
    TrustedKeys, Verifier,
};

const RSA_KEY: &str = include_str!("data/oracle/key-a.pem");
const RSA_CERT: &str = include_str!("data/oracle/cert-a.pem");
const P256_KEY: &str = include_str!("data/oracle/key-ec256.pem");
const P256_CERT: &str = include_str!("data/oracle/cert-ec256.pem");
const P384_KEY: &str = include_str!("data/oracle/key-ec384.pem");
const P384_CERT: &str = include_str!("data/oracle/cert-ec384.pem");
const XML: &str = r#"<r:Request xmlns:r="urn:example" ID="_1"><r:Body>hi</r:Body></r:Request>"#;

fn der_of(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(body).unwrap()
}

fn pem_of(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    format!("-----BEGIN {label}-----\n{b64}\n-----END {label}-----\n")
}

/// The same RSA key as PKCS#1 (`BEGIN RSA PRIVATE KEY`), re-encoded with `rsa`.
fn rsa_pkcs1_pem() -> String {
    use rsa::pkcs1::EncodeRsaPrivateKey as _;
    use rsa::pkcs8::DecodePrivateKey as _;
    let key = rsa::RsaPrivateKey::from_pkcs8_der(&der_of(RSA_KEY)).unwrap();
    pem_of("RSA PRIVATE KEY", key.to_pkcs1_der().unwrap().as_bytes())
}

/// The same P-256 key as SEC 1 (`BEGIN EC PRIVATE KEY`), re-encoded with `p256`.
fn p256_sec1_pem() -> String {
    use p256::pkcs8::DecodePrivateKey as _;
    let key = p256::SecretKey::from_pkcs8_der(&der_of(P256_KEY)).unwrap();
    pem_of("EC PRIVATE KEY", &key.to_sec1_der().unwrap())
}

fn verify(signed: &str, cert: &str, provider: &'static dyn CryptoProvider) -> bool {
    let doc = Document::parse(signed).unwrap();
    Verifier::new(TrustedKeys::from_pem(cert).unwrap(), AlgorithmPolicy::default())
        .with_provider(provider)
        .verify_enveloped(&doc, doc.root_element())
        .is_ok()
}

#[test]
fn keys_are_loaded_by_the_provider_asked_in_every_format() {
    let pkcs1 = rsa_pkcs1_pem();
    let sec1 = p256_sec1_pem();
    let cases: [(&str, &str, KeyType); 5] = [
        (RSA_KEY, RSA_CERT, KeyType::Rsa { bits: 2048 }),
        (&pkcs1, RSA_CERT, KeyType::Rsa { bits: 2048 }),
        (P256_KEY, P256_CERT, KeyType::EcP256),
        (&sec1, P256_CERT, KeyType::EcP256),
        (P384_KEY, P384_CERT, KeyType::EcP384),
    ];
    for (pem, cert, key_type) in cases {
        let certificate = TrustedKeys::from_pem(cert).unwrap();
        let other = TrustedKeys::from_pem(include_str!("data/oracle/cert-b.pem")).unwrap();
        for provider in all_providers() {
            let key = SigningKey::from_pem_with(pem, provider).unwrap();
            assert_eq!(key.provider(), provider.name(), "{key_type}");
            assert_eq!(key.key_type(), key_type, "{}", provider.name());
            assert!(
                key.matches(certificate.keys()[0].public_key()),
                "{key_type} {}",
                provider.name()
            );
            assert!(
                !key.matches(other.keys()[0].public_key()),
                "{key_type} {}",
                provider.name()
            );
            // The same through DER.
            let der = der_of(pem);
            let der = match pem.lines().next().unwrap() {
                "-----BEGIN RSA PRIVATE KEY-----" => PrivateKeyDer::Pkcs1(&der),
                "-----BEGIN EC PRIVATE KEY-----" => PrivateKeyDer::Sec1(&der),
                _ => PrivateKeyDer::Pkcs8(&der),
            };
            let from_der = SigningKey::from_der(der, provider).unwrap();
            assert_eq!(from_der.key_type(), key_type);
            assert_eq!(from_der.provider(), provider.name());
        }
    }
    // The default loader is the default provider: aws-lc-rs when it is compiled in.
    let expected = if cfg!(feature = "aws-lc-rs") {
        "aws-lc-rs"
    } else {
        "rustcrypto"
    };
    assert_eq!(default_provider().name(), expected);
    assert_eq!(all_providers()[0].name(), expected);
    assert_eq!(SigningKey::from_pem(RSA_KEY).unwrap().provider(), expected);
    assert_eq!(DecryptionKey::from_pem(RSA_KEY).unwrap().provider(), expected);
}

#[test]
fn unparsable_or_unsuitable_keys_are_refused_by_every_provider() {
    let garbage = pem_of("PRIVATE KEY", b"\x30\x03\x02\x01\x00");
    for provider in all_providers() {
        assert!(
            matches!(
                SigningKey::from_pem_with(&garbage, provider),
                Err(KeyError::BadPublicKey { .. })
            ),
            "{}",
            provider.name()
        );
        assert!(matches!(
            SigningKey::from_der(PrivateKeyDer::Pkcs1(b"\x30\x00"), provider),
            Err(KeyError::BadPublicKey { .. })
        ));
        // An EC key cannot decrypt XML Encryption key transport: said when loaded.
        let err = DecryptionKey::from_pem_with(P256_KEY, provider).unwrap_err();
        assert!(
            matches!(&err, KeyError::BadPublicKey { reason } if reason.contains("needs an RSA private key")),
            "{err}"
        );
        assert!(matches!(
            DecryptionKey::from_pem_with(RSA_CERT, provider),
            Err(KeyError::UnexpectedPemLabel { .. })
        ));
    }
}

#[test]
fn signatures_verify_across_providers_whoever_loaded_the_key() {
    for (pem, cert, algorithms) in [
        (
            RSA_KEY,
            RSA_CERT,
            &[
                SignatureAlgorithm::RSA_SHA256,
                SignatureAlgorithm::RSA_SHA384,
                SignatureAlgorithm::RSA_SHA512,
            ][..],
        ),
        (
            P256_KEY,
            P256_CERT,
            &[
                SignatureAlgorithm::ECDSA_SHA256,
                SignatureAlgorithm::ECDSA_SHA384,
                SignatureAlgorithm::ECDSA_SHA512,
            ][..],
        ),
        (
            P384_KEY,
            P384_CERT,
            &[SignatureAlgorithm::ECDSA_SHA384, SignatureAlgorithm::ECDSA_SHA256][..],
        ),
    ] {
        for &algorithm in algorithms {
            let mut rsa_values = Vec::new();
            for loader in all_providers() {
                let key = SigningKey::from_pem_with(pem, loader).unwrap();
                for signer in all_providers() {
                    let operation = Operation::Sign {
                        algorithm,
                        key: key.key_type(),
                    };
                    if signer.supports(operation) == Support::Unsupported {
                        // aws-lc-rs without RustCrypto: the ECDSA hashes AWS-LC lacks (tested
                        // in aws_lc_rs::without_rust_crypto_...).
                        if cfg!(feature = "rust-crypto") {
                            panic!("{operation} refused by {}", signer.name());
                        }
                        continue;
                    }
                    let signed = sign::sign_enveloped_with(XML, "_1", None, &key, None, algorithm, signer)
                        .unwrap_or_else(|e| panic!("{algorithm} {} {}: {e}", loader.name(), signer.name()));
                    for verifier in all_providers() {
                        assert!(
                            verify(&signed, cert, verifier),
                            "{algorithm}: loaded by {}, signed by {}, verified by {}",
                            loader.name(),
                            signer.name(),
                            verifier.name()
                        );
                    }
                    // A different document does not verify (the check can fail).
                    let altered = signed.replace(">hi<", ">ho<");
                    assert!(!verify(&altered, cert, all_providers()[0]));
                    if algorithm.scheme() == fedkit_xmldsig::SignatureScheme::RsaPkcs1v15 {
                        rsa_values.push(signed);
                    }
                }
            }
            // PKCS#1 v1.5 is deterministic: every provider makes the same signature.
            assert!(rsa_values.windows(2).all(|w| w[0] == w[1]), "{algorithm}");
        }
    }
}

#[cfg(feature = "rust-crypto")]
#[test]
fn rustcrypto_does_everything_itself_and_refuses_the_rest_by_name() {
    let rsa = KeyType::Rsa { bits: 2048 };
    let mut operations = vec![
        Operation::TripleDesCbcDecrypt,
        Operation::AesCbcDecrypt { key_bits: 192 },
        Operation::AesGcmDecrypt { key_bits: 256 },
        Operation::RsaPkcs1v15Decrypt { bits: 1024 },
        Operation::LoadPrivateKey { key: rsa },
    ];
    for digest in [
        DigestAlgorithm::Sha1,
        DigestAlgorithm::Sha256,
        DigestAlgorithm::Sha512,
    ] {
        for mgf1 in [DigestAlgorithm::Sha1, DigestAlgorithm::Sha256] {
            operations.push(Operation::RsaOaepDecrypt {
                digest,
                mgf1,
                bits: 2048,
            });
        }
    }
    for algorithm in [
        SignatureAlgorithm::RSA_SHA256,
        SignatureAlgorithm::RSA_SHA1,
        SignatureAlgorithm::RSA_PSS_SHA384,
    ] {
        operations.push(Operation::Verify { algorithm, key: rsa });
    }
    for key in [KeyType::EcP256, KeyType::EcP384] {
        for algorithm in [
            SignatureAlgorithm::ECDSA_SHA256,
            SignatureAlgorithm::ECDSA_SHA384,
            SignatureAlgorithm::ECDSA_SHA512,
        ] {
            operations.push(Operation::Sign { algorithm, key });
            operations.push(Operation::Verify { algorithm, key });
        }
    }
    for operation in operations {
        assert_eq!(RustCrypto.supports(operation), Support::Native, "{operation}");
    }
    // What it cannot do: refused with the provider and the operation named.
    let key = SigningKey::from_pem(RSA_KEY).unwrap();
    let refused = RustCrypto
        .rsa_sign(SignatureAlgorithm::RSA_PSS_SHA256, &key, b"m")
        .unwrap_err();
    assert_eq!(
        refused,
        CryptoError::Unsupported {
            provider: "rustcrypto",
            operation: Operation::Sign {
                algorithm: SignatureAlgorithm::RSA_PSS_SHA256,
                key: KeyType::Rsa { bits: 2048 }
            },
            delegate: None,
        }
    );
    assert_eq!(refused.code(), "crypto_unsupported");
    let message = refused.to_string();
    assert!(
        message.contains("rustcrypto") && message.contains("RSA-PSS-SHA256"),
        "{message}"
    );
    assert!(matches!(
        RustCrypto.aes_gcm_decrypt(&[0; 24], &[0; 64]),
        Err(CryptoError::Unsupported {
            operation: Operation::AesGcmDecrypt { key_bits: 192 },
            ..
        })
    ));
    // A wrong key length is an ordinary failure, not an unsupported operation.
    assert_eq!(
        RustCrypto.aes_gcm_decrypt(&[0; 7], &[0; 64]),
        Err(CryptoError::Failed)
    );
}

/// The default provider, except that it refuses every signature verification.
#[derive(Debug)]
struct RefusesVerification;

impl CryptoProvider for RefusesVerification {
    fn name(&self) -> &'static str {
        "refuses-verification"
    }
    fn supports(&self, operation: Operation) -> Support {
        match operation {
            Operation::Verify { .. } => Support::Unsupported,
            _ => default_provider().supports(operation),
        }
    }
    fn hasher(&self, algorithm: DigestAlgorithm) -> Box<dyn fedkit_xmldsig::crypto::Hasher> {
        default_provider().hasher(algorithm)
    }
    fn verify(
        &self,
        _: SignatureAlgorithm,
        _: &fedkit_xmldsig::key::PublicKey,
        _: &[u8],
        _: &[u8],
    ) -> Result<(), fedkit_xmldsig::crypto::BadSignature> {
        panic!("verify called although supports refused it")
    }
    fn load_private_key(
        &self,
        der: PrivateKeyDer<'_>,
    ) -> Result<std::sync::Arc<dyn fedkit_xmldsig::crypto::PrivateKey>, KeyError> {
        default_provider().load_private_key(der)
    }
    fn rsa_oaep_decrypt(
        &self,
        key: &DecryptionKey,
        digest: DigestAlgorithm,
        mgf1: DigestAlgorithm,
        label: Option<&[u8]>,
        ciphertext: &[u8],
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, CryptoError> {
        default_provider().rsa_oaep_decrypt(key, digest, mgf1, label, ciphertext)
    }
    fn rsa_pkcs1v15_decrypt(
        &self,
        key: &DecryptionKey,
        ciphertext: &[u8],
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, CryptoError> {
        default_provider().rsa_pkcs1v15_decrypt(key, ciphertext)
    }
    fn rsa_sign(&self, a: SignatureAlgorithm, key: &SigningKey, m: &[u8]) -> Result<Vec<u8>, CryptoError> {
        default_provider().rsa_sign(a, key, m)
    }
    fn ecdsa_sign(&self, a: SignatureAlgorithm, key: &SigningKey, m: &[u8]) -> Result<Vec<u8>, CryptoError> {
        default_provider().ecdsa_sign(a, key, m)
    }
    fn aes_gcm_decrypt(&self, key: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        default_provider().aes_gcm_decrypt(key, data)
    }
    fn aes_cbc_decrypt(&self, key: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        default_provider().aes_cbc_decrypt(key, data)
    }
    fn tdes_cbc_decrypt(&self, key: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        default_provider().tdes_cbc_decrypt(key, data)
    }
}

/// A verification the provider refuses is reported as that refusal (`crypto_unsupported`,
/// naming the provider and the operation), not as a bad signature, and `verify` is never
/// called for it.
#[test]
fn a_verification_the_provider_refuses_is_reported_by_name_not_as_a_bad_signature() {
    let key = SigningKey::from_pem(RSA_KEY).unwrap();
    let signed = sign::sign_enveloped(XML, "_1", None, &key, None, default_provider()).unwrap();
    assert!(verify(&signed, RSA_CERT, default_provider()));
    let doc = Document::parse(&signed).unwrap();
    let err = Verifier::new(
        TrustedKeys::from_pem(RSA_CERT).unwrap(),
        AlgorithmPolicy::default(),
    )
    .with_provider(&RefusesVerification)
    .verify_enveloped(&doc, doc.root_element())
    .unwrap_err();
    assert_eq!(
        err,
        fedkit_xmldsig::VerifyError::Crypto(CryptoError::Unsupported {
            provider: "refuses-verification",
            operation: Operation::Verify {
                algorithm: SignatureAlgorithm::RSA_SHA256,
                key: KeyType::Rsa { bits: 2048 },
            },
            delegate: None,
        })
    );
    assert_eq!(err.code(), "crypto_unsupported");
    assert!(err.to_string().contains("refuses-verification"), "{err}");
}

#[test]
fn keys_never_print_their_secret() {
    let key = SigningKey::from_pem(RSA_KEY).unwrap();
    let text = format!("{key:?}");
    assert!(
        text.contains("RSA-2048") && text.contains(default_provider().name()),
        "{text}"
    );
    let der = der_of(RSA_KEY);
    let shown = format!("{:?}", PrivateKeyDer::Pkcs8(&der));
    assert_eq!(shown, format!("PrivateKeyDer::Pkcs8({} bytes)", der.len()));
    let key = DecryptionKey::from_pem(RSA_KEY).unwrap();
    assert!(!format!("{key:?}").contains("MII"));
}

#[cfg(feature = "aws-lc-rs")]
mod aws_lc_rs {
    use super::*;
    use fedkit_xmldsig::crypto::{AwsLcRs, Strict};
    use fedkit_xmldsig::sign::SignError;

    #[test]
    fn supports_names_every_delegation_to_rustcrypto() {
        // Without the `rust-crypto` feature there is nothing to delegate to: refused.
        let rustcrypto = if cfg!(feature = "rust-crypto") {
            Support::Delegated { to: "rustcrypto" }
        } else {
            Support::Unsupported
        };
        let rsa = |bits| KeyType::Rsa { bits };
        for (operation, expected) in [
            (Operation::TripleDesCbcDecrypt, rustcrypto),
            (Operation::AesCbcDecrypt { key_bits: 192 }, Support::Native),
            (Operation::AesGcmDecrypt { key_bits: 256 }, Support::Native),
            (
                Operation::RsaOaepDecrypt {
                    digest: DigestAlgorithm::Sha256,
                    mgf1: DigestAlgorithm::Sha256,
                    bits: 2048,
                },
                Support::Native,
            ),
            (
                Operation::RsaOaepDecrypt {
                    digest: DigestAlgorithm::Sha256,
                    mgf1: DigestAlgorithm::Sha1,
                    bits: 2048,
                },
                rustcrypto,
            ),
            (
                Operation::RsaOaepDecrypt {
                    digest: DigestAlgorithm::Sha1,
                    mgf1: DigestAlgorithm::Sha1,
                    bits: 1024,
                },
                rustcrypto,
            ),
            (Operation::RsaPkcs1v15Decrypt { bits: 4096 }, Support::Native),
            (Operation::RsaPkcs1v15Decrypt { bits: 1024 }, rustcrypto),
            (Operation::LoadPrivateKey { key: rsa(3072) }, Support::Native),
            (Operation::LoadPrivateKey { key: rsa(1024) }, rustcrypto),
            (
                Operation::Sign {
                    algorithm: SignatureAlgorithm::ECDSA_SHA256,
                    key: KeyType::EcP256,
                },
                Support::Native,
            ),
            (
                Operation::Sign {
                    algorithm: SignatureAlgorithm::ECDSA_SHA512,
                    key: KeyType::EcP256,
                },
                rustcrypto,
            ),
            (
                Operation::Sign {
                    algorithm: SignatureAlgorithm::RSA_SHA256,
                    key: rsa(1024),
                },
                Support::Unsupported,
            ),
            (
                Operation::Sign {
                    algorithm: SignatureAlgorithm::ECDSA_SHA1,
                    key: KeyType::EcP256,
                },
                Support::Unsupported,
            ),
            (
                Operation::Verify {
                    algorithm: SignatureAlgorithm::RSA_SHA256,
                    key: rsa(2048),
                },
                Support::Native,
            ),
            (
                Operation::Verify {
                    algorithm: SignatureAlgorithm::RSA_SHA384,
                    key: rsa(1024),
                },
                rustcrypto,
            ),
            (
                Operation::Verify {
                    algorithm: SignatureAlgorithm::RSA_SHA256,
                    key: KeyType::EcP256,
                },
                Support::Unsupported,
            ),
        ] {
            assert_eq!(AwsLcRs.supports(operation), expected, "{operation}");
            // Strict keeps what is native, and verification; it refuses the rest.
            let strict = Strict(AwsLcRs).supports(operation);
            match (operation, expected) {
                (Operation::Verify { .. }, _) | (_, Support::Native) => assert_eq!(strict, expected),
                _ => assert_eq!(strict, Support::Unsupported, "{operation}"),
            }
        }
    }

    /// A fresh RSA key of `bits` bits, as PKCS#8 PEM.
    fn rsa_pem(bits: usize) -> String {
        use rsa::pkcs8::EncodePrivateKey as _;
        let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, bits).unwrap();
        pem_of("PRIVATE KEY", key.to_pkcs8_der().unwrap().as_bytes())
    }

    #[cfg(feature = "rust-crypto")]
    #[test]
    fn a_signature_aws_lc_cannot_make_is_refused_by_name_not_made_elsewhere() {
        let small = SigningKey::from_pem(&rsa_pem(1024)).unwrap();
        // RustCrypto signs with it...
        assert!(sign::sign_enveloped(XML, "_1", None, &small, None, &RustCrypto).is_ok());
        // ...AWS-LC does not, and says so (before: a misleading "cannot make RSA-SHA256").
        let err = sign::sign_enveloped(XML, "_1", None, &small, None, &AwsLcRs).unwrap_err();
        assert_eq!(
            err,
            SignError::Crypto(CryptoError::Unsupported {
                provider: "aws-lc-rs",
                operation: Operation::Sign {
                    algorithm: SignatureAlgorithm::RSA_SHA256,
                    key: KeyType::Rsa { bits: 1024 }
                },
                delegate: None,
            })
        );
        assert_eq!(err.code(), "crypto_unsupported");
        // ECDSA P-256 with SHA-512: delegated by AwsLcRs (and verifiable), refused by Strict.
        let p256 = SigningKey::from_pem_with(P256_KEY, &AwsLcRs).unwrap();
        let signed = sign::sign_enveloped_with(
            XML,
            "_1",
            None,
            &p256,
            None,
            SignatureAlgorithm::ECDSA_SHA512,
            &AwsLcRs,
        )
        .unwrap();
        assert!(verify(&signed, P256_CERT, &AwsLcRs));
        let err = sign::sign_enveloped_with(
            XML,
            "_1",
            None,
            &p256,
            None,
            SignatureAlgorithm::ECDSA_SHA512,
            &Strict(AwsLcRs),
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                SignError::Crypto(CryptoError::Unsupported {
                    provider: "aws-lc-rs",
                    delegate: Some("rustcrypto"),
                    ..
                })
            ),
            "{err:?}"
        );
        // The curve's own hash is AWS-LC's: Strict signs.
        let signed = sign::sign_enveloped(XML, "_1", None, &p256, None, &Strict(AwsLcRs)).unwrap();
        assert!(verify(&signed, P256_CERT, &RustCrypto));
    }

    #[cfg(feature = "rust-crypto")]
    #[test]
    fn strict_refuses_loading_a_key_aws_lc_cannot_hold() {
        let pem = rsa_pem(1024);
        assert_eq!(
            SigningKey::from_pem_with(&pem, &AwsLcRs).unwrap().provider(),
            "rustcrypto"
        );
        assert!(matches!(
            SigningKey::from_pem_with(&pem, &Strict(AwsLcRs)),
            Err(KeyError::Crypto(CryptoError::Unsupported {
                operation: Operation::LoadPrivateKey {
                    key: KeyType::Rsa { bits: 1024 }
                },
                delegate: Some("rustcrypto"),
                ..
            }))
        ));
        assert_eq!(
            SigningKey::from_pem_with(RSA_KEY, &Strict(AwsLcRs))
                .unwrap()
                .provider(),
            "aws-lc-rs"
        );
    }

    /// An aws-lc-only build (`default-features = false, features = ["aws-lc-rs"]`): what
    /// AWS-LC lacks is refused, naming the `rust-crypto` feature, never done elsewhere.
    #[cfg(not(feature = "rust-crypto"))]
    #[test]
    fn without_rust_crypto_what_aws_lc_lacks_is_refused_naming_the_feature() {
        assert_eq!(all_providers().len(), 1);
        let names_feature = |e: &dyn std::fmt::Display| {
            let message = e.to_string();
            assert!(
                message.contains("aws-lc-rs") && message.contains("`rust-crypto` feature is off"),
                "{message}"
            );
        };
        // A key AWS-LC cannot hold.
        let err = SigningKey::from_pem(&rsa_pem(1024)).unwrap_err();
        assert!(
            matches!(
                err,
                KeyError::Crypto(CryptoError::Unsupported {
                    provider: "aws-lc-rs",
                    operation: Operation::LoadPrivateKey {
                        key: KeyType::Rsa { bits: 1024 }
                    },
                    delegate: None,
                })
            ),
            "{err:?}"
        );
        assert_eq!(err.code(), "crypto_unsupported");
        names_feature(&err);
        // A signature AWS-LC does not make: ECDSA P-256 with SHA-512.
        let p256 = SigningKey::from_pem(P256_KEY).unwrap();
        let err = sign::sign_enveloped_with(
            XML,
            "_1",
            None,
            &p256,
            None,
            SignatureAlgorithm::ECDSA_SHA512,
            &AwsLcRs,
        )
        .unwrap_err();
        assert!(
            matches!(err, SignError::Crypto(CryptoError::Unsupported { .. })),
            "{err:?}"
        );
        names_feature(&err);
        // Triple-DES, at the provider: refused before any decryption.
        let err = AwsLcRs.tdes_cbc_decrypt(&[7; 24], &[0; 16]).unwrap_err();
        assert_eq!(
            err,
            CryptoError::Unsupported {
                provider: "aws-lc-rs",
                operation: Operation::TripleDesCbcDecrypt,
                delegate: None,
            }
        );
        names_feature(&err);
        // A verification AWS-LC does not do (RSA-1024 with SHA-384).
        let err = AwsLcRs
            .check(Operation::Verify {
                algorithm: SignatureAlgorithm::RSA_SHA384,
                key: KeyType::Rsa { bits: 1024 },
            })
            .unwrap_err();
        names_feature(&err);
        // What AWS-LC does is unaffected, and other refusals keep their own message.
        assert!(sign::sign_enveloped(XML, "_1", None, &p256, None, &AwsLcRs).is_ok());
        let err = AwsLcRs
            .check(Operation::AesGcmDecrypt { key_bits: 192 })
            .unwrap_err();
        assert!(!err.to_string().contains("rust-crypto"), "{err}");
    }
}
