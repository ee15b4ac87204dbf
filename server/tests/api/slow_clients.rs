//! Issue 7, item 4: slow and numerous clients against the real server over
//! raw sockets. Timeouts and caps are set small in the test config; the
//! defaults are 10 s and thousands.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{assert_error, sample_order, spawn_app_with, TestApp};

fn address(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_string()
}

/// Sends `head` at once, then `trickle` a byte every 200 ms, until the
/// server closes the connection; returns what it answered and how long the
/// trickle lasted. Panics if the server keeps it open for 8 s.
async fn trickle_until_closed(app: &TestApp, head: &str, trickle: &[u8]) -> (String, Duration) {
    let mut stream = TcpStream::connect(address(app)).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    for byte in trickle.iter().cycle() {
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "the slow connection stayed open"
        );
        let mut buf = [0u8; 4096];
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
        if stream.write_all(&[*byte]).await.is_err() {
            // Closed under us: read what was answered before.
            let _ = tokio::time::timeout(Duration::from_millis(500), stream.read_to_end(&mut answer)).await;
            break;
        }
    }
    (String::from_utf8_lossy(&answer).into_owned(), started.elapsed())
}

#[tokio::test]
async fn a_client_trickling_its_headers_is_closed_within_the_header_timeout() {
    let app = spawn_app_with(|c| c.limits.header_read_timeout = Duration::from_secs(1)).await;
    let (_, lasted) = trickle_until_closed(&app, "GET /healthz HTTP/1.1\r\nhost: x\r\n", b"x-slow: 1\r\n").await;
    assert!(lasted < Duration::from_secs(4), "closed only after {lasted:?}");
    // The server still serves others.
    let resp = app.get_path("/healthz").await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_client_trickling_its_body_gets_408_and_is_closed() {
    let app = spawn_app_with(|c| c.limits.body_read_timeout = Duration::from_secs(1)).await;
    let head = format!(
        "POST /v1/settlements HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n",
        app.merchant.secret_key
    );
    let (answer, lasted) = trickle_until_closed(&app, &head, b" ").await;
    assert!(lasted < Duration::from_secs(4), "closed only after {lasted:?}");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
    assert_eq!(app.count("settlements").await, 0);
}

#[tokio::test]
async fn connections_beyond_the_cap_get_503_server_busy() {
    let app = spawn_app_with(|c| c.limits.connections_max = 2).await;
    // Two idle connections take both slots (a keep-alive client would too).
    let held = [
        TcpStream::connect(address(&app)).await.unwrap(),
        TcpStream::connect(address(&app)).await.unwrap(),
    ];
    tokio::time::sleep(Duration::from_millis(200)).await;
    let resp = app.get_path("/healthz").await;
    let error = assert_error(resp, StatusCode::SERVICE_UNAVAILABLE, "server_busy").await;
    assert_eq!(error["type"], "api_error", "{error}");
    // Once they close, new clients are served again.
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let fresh = reqwest::Client::new();
        let status = fresh
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .unwrap()
            .status();
        if status == StatusCode::OK {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still {status} after the held connections closed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn long_polls_and_event_streams_beyond_their_caps_get_503() {
    let app = spawn_app_with(|c| {
        c.limits.long_polls_max = 1;
        c.limits.event_streams_max = 1;
    })
    .await;
    let created = app.create_settlement(&sample_order("busy-1")).await;
    let key = app.merchant.secret_key.clone();
    let waiting = {
        let (client, base, id, key) = (app.client.clone(), app.base.clone(), created.id.clone(), key.clone());
        tokio::spawn(async move {
            let url = format!("{base}/v1/settlements/{id}?wait=3");
            client.get(url).bearer_auth(key).send().await.unwrap().status()
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let resp = app.get_settlement_as(&key, &created.id, Some(3)).await;
    assert_error(resp, StatusCode::SERVICE_UNAVAILABLE, "server_busy").await;
    assert_eq!(waiting.await.unwrap(), StatusCode::OK);

    let stream_url = format!(
        "{}/v1/payer/settlements/{}/events?client_secret={}",
        app.base, created.id, created.client_secret
    );
    let first = app.client.get(&stream_url).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let second = app.client.get(&stream_url).send().await.unwrap();
    assert_error(second, StatusCode::SERVICE_UNAVAILABLE, "server_busy").await;
    drop(first);
    // The slot comes back when the stream's client goes away.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let again = app.client.get(&stream_url).send().await.unwrap();
        if again.status() == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "the event stream slot never came back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
