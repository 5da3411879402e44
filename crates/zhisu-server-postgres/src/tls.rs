//! TLS to PostgreSQL (rustls, already in the build through the tablets' HTTP client).
//!
//! The connection string's `sslmode` decides whether TLS is used: `disable` never, `prefer` (the
//! default) when the database offers it, `require` always. Whenever TLS is used the database's
//! certificate is checked — chain and host name — against the public certificate authorities
//! and, with `sslrootcert=FILE` in the URL (a PEM file, as libpq reads it), the CA certificates
//! in that file (a CDC's own CA). A certificate that does not check out stops the connection.

use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Makes a TLS connector for each connection the pool opens.
#[derive(Clone)]
pub struct RustlsConnect {
    config: Arc<rustls::ClientConfig>,
}

impl RustlsConnect {
    /// Trusts the public authorities and, when given, the CA certificates in a PEM file.
    pub fn new(root_pem_file: Option<&Path>) -> Result<Self, String> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(file) = root_pem_file {
            let pem = std::fs::read(file)
                .map_err(|e| format!("cannot read sslrootcert {}: {e}", file.display()))?;
            let mut found = 0;
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert = cert.map_err(|e| {
                    format!("sslrootcert {} is not a PEM file: {e}", file.display())
                })?;
                roots.add(cert).map_err(|e| {
                    format!(
                        "sslrootcert {} holds a bad certificate: {e}",
                        file.display()
                    )
                })?;
                found += 1;
            }
            if found == 0 {
                return Err(format!(
                    "sslrootcert {} holds no certificate",
                    file.display()
                ));
            }
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(RustlsConnect {
            config: Arc::new(config),
        })
    }
}

/// Splits `sslrootcert=FILE` (which the driver does not know) off a `postgres://` URL's query.
pub fn split_root_cert(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None);
    };
    let mut root = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.split_once('=') {
            Some(("sslrootcert", file)) => {
                root = Some(file.to_string());
                false
            }
            _ => true,
        })
        .collect();
    if rest.is_empty() {
        (base.to_string(), root)
    } else {
        (format!("{base}?{}", rest.join("&")), root)
    }
}

impl<S> MakeTlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnector;
    type Error = io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> io::Result<RustlsConnector> {
        let name = ServerName::try_from(domain.to_string()).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{domain} is not a host name for TLS: {e}"),
            )
        })?;
        Ok(RustlsConnector {
            config: Arc::clone(&self.config),
            name,
        })
    }
}

/// The TLS connector of one connection.
pub struct RustlsConnector {
    config: Arc<rustls::ClientConfig>,
    name: ServerName<'static>,
}

impl<S> TlsConnect<S> for RustlsConnector
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<RustlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            tokio_rustls::TlsConnector::from(self.config)
                .connect(self.name, stream)
                .await
                .map(RustlsStream)
        })
    }
}

/// A connection to PostgreSQL over TLS.
pub struct RustlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for RustlsStream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_certificate_is_taken_off_the_url() {
        assert_eq!(
            split_root_cert("postgres://z@h/d?sslmode=require&sslrootcert=/etc/zhisu/ca.pem"),
            (
                "postgres://z@h/d?sslmode=require".to_string(),
                Some("/etc/zhisu/ca.pem".to_string())
            )
        );
        assert_eq!(
            split_root_cert("postgres://z@h/d?sslrootcert=ca.pem"),
            ("postgres://z@h/d".to_string(), Some("ca.pem".to_string()))
        );
        assert_eq!(
            split_root_cert("postgres://z@h/d?sslmode=disable"),
            ("postgres://z@h/d?sslmode=disable".to_string(), None)
        );
    }

    #[test]
    fn a_root_file_without_certificates_is_refused() {
        let dir = std::env::temp_dir().join(format!("zhisu-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("empty.pem");
        std::fs::write(&file, "not a certificate\n").unwrap();
        let error = RustlsConnect::new(Some(&file)).err().unwrap();
        assert!(error.contains("holds no certificate"), "{error}");
        let missing = RustlsConnect::new(Some(&dir.join("missing.pem")))
            .err()
            .unwrap();
        assert!(missing.contains("cannot read sslrootcert"), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
