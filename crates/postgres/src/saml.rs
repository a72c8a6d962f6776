//! fedkit-saml's replay cache and request-ID store on PostgreSQL. (Being written.)
