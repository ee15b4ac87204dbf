//! The browser apps' files (PROTOCOL section 10): the shop's page loads
//! `/widget/kessai-checkout.js` with one script tag, and that loader fetches
//! the rest of the widget beside it.
//!
//! The files are embedded in the binary when it is built (`server/build.rs`
//! after `./scripts/build-widget.sh`), so one `kessai` serves everything; a
//! binary built without them answers 404 `widget_not_built`. `--widget-dir`
//! serves a folder instead, to try a new build without rebuilding the server.
//!
//! Module scripts and the wasm they fetch are CORS requests from the shop's
//! origin, and the files are public, so every origin may read them.

/// The table of browser apps, shared with the build script.
pub mod catalog;

use std::borrow::Cow;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use kessai_core::Error;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::config::Config;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use catalog::BrowserApp;

/// One file carried in the binary.
#[derive(Debug)]
pub struct EmbeddedFile {
    /// Relative to the app's URL prefix, `/`-separated: `kessai-checkout.js`.
    pub path: &'static str,
    pub content_type: &'static str,
    /// Computed when the binary was built ([`catalog::etag`]), quoted.
    pub etag: &'static str,
    pub bytes: &'static [u8],
}

/// One app's row of the generated table.
#[derive(Debug)]
pub struct EmbeddedApp {
    pub id: &'static str,
    /// The folders the build looked in, first match wins (for diagnostics
    /// and for the tests, which check that a built app was not missed).
    pub searched: &'static [&'static str],
    pub files: &'static [EmbeddedFile],
}

include!(concat!(env!("OUT_DIR"), "/embedded_apps.rs"));

/// Cached briefly: a redeployed app reaches shops within minutes, and the
/// ETag makes the revalidation after that cheap.
const CACHE_CONTROL: &str = "public, max-age=300";
/// Bounds on a requested path, well above any real file's.
const PATH_LEN_MAX: usize = 256;
const SEGMENTS_MAX: usize = 8;

/// What this binary carries of `app`: its files, or nothing when it was
/// built without them.
pub fn embedded(app: &BrowserApp) -> &'static EmbeddedApp {
    static NONE: EmbeddedApp = EmbeddedApp {
        id: "",
        searched: &[],
        files: &[],
    };
    EMBEDDED.iter().find(|row| row.id == app.id).unwrap_or(&NONE)
}

/// Where one app's files come from in this server.
#[derive(Debug, Clone)]
pub enum Source {
    Embedded(&'static [EmbeddedFile]),
    Folder(Arc<PathBuf>),
    NotBuilt,
}

impl Source {
    /// How `GET /healthz` names it.
    pub fn name(&self) -> &'static str {
        match self {
            Source::Embedded(_) => "embedded",
            Source::Folder(_) => "folder",
            Source::NotBuilt => "not_built",
        }
    }
}

/// The folder given on the command line for `app`, which wins over the
/// embedded copy.
fn folder_override(config: &Config, app: &BrowserApp) -> Option<PathBuf> {
    if app.id == catalog::WIDGET.id {
        return config.widget_dir.clone();
    }
    if app.id == catalog::WALLET.id {
        return config.wallet_dir.clone();
    }
    if app.id == catalog::POS.id {
        return config.pos_dir.clone();
    }
    if app.id == catalog::DEVICES.id {
        return config.devices_dir.clone();
    }
    None
}

/// Where `app`'s files come from with this configuration.
pub fn source(config: &Config, app: &BrowserApp) -> Source {
    if let Some(dir) = folder_override(config, app) {
        return Source::Folder(Arc::new(dir));
    }
    match embedded(app).files {
        [] => Source::NotBuilt,
        files => Source::Embedded(files),
    }
}

/// `GET {prefix}/` and `GET {prefix}/{*file}` for every app.
pub fn router(config: &Config) -> Router<AppState> {
    let mut router = Router::new();
    for &app in catalog::APPS {
        let source = source(config, app);
        match &source {
            Source::NotBuilt => tracing::warn!(
                "{} not built into this binary: {}/ answers 404 {}",
                app.title,
                app.url_prefix,
                app.not_built_code
            ),
            other => tracing::debug!("{} served from {}", app.title, other.name()),
        }
        let index_source = source.clone();
        let index = move |headers: HeaderMap| async move { serve(app, &index_source, "", &headers).await };
        let file = move |file: Result<Path<String>, PathRejection>, headers: HeaderMap| async move {
            // A path axum cannot decode (not UTF-8) names no file.
            let Path(file) = file.map_err(|_| not_found(app))?;
            Ok::<_, ApiError>(serve(app, &source, &file, &headers).await)
        };
        router = router
            .route(&format!("{}/", app.url_prefix), get(index))
            .route(&format!("{}/{{*file}}", app.url_prefix), get(file));
    }
    router.layer(SetResponseHeaderLayer::overriding(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    ))
}

/// A file found, from the binary or from a folder.
struct Found {
    bytes: Body,
    content_type: &'static str,
    etag: Cow<'static, str>,
}

async fn serve(app: &'static BrowserApp, source: &Source, requested: &str, headers: &HeaderMap) -> Response {
    let Some(path) = file_path(requested) else {
        return not_found(app).into_response();
    };
    let found = match source {
        Source::NotBuilt => return not_built(app).into_response(),
        Source::Embedded(files) => files.iter().find(|file| file.path == path).map(|file| Found {
            bytes: Body::from(file.bytes),
            content_type: file.content_type,
            etag: Cow::Borrowed(file.etag),
        }),
        Source::Folder(dir) => match read_file(dir, &path).await {
            Ok(found) => found,
            Err(e) => return e.into_response(),
        },
    };
    match found {
        Some(found) => file_response(found, headers),
        None => not_found(app).into_response(),
    }
}

/// Reads `path` (already checked by [`file_path`]) under `dir`; None when
/// there is no such file.
async fn read_file(dir: &FsPath, path: &str) -> Result<Option<Found>, ApiError> {
    let full = dir.join(path);
    match tokio::fs::read(&full).await {
        Ok(bytes) => Ok(Some(Found {
            content_type: catalog::content_type(path),
            etag: Cow::Owned(catalog::etag(&bytes)),
            bytes: Body::from(bytes),
        })),
        // A folder where a file was asked for is no file either.
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::IsADirectory
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(ApiError(Error::internal(format!("reading {}: {e}", full.display())))),
    }
}

/// 200 with the file, or 304 when the browser's copy is current.
fn file_response(found: Found, request: &HeaderMap) -> Response {
    let mut response = if etag_matches(request, &found.etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = found.bytes.into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(found.content_type));
        response
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL));
    // The ETag is ours (quoted hex), always a valid header value.
    if let Ok(etag) = HeaderValue::from_str(&found.etag) {
        headers.insert(header::ETAG, etag);
    }
    response
}

/// Whether `If-None-Match` names `etag` (weak comparison, RFC 9110 13.1.2).
fn etag_matches(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// The file a request names, relative to the app's folder, or None when it
/// could reach outside it: `..`, `.`, empty segments (a leading `/`),
/// backslashes, drive letters, NUL. Hidden names are refused too (they are
/// never embedded). A folder (`""`, `x/`) means its `index.html`.
pub fn file_path(requested: &str) -> Option<String> {
    let path = if requested.is_empty() || requested.ends_with('/') {
        format!("{requested}index.html")
    } else {
        requested.to_string()
    };
    let segments_ok = path
        .split('/')
        .all(|segment| !segment.is_empty() && !segment.starts_with('.') && !segment.contains(['\\', ':', '\0']));
    let bounded = path.len() <= PATH_LEN_MAX && path.split('/').count() <= SEGMENTS_MAX;
    (segments_ok && bounded).then_some(path)
}

fn not_found(app: &BrowserApp) -> ApiError {
    ApiError(Error::not_found(
        app.file_not_found_code,
        format!("No such {} file.", app.title),
    ))
}

fn not_built(app: &BrowserApp) -> ApiError {
    ApiError(Error::not_found(
        app.not_built_code,
        format!(
            "This server was built without the {title}: run {command} and rebuild kessai, \
             or start kessai serve with {option} DIR (a folder {command} wrote).",
            title = app.title,
            command = app.build_command,
            option = app.override_option,
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_path_keeps_names_inside_the_folder() {
        assert_eq!(file_path("kessai-checkout.js").as_deref(), Some("kessai-checkout.js"));
        assert_eq!(file_path("assets/app.css").as_deref(), Some("assets/app.css"));
        assert_eq!(file_path("").as_deref(), Some("index.html"));
        assert_eq!(file_path("pages/").as_deref(), Some("pages/index.html"));
        for outside in [
            "..",
            "../Cargo.toml",
            "a/../../etc/passwd",
            "./kessai-checkout.js",
            "a/./b.js",
            "/etc/passwd",
            "a//b.js",
            "..\\windows\\win.ini",
            "a\\b.js",
            "C:/windows/win.ini",
            "c:x.js",
            "x\0.js",
            ".env",
            "a/.git/config",
        ] {
            assert_eq!(file_path(outside), None, "{outside:?} must be refused");
        }
        assert_eq!(file_path(&"a".repeat(PATH_LEN_MAX + 1)), None);
        assert_eq!(file_path(&"a/".repeat(SEGMENTS_MAX)), None);
    }

    #[test]
    fn content_types_are_what_browsers_require() {
        assert_eq!(catalog::content_type("kessai-checkout.js"), "text/javascript");
        assert_eq!(catalog::content_type("kessai_checkout.js"), "text/javascript");
        assert_eq!(catalog::content_type("kessai_checkout_bg.wasm"), "application/wasm");
        assert_eq!(catalog::content_type("APP.JS"), "text/javascript");
        assert_eq!(catalog::content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(catalog::content_type("README"), "application/octet-stream");
    }

    #[test]
    fn etags_change_with_the_bytes_and_match_weakly() {
        let etag = catalog::etag(b"export const built = true;\n");
        assert_eq!(etag, catalog::etag(b"export const built = true;\n"));
        assert_ne!(etag, catalog::etag(b"export const built = false;\n"));
        assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
        let mut headers = HeaderMap::new();
        assert!(!etag_matches(&headers, &etag));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"other\""));
        assert!(!etag_matches(&headers, &etag));
        let listed = format!("\"other\", W/{etag}");
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_str(&listed).expect("header"));
        assert!(etag_matches(&headers, &etag));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(etag_matches(&headers, &etag));
    }

    /// The generated table agrees with the catalogue: files only for known
    /// apps, each under a safe name with the catalogue's type and its ETag.
    #[test]
    fn embedded_files_are_typed_and_tagged_like_served_ones() {
        for row in EMBEDDED {
            let app = catalog::APPS.iter().find(|app| app.id == row.id);
            let app = app.unwrap_or_else(|| panic!("no app {:?} in the catalogue", row.id));
            if !row.files.is_empty() {
                assert!(
                    row.files.iter().any(|f| f.path == app.entry),
                    "{} lacks {}",
                    row.id,
                    app.entry
                );
            }
            for file in row.files {
                assert_eq!(file_path(file.path).as_deref(), Some(file.path));
                assert_eq!(file.content_type, catalog::content_type(file.path));
                assert_eq!(file.etag, catalog::etag(file.bytes));
            }
        }
    }
}
