//! The checkout widget's files (PROTOCOL 10): the shop's page loads the
//! widget from the settling server with one module script tag, a CORS
//! request from the shop's origin. The server serves the copy built into
//! the binary, or a folder given with `--widget-dir`.
//!
//! Whether this build carries the widget depends on whether
//! `scripts/build-widget.sh` ran before it; the test of the embedded copy
//! checks whichever case it is in, and that the build did not miss a
//! widget that was there.

use std::path::Path;

use kessai_server::http::apps::{self, catalog::WIDGET};
use reqwest::StatusCode;

use crate::helpers::{assert_error, json_of, spawn_app, spawn_app_with, TestApp};

/// The files `scripts/build-widget.sh` writes, and their types.
const WIDGET_FILES: [(&str, &str); 3] = [
    ("kessai-checkout.js", "text/javascript"),
    ("kessai_checkout.js", "text/javascript"),
    ("kessai_checkout_bg.wasm", "application/wasm"),
];

async fn get(app: &TestApp, path: &str, if_none_match: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .get(format!("{}{path}", app.base))
        .header("Origin", "https://some-shop.example");
    if let Some(etag) = if_none_match {
        request = request.header("If-None-Match", etag);
    }
    request.send().await.unwrap()
}

fn header(resp: &reqwest::Response, name: &str) -> String {
    let value = resp.headers().get(name);
    let value = value.unwrap_or_else(|| panic!("no {name} header: {:?}", resp.headers()));
    value.to_str().unwrap().to_string()
}

/// `--widget-dir`: the folder's files, typed, tagged and readable from any
/// origin; a repeat with the ETag is 304.
#[tokio::test]
async fn widget_files_are_served_from_widget_dir_to_any_origin() {
    let app = spawn_app().await;
    let resp = get(&app, "/widget/kessai-checkout.js", None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "access-control-allow-origin"), "*");
    assert_eq!(header(&resp, "content-type"), "text/javascript");
    assert_eq!(header(&resp, "cache-control"), "public, max-age=300");
    let etag = header(&resp, "etag");
    assert_eq!(resp.text().await.unwrap(), "export const built = true;\n");

    let again = get(&app, "/widget/kessai-checkout.js", Some(&etag)).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&again, "etag"), etag);
    assert_eq!(header(&again, "access-control-allow-origin"), "*");
    assert!(again.bytes().await.unwrap().is_empty());

    // Another build of the file is another version.
    std::fs::write(app.dir.join("widget/kessai-checkout.js"), "export const built = 2;\n").unwrap();
    let changed = get(&app, "/widget/kessai-checkout.js", Some(&etag)).await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_ne!(header(&changed, "etag"), etag);

    assert_error(
        get(&app, "/widget/missing.js", None).await,
        StatusCode::NOT_FOUND,
        "widget_file_not_found",
    )
    .await;
    let (_, health) = json_of(app.get_path("/healthz").await).await;
    assert_eq!(health["browser_apps"]["widget"], "folder", "{health}");
}

/// Encoded `..` and backslashes reach the handler decoded; none of them may
/// leave the widget folder (the database sits right beside it here).
#[tokio::test]
async fn widget_paths_cannot_leave_the_widget_folder() {
    let app = spawn_app().await;
    assert!(app.dir.join("kessai.db").is_file());
    for path in [
        "/widget/..%2Fkessai.db",
        "/widget/..%2F..%2Fetc%2Fpasswd",
        "/widget/%2E%2E%2Fkessai.db",
        "/widget/..%5Ckessai.db",
        "/widget/%2Fetc%2Fpasswd",
        "/widget/.%2Fkessai-checkout.js",
    ] {
        assert_error(
            get(&app, path, None).await,
            StatusCode::NOT_FOUND,
            "widget_file_not_found",
        )
        .await;
    }
}

/// No `--widget-dir`: the copy built into the binary when the widget was
/// built first (`scripts/build-widget.sh`), else 404 `widget_not_built`.
#[tokio::test]
async fn without_widget_dir_the_widget_built_into_the_binary_is_served() {
    let app = spawn_app_with(|config| config.widget_dir = None).await;
    let embedded = apps::embedded(&WIDGET);
    let (_, health) = json_of(app.get_path("/healthz").await).await;
    if embedded.files.is_empty() {
        assert_no_widget_was_missed(embedded.searched);
        assert_eq!(health["browser_apps"]["widget"], "not_built", "{health}");
        for path in [
            "/widget/kessai-checkout.js",
            "/widget/kessai_checkout_bg.wasm",
            "/widget/",
        ] {
            let resp = get(&app, path, None).await;
            assert_eq!(header(&resp, "access-control-allow-origin"), "*");
            let error = assert_error(resp, StatusCode::NOT_FOUND, "widget_not_built").await;
            let message = error["message"].as_str().unwrap();
            assert!(
                message.contains("./scripts/build-widget.sh") && message.contains("--widget-dir"),
                "{message}"
            );
        }
        return;
    }
    assert_eq!(health["browser_apps"]["widget"], "embedded", "{health}");
    let built_dir = embedded
        .searched
        .iter()
        .find(|dir| Path::new(dir).join(WIDGET.entry).is_file());
    for (name, content_type) in WIDGET_FILES {
        let file = embedded.files.iter().find(|f| f.path == name);
        let file = file.unwrap_or_else(|| panic!("{name} is not embedded: {:?}", embedded.files));
        let resp = get(&app, &format!("/widget/{name}"), None).await;
        assert_eq!(resp.status(), StatusCode::OK, "{name}");
        assert_eq!(header(&resp, "content-type"), content_type, "{name}");
        assert_eq!(header(&resp, "access-control-allow-origin"), "*");
        assert_eq!(header(&resp, "cache-control"), "public, max-age=300");
        let etag = header(&resp, "etag");
        assert_eq!(etag, file.etag);
        let body = resp.bytes().await.unwrap();
        assert!(body.as_ref() == file.bytes, "{name}: the body is not the embedded file");
        // The embedded copy is the current build: a rebuilt widget was re-embedded.
        if let Some(dir) = built_dir {
            let on_disk = std::fs::read(Path::new(dir).join(name)).unwrap();
            assert!(
                on_disk == file.bytes,
                "{name} in {dir} differs from the copy in the binary"
            );
        }
        let again = get(&app, &format!("/widget/{name}"), Some(&etag)).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{name}");
    }
    assert_error(
        get(&app, "/widget/missing.js", None).await,
        StatusCode::NOT_FOUND,
        "widget_file_not_found",
    )
    .await;
}

/// A binary built without the widget must be one built when there was no
/// widget to embed: otherwise the build looked in the wrong place.
fn assert_no_widget_was_missed(searched: &[&str]) {
    assert!(!searched.is_empty(), "the build recorded no folder it looked in");
    for dir in searched {
        assert!(
            !Path::new(dir).join(WIDGET.entry).is_file(),
            "the widget is built in {dir}, but this binary carries none of it: was it built \
             without scripts/build-widget.sh (which touches server/build.rs so that cargo embeds \
             a first build)? `touch server/build.rs` and test again"
        );
    }
}

/// The device pages (`static/devices/`) are in the repository, so every
/// build carries them: each page and the script they share, typed so that
/// a browser runs them, and nothing outside the folder.
#[tokio::test]
async fn the_device_pages_are_built_into_the_binary() {
    let app = spawn_app().await;
    let (_, health) = json_of(app.get_path("/healthz").await).await;
    assert_eq!(health["browser_apps"]["devices"], "embedded", "{health}");
    for (path, content_type) in [
        ("/devices/", "text/html; charset=utf-8"),
        ("/devices/vending.html", "text/html; charset=utf-8"),
        ("/devices/gate.html", "text/html; charset=utf-8"),
        ("/devices/ticket.html", "text/html; charset=utf-8"),
        ("/devices/terminal.js", "text/javascript"),
        ("/devices/devices.css", "text/css"),
    ] {
        let resp = get(&app, path, None).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&resp, "content-type"), content_type, "{path}");
    }
    assert_error(
        get(&app, "/devices/nothing.html", None).await,
        StatusCode::NOT_FOUND,
        "devices_file_not_found",
    )
    .await;
}
