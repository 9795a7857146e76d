//! The sandbox's Host allow-list and its own URL (issue 15): a request for
//! another name is refused before anything runs, and queue URLs and SNS
//! links come from the listen address whatever Host a client sends (seen:
//! one request made every queue URL point at `poisoned.invalid`).

mod support;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A raw SQS CreateQueue (AWS JSON 1.0) sent with `host`; status line and body.
async fn create_queue(addr: std::net::SocketAddr, host: &str, name: &str) -> (String, String) {
    let body = format!("{{\"QueueName\":\"{name}\"}}");
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-amz-json-1.0\r\n\
         X-Amz-Target: AmazonSQS.CreateQueue\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261207/ap-southeast-2/sqs/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.lines().next().unwrap_or_default().to_owned();
    let body = text.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    (status, body)
}

#[tokio::test]
async fn other_hosts_are_refused_and_urls_come_from_the_listen_address() {
    let sandbox = support::start_sandbox().await;
    let addr = sandbox.local_addr;

    let (status, body) = create_queue(addr, "poisoned.invalid", "poison").await;
    assert!(status.contains(" 421 "), "{status} {body}");
    assert!(body.contains("--allowed-host poisoned.invalid"), "{body}");

    // `localhost` is one of the sandbox's names, but the queue URL is still its listen address.
    let (status, body) = create_queue(addr, &format!("localhost:{}", addr.port()), "lab-queue").await;
    assert!(status.contains(" 200 "), "{status} {body}");
    assert!(body.contains(&format!("http://127.0.0.1:{}/", addr.port())), "{body}");

    // Through the SDK: nothing was created under the poisoned name, and URLs are the sandbox's.
    let sqs = aws_sdk_sqs::Client::new(&support::sdk_config(&sandbox.endpoint_url, "ap-southeast-2"));
    let listed = sqs.list_queues().send().await.expect("ListQueues");
    let urls = listed.queue_urls();
    assert_eq!(urls.len(), 1, "{urls:?}");
    assert!(urls.iter().all(|url| url.starts_with(&sandbox.endpoint_url)), "{urls:?}");
}

// S3's virtual-hosted names are the sandbox's own (documented in the README).
#[tokio::test]
async fn s3_virtual_hosted_bucket_names_are_accepted() {
    let sandbox = support::start_sandbox().await;
    let request = "GET / HTTP/1.1\r\nHost: lab-bucket.s3.ap-southeast-2.amazonaws.com\r\nConnection: close\r\n\r\n";
    let mut stream = tokio::net::TcpStream::connect(sandbox.local_addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let text = String::from_utf8_lossy(&response);
    assert!(!text.starts_with("HTTP/1.1 421"), "{text}");
}
