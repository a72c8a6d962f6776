//! The crypto providers on the xmlsec1-made encrypted fixtures (issue 20, item 5): every
//! provider, with the SP key loaded by every provider, decrypts them to the same plaintext;
//! `Strict(AwsLcRs)` refuses, with a typed error naming itself and the operation, exactly
//! what aws-lc-rs would hand to RustCrypto, and refuses it before decrypting anything. In an
//! aws-lc-only build (no `rust-crypto` feature) aws-lc-rs refuses the same operations itself,
//! naming the feature.
#![allow(clippy::unwrap_used, clippy::panic)]

use fedkit_xmldsig::crypto::{all_providers, CryptoProvider};
use fedkit_xmldsig::xmlenc::{self, DecryptionPolicy, XmlEncError, XENC_NS};
use fedkit_xmldsig::{DecryptionKey, Document};

const SP_KEY: &str = include_str!("data/keys/sp.key.pem");
const SP_1024_KEY: &str = include_str!("data/keys/sp-1024.key.pem");

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/data/signed/{name}.xml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// Decrypts the fixture's `EncryptedData` (with the `EncryptedKey`s beside it as candidates).
fn decrypt(
    name: &str,
    provider: &dyn CryptoProvider,
    key: &DecryptionKey,
    policy: &DecryptionPolicy,
) -> Result<xmlenc::Decrypted, XmlEncError> {
    let text = fixture(name);
    let doc = Document::parse(&text).unwrap();
    let data = doc
        .root_element()
        .descendants()
        .find(|n| n.has_tag_name((XENC_NS, "EncryptedData")))
        .unwrap();
    let candidates: Vec<_> = data
        .parent()
        .unwrap()
        .children()
        .filter(|n| n.has_tag_name((XENC_NS, "EncryptedKey")))
        .collect();
    xmlenc::decrypt_with_algorithm(provider, data, &candidates, key, policy)
}

/// Whether `err` is aws-lc-rs refusing, in a build without the `rust-crypto` feature, what it
/// would otherwise delegate to RustCrypto (never true in a build with RustCrypto).
fn refused_without_rust_crypto(err: &dyn std::error::Error) -> bool {
    let message = err.to_string();
    let refused = message.contains("aws-lc-rs") && message.contains("`rust-crypto` feature is off");
    assert!(!refused || cfg!(not(feature = "rust-crypto")), "{message}");
    refused
}

fn cases() -> Vec<(&'static str, &'static str, usize, DecryptionPolicy)> {
    vec![
        ("encrypted-gcm", SP_KEY, 2048, DecryptionPolicy::default()),
        ("encrypted-cbc", SP_KEY, 2048, DecryptionPolicy::default()),
        ("encrypted-3des", SP_KEY, 2048, DecryptionPolicy::default()),
        (
            "encrypted-rsa-1_5",
            SP_KEY,
            2048,
            DecryptionPolicy::default().dangerous_allow_rsa_pkcs1v15(),
        ),
        (
            "encrypted-to-1024-bit-sp",
            SP_1024_KEY,
            1024,
            DecryptionPolicy::default(),
        ),
    ]
}

#[test]
fn every_provider_decrypts_the_xmlsec1_fixtures_identically_whoever_loaded_the_key() {
    for (name, pem, bits, policy) in cases() {
        let mut plaintexts = Vec::new();
        for loader in all_providers() {
            let key = match DecryptionKey::from_pem_dangerous_min_rsa_bits_with(pem, bits, loader) {
                Err(e) if refused_without_rust_crypto(&e) => continue,
                key => key.unwrap(),
            };
            assert_eq!(key.bits(), bits);
            for provider in all_providers() {
                let decrypted = match decrypt(name, provider, &key, &policy) {
                    Err(e) if refused_without_rust_crypto(&e) => continue,
                    Err(e) => panic!("{name}, loaded by {}, {}: {e}", loader.name(), provider.name()),
                    Ok(d) => d,
                };
                assert!(
                    String::from_utf8_lossy(&decrypted.plaintext).contains("jane.doe@example.com"),
                    "{name}"
                );
                plaintexts.push(decrypted.plaintext);
            }
        }
        assert!(plaintexts.windows(2).all(|w| w[0] == w[1]), "{name}");
    }
}

#[test]
fn the_wrong_sp_key_fails_alike_under_every_provider() {
    let other = include_str!("data/keys/other.key.pem");
    for loader in all_providers() {
        let key = DecryptionKey::from_pem_with(other, loader).unwrap();
        for provider in all_providers() {
            for name in ["encrypted-gcm", "encrypted-cbc", "encrypted-3des"] {
                let result = decrypt(name, provider, &key, &DecryptionPolicy::default());
                if let Err(e) = &result {
                    if refused_without_rust_crypto(e) {
                        continue;
                    }
                }
                assert_eq!(
                    result,
                    Err(XmlEncError::DecryptionFailed),
                    "{name} {}",
                    provider.name()
                );
            }
        }
    }
}

#[cfg(all(feature = "aws-lc-rs", feature = "rust-crypto"))]
#[test]
fn strict_aws_lc_rs_refuses_the_delegated_operations_by_name_before_decrypting() {
    use fedkit_xmldsig::crypto::{AwsLcRs, CryptoError, Operation, Strict};
    use fedkit_xmldsig::KeyError;
    let strict = Strict(AwsLcRs);
    let key = DecryptionKey::from_pem_with(SP_KEY, &strict).unwrap();
    assert_eq!(key.provider(), "aws-lc-rs");
    // What AWS-LC does itself still works.
    for (name, policy) in [
        ("encrypted-gcm", DecryptionPolicy::default()),
        ("encrypted-cbc", DecryptionPolicy::default()),
        (
            "encrypted-rsa-1_5",
            DecryptionPolicy::default().dangerous_allow_rsa_pkcs1v15(),
        ),
    ] {
        assert!(decrypt(name, &strict, &key, &policy).is_ok(), "{name}");
    }
    // Triple-DES: aws-lc-rs would hand it to RustCrypto's `des`.
    let err = decrypt("encrypted-3des", &strict, &key, &DecryptionPolicy::default()).unwrap_err();
    let XmlEncError::Provider(crypto) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        *crypto,
        CryptoError::Unsupported {
            provider: "aws-lc-rs",
            operation: Operation::TripleDesCbcDecrypt,
            delegate: Some("rustcrypto"),
        }
    );
    assert_eq!(crypto.code(), "crypto_unsupported");
    let message = err.to_string();
    for needle in ["aws-lc-rs", "Triple-DES CBC", "rustcrypto", "Strict"] {
        assert!(message.contains(needle), "{needle}: {message}");
    }
    // Refused before any decryption: the same answer with a key that cannot decrypt it.
    let other = DecryptionKey::from_pem_with(include_str!("data/keys/other.key.pem"), &strict).unwrap();
    assert_eq!(
        decrypt("encrypted-3des", &strict, &other, &DecryptionPolicy::default()),
        Err(err)
    );
    // A 1024-bit SP key cannot be an AWS-LC key: refused when loaded...
    let refused =
        DecryptionKey::from_pem_dangerous_min_rsa_bits_with(SP_1024_KEY, 1024, &strict).unwrap_err();
    assert_eq!(
        refused,
        KeyError::Crypto(CryptoError::Unsupported {
            provider: "aws-lc-rs",
            operation: Operation::LoadPrivateKey {
                key: fedkit_xmldsig::key::KeyType::Rsa { bits: 1024 }
            },
            delegate: Some("rustcrypto"),
        })
    );
    // ...and, loaded by RustCrypto, refused for decryption (RSA-OAEP would run in `rsa`).
    let small = DecryptionKey::from_pem_dangerous_min_rsa_bits(SP_1024_KEY, 1024).unwrap();
    assert!(matches!(
        decrypt(
            "encrypted-to-1024-bit-sp",
            &strict,
            &small,
            &DecryptionPolicy::default()
        ),
        Err(XmlEncError::Provider(CryptoError::Unsupported {
            operation: Operation::RsaOaepDecrypt { bits: 1024, .. },
            delegate: Some("rustcrypto"),
            ..
        }))
    ));
    // Without Strict, aws-lc-rs delegates these, and says so.
    use fedkit_xmldsig::crypto::Support;
    assert_eq!(
        AwsLcRs.supports(Operation::TripleDesCbcDecrypt),
        Support::Delegated { to: "rustcrypto" }
    );
    assert_eq!(
        DecryptionKey::from_pem_dangerous_min_rsa_bits_with(SP_1024_KEY, 1024, &AwsLcRs)
            .unwrap()
            .provider(),
        "rustcrypto"
    );
}

/// An aws-lc-only build: what aws-lc-rs would delegate is refused by aws-lc-rs itself, by
/// name and before decrypting anything, and the message names the `rust-crypto` feature.
#[cfg(not(feature = "rust-crypto"))]
#[test]
fn without_rust_crypto_aws_lc_rs_refuses_what_it_would_delegate_naming_the_feature() {
    use fedkit_xmldsig::crypto::{AwsLcRs, CryptoError, Operation};
    let key = DecryptionKey::from_pem(SP_KEY).unwrap();
    assert_eq!(key.provider(), "aws-lc-rs");
    let err = decrypt("encrypted-3des", &AwsLcRs, &key, &DecryptionPolicy::default()).unwrap_err();
    assert_eq!(
        err,
        XmlEncError::Provider(CryptoError::Unsupported {
            provider: "aws-lc-rs",
            operation: Operation::TripleDesCbcDecrypt,
            delegate: None,
        })
    );
    assert_eq!(err.code(), "crypto_unsupported");
    assert!(refused_without_rust_crypto(&err), "{err}");
    // Refused before any decryption: the same answer with a key that cannot decrypt it.
    let other = DecryptionKey::from_pem(include_str!("data/keys/other.key.pem")).unwrap();
    assert_eq!(
        decrypt("encrypted-3des", &AwsLcRs, &other, &DecryptionPolicy::default()),
        Err(err)
    );
    // A 1024-bit SP key: refused for its size by default, by name when opted in.
    let err = DecryptionKey::from_pem_dangerous_min_rsa_bits(SP_1024_KEY, 1024).unwrap_err();
    assert_eq!(err.code(), "crypto_unsupported");
    assert!(refused_without_rust_crypto(&err), "{err}");
    // What AWS-LC does itself works.
    for name in ["encrypted-gcm", "encrypted-cbc"] {
        assert!(
            decrypt(name, &AwsLcRs, &key, &DecryptionPolicy::default()).is_ok(),
            "{name}"
        );
    }
}
