//! The service's own certificate authority: the server certificate, the workers' bindings, and
//! the TLS configuration that asks for them.
//!
//! A binding is a client certificate for one site and environment: subject CN `SITE.ENV`, OU
//! `runtime` (a PHP worker) or `build` (an Integrated Composer build runner), a random serial
//! number. The service does not trust the subject alone: at issue time it records the
//! certificate's SHA-256 fingerprint with the site, environment, kind and serial, and at request
//! time it looks the presented certificate up by fingerprint. That row is also what
//! `binding:revoke` marks; expiry and the CA chain are checked by rustls during the handshake.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
    IsCa, KeyPair, KeyUsagePurpose, SerialNumber,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use time::{Duration, OffsetDateTime};

use crate::crypto;
use crate::store::{DataDir, Store};

/// The subject OU of a PHP worker's binding.
pub const OU_RUNTIME: &str = "runtime";
/// The subject OU of a build runner's binding.
pub const OU_BUILD: &str = "build";

/// Why a certificate operation failed.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// Generating or signing.
    #[error("certificate: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// Reading or writing a file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A PEM file that holds no usable certificate or key.
    #[error("{path}: {message}")]
    Pem {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The TLS configuration.
    #[error("tls: {0}")]
    Tls(#[from] rustls::Error),
    /// The client verifier.
    #[error("tls client verifier: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
    /// Recording the binding.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> PkiError + '_ {
    move |source| PkiError::Io { path: path.display().to_string(), source }
}

/// Writes a file that must not exist yet with [`crate::private_file::create`] (mode 0600), then
/// gives it `mode` (0644 for a certificate, which is public).
fn write_new(path: &Path, contents: &str, mode: u32) -> Result<(), PkiError> {
    crate::private_file::create(path, contents.as_bytes()).map_err(io_err(path))?;
    if mode != crate::private_file::MODE {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(io_err(path))?;
    }
    Ok(())
}

/// The CA's parameters. They are rebuilt, not parsed back, to sign with the stored key: a
/// certificate's issuer is the CA's name and key, which these reproduce exactly.
fn ca_params() -> Result<CertificateParams, PkiError> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "pantheon-secrets");
    dn.push(DnType::CommonName, "pantheon-secrets CA");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(3650);
    Ok(params)
}

fn random_serial() -> (SerialNumber, String) {
    let mut bytes = crypto::random_bytes(16);
    // Positive, and without a leading zero byte, so it encodes in exactly 16 bytes.
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    let hex = crypto::to_hex(&bytes);
    (SerialNumber::from_slice(&bytes), hex)
}

/// Creates the CA and the server certificate (for localhost, 127.0.0.1, ::1 and `hostnames`).
pub fn init(dir: &DataDir, hostnames: &[String]) -> Result<(), PkiError> {
    let ca_key = KeyPair::generate()?;
    let ca = ca_params()?.self_signed(&ca_key)?;
    write_new(&dir.ca_key(), &ca_key.serialize_pem(), 0o600)?;
    write_new(&dir.ca_cert(), &ca.pem(), 0o644)?;

    let (cert, key) = server_certificate(&ca, &ca_key, hostnames, SERVER_CERT_DAYS)?;
    write_new(&dir.server_key(), &key, 0o600)?;
    write_new(&dir.server_cert(), &cert, 0o644)?;
    Ok(())
}

/// How long a server certificate is valid: 825 days, the most clients accept.
pub const SERVER_CERT_DAYS: i64 = 825;

/// The names every server certificate holds besides those the operator gives.
pub const DEFAULT_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// A new server key and certificate for [`DEFAULT_NAMES`] and `hostnames`, signed by the CA:
/// (certificate PEM, key PEM).
fn server_certificate(
    ca: &Certificate,
    ca_key: &KeyPair,
    hostnames: &[String],
    days: i64,
) -> Result<(String, zeroize::Zeroizing<String>), PkiError> {
    let mut names: Vec<String> = DEFAULT_NAMES.iter().map(|n| n.to_string()).collect();
    for name in hostnames {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    let mut params = CertificateParams::new(names)?;
    params.distinguished_name.push(DnType::CommonName, "pantheon-secrets server");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    params.serial_number = Some(random_serial().0);
    params.use_authority_key_identifier_extension = true;
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(days);
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, ca, ca_key)?;
    Ok((cert.pem(), zeroize::Zeroizing::new(key.serialize_pem())))
}

/// Replaces the server certificate and key with new ones for `hostnames` (and the defaults),
/// signed by the same CA, so every client that trusts `ca.pem` trusts the new one. Each file is
/// replaced atomically, the key first; a running server loads them on SIGHUP. Returns the new
/// certificate's expiry (RFC 3339).
pub fn renew_server(dir: &DataDir, hostnames: &[String], days: i64) -> Result<String, PkiError> {
    let (ca, ca_key) = load_ca(dir)?;
    let (cert, key) = server_certificate(&ca, &ca_key, hostnames, days)?;
    let key_path = dir.server_key();
    crate::private_file::write(&key_path, key.as_bytes()).map_err(io_err(&key_path))?;
    let cert_path = dir.server_cert();
    crate::private_file::write(&cert_path, cert.as_bytes()).map_err(io_err(&cert_path))?;
    let not_after = OffsetDateTime::now_utc() + Duration::days(days);
    Ok(not_after.format(&time::format_description::well_known::Rfc3339).unwrap_or_default())
}

fn load_ca(dir: &DataDir) -> Result<(Certificate, KeyPair), PkiError> {
    let path = dir.ca_key();
    let pem = zeroize::Zeroizing::new(fs::read_to_string(&path).map_err(io_err(&path))?);
    let key = KeyPair::from_pem(&pem)?;
    let ca = ca_params()?.self_signed(&key)?;
    Ok((ca, key))
}

/// An issued binding: the PEM (certificate then key) and its serial number.
pub struct IssuedBinding {
    /// Certificate and private key, PEM, in one file as PHP workers expect.
    pub pem: zeroize::Zeroizing<String>,
    /// The serial number, hex.
    pub serial: String,
    /// When it expires (RFC 3339).
    pub not_after: String,
}

/// Issues a binding for `site.env` valid for `valid_days` days from now (a negative number
/// gives an already expired certificate, which tests use) and records it.
pub fn issue_binding(
    dir: &DataDir,
    store: &Store,
    site: &str,
    env: &str,
    build: bool,
    valid_days: i64,
) -> Result<IssuedBinding, PkiError> {
    let (ca, ca_key) = load_ca(dir)?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "pantheon-secrets");
    dn.push(DnType::OrganizationalUnitName, if build { OU_BUILD } else { OU_RUNTIME });
    dn.push(DnType::CommonName, format!("{site}.{env}"));
    params.distinguished_name = dn;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.use_authority_key_identifier_extension = true;
    let (serial, serial_hex) = random_serial();
    params.serial_number = Some(serial);
    let now = OffsetDateTime::now_utc();
    let not_after = now + Duration::days(valid_days);
    params.not_before = now.min(not_after) - Duration::days(1);
    params.not_after = not_after;
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &ca, &ca_key)?;
    let fingerprint = crypto::sha256(cert.der());
    let not_after = not_after.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    store.record_binding(&serial_hex, &fingerprint, site, env, build, &not_after)?;
    let mut pem = zeroize::Zeroizing::new(cert.pem());
    pem.push_str(&key.serialize_pem());
    Ok(IssuedBinding { pem, serial: serial_hex, not_after })
}

/// Writes a binding PEM as a new 0600 file that replaces whatever is at `path` (a symlink there
/// is replaced, not followed).
pub fn write_binding(path: &Path, pem: &str) -> Result<(), PkiError> {
    crate::private_file::write(path, pem.as_bytes()).map_err(io_err(path))
}

/// The server's TLS configuration: its certificate, HTTP/2 and HTTP/1.1, and client
/// certificates verified against the service CA when offered. A connection without one is
/// accepted (the management API uses bearer tokens); the runtime API refuses it.
pub fn server_config(dir: &DataDir) -> Result<Arc<ServerConfig>, PkiError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let pem_err = |path: &Path, e: rustls::pki_types::pem::Error| PkiError::Pem {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let ca_path = dir.ca_cert();
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&ca_path).map_err(|e| pem_err(&ca_path, e))? {
        roots.add(cert.map_err(|e| pem_err(&ca_path, e))?)?;
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()?;
    let cert_path = dir.server_cert();
    let chain = CertificateDer::pem_file_iter(&cert_path)
        .map_err(|e| pem_err(&cert_path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_err(&cert_path, e))?;
    let key_path = dir.server_key();
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| pem_err(&key_path, e))?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_binding_subject_and_record() {
        let dir = std::env::temp_dir().join(format!("ps-pki-{}", crypto::to_hex(&crypto::random_bytes(6))));
        fs::create_dir_all(&dir).unwrap();
        let dir = DataDir(dir);
        let store = Store::create(&dir).unwrap();
        init(&dir, &[]).unwrap();
        store.create_site("s1", None, &[]).unwrap();
        let issued = issue_binding(&dir, &store, "s1", "dev", true, 30).unwrap();
        assert!(issued.pem.contains("BEGIN CERTIFICATE") && issued.pem.contains("BEGIN PRIVATE KEY"));
        let der = CertificateDer::from_pem_slice(issued.pem.as_bytes()).unwrap();
        let found = store.binding_by_fingerprint(&crypto::sha256(der.as_ref())).unwrap().unwrap();
        assert_eq!(
            (found.site.as_str(), found.env.as_str(), found.build, found.revoked),
            ("s1", "dev", true, false)
        );
        assert_eq!(found.serial, issued.serial);
        assert!(server_config(&dir).is_ok());
        fs::remove_dir_all(&dir.0).unwrap();
    }
}
