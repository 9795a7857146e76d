//! Shared set-up for the workload's integration tests: an in-process
//! sandbox, SDK configuration pointing at it, a KMS key, and a minimal
//! HTTP/1.1 client for tests that talk to a real listener.
#![allow(dead_code)] // Each test binary uses a different part of this module.

use std::net::SocketAddr;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use keywatch_sandbox::{RunningSandbox, Sandbox, SandboxConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const REGION: &str = "ap-southeast-2";
pub const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
pub const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// Starts an in-memory sandbox on a free loopback port.
pub async fn start_sandbox() -> RunningSandbox {
    Sandbox::new(SandboxConfig::default())
        .expect("sandbox")
        .start("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("sandbox listening")
}

/// SDK configuration for the sandbox at `endpoint_url` (it accepts any
/// credentials).
pub fn sdk_config(endpoint_url: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint_url)
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            ACCESS_KEY, SECRET_KEY, None, None, "test",
        )))
        .build()
}

/// Creates a KMS key and returns its id.
pub async fn create_key(sdk: &SdkConfig) -> String {
    let kms = aws_sdk_kms::Client::new(sdk);
    let created = kms.create_key().send().await.expect("CreateKey");
    created.key_metadata().map(|metadata| metadata.key_id().to_owned()).expect("key id")
}

/// Sends one request over a fresh connection and returns the status code and
/// body.
pub async fn http(addr: SocketAddr, method: &str, path: &str, json: Option<&str>) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let body = json.unwrap_or_default();
    let content_type = if json.is_some() { "Content-Type: application/json\r\n" } else { "" };
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{content_type}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    let (head, body) = response.split_once("\r\n\r\n").expect("HTTP response");
    let status = head.split(' ').nth(1).and_then(|code| code.parse().ok()).expect("status code");
    // The workload's bodies are small and sent whole, so no chunked
    // encoding needs undoing beyond what axum does for fixed bodies.
    (status, body.to_owned())
}
