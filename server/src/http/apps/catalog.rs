//! The browser apps the server carries, as one table: where each is served,
//! which folder its build script writes, and how its files are typed and
//! versioned. `server/build.rs` includes this file too (by path), so the
//! build that embeds the files and the server that serves them read the
//! same table. Only `std` here, for that reason.
//!
//! Adding an app (the terminal pages at `/pos/`, say) is one more row in [`APPS`], a build script writing
//! `target/<build_folder>`, and, for a `--…-dir` override, a line in
//! `apps::folder_override`.

/// One browser app: a folder of static files served under a URL prefix.
#[derive(Debug)]
pub struct BrowserApp {
    /// Short name, in `GET /healthz` and in the build's warnings.
    pub id: &'static str,
    /// What people call it, in messages.
    pub title: &'static str,
    /// Served at `{url_prefix}/FILE`; `{url_prefix}/` is its `index.html`.
    pub url_prefix: &'static str,
    /// The folder under the target directory that its build script writes,
    /// or, for an app without a build step, its folder in the workspace.
    pub build_folder: &'static str,
    /// Whether `build_folder` is in the workspace (the files are the
    /// sources, no build step) rather than under the target directory.
    pub in_workspace: bool,
    /// Names another build folder to embed (read by `build.rs`).
    pub build_dir_env: &'static str,
    /// How to build it, for messages.
    pub build_command: &'static str,
    /// The command line option that serves it from a folder instead.
    pub override_option: &'static str,
    /// The file a complete build always has: a folder without it is not
    /// embedded, so that a half-finished build is not served as if whole.
    pub entry: &'static str,
    /// 404 codes: the binary carries no build of it / no such file.
    pub not_built_code: &'static str,
    pub file_not_found_code: &'static str,
}

/// The checkout widget (PROTOCOL section 10), built by `scripts/build-widget.sh`.
pub const WIDGET: BrowserApp = BrowserApp {
    id: "widget",
    title: "checkout widget",
    url_prefix: "/widget",
    build_folder: "widget",
    in_workspace: false,
    build_dir_env: "KESSAI_WIDGET_BUILD_DIR",
    build_command: "./scripts/build-widget.sh",
    override_option: "--widget-dir",
    entry: "kessai-checkout.js",
    not_built_code: "widget_not_built",
    file_not_found_code: "widget_file_not_found",
};

/// The web wallet (PROTOCOL section 12), built with Trunk by
/// `scripts/build-wallet.sh`. Its files use relative URLs, so `/wallet/`
/// (its `index.html`) loads the rest from beside it.
pub const WALLET: BrowserApp = BrowserApp {
    id: "wallet",
    title: "web wallet",
    url_prefix: "/wallet",
    build_folder: "wallet",
    in_workspace: false,
    build_dir_env: "KESSAI_WALLET_BUILD_DIR",
    build_command: "./scripts/build-wallet.sh",
    override_option: "--wallet-dir",
    entry: "index.html",
    not_built_code: "wallet_not_built",
    file_not_found_code: "wallet_file_not_found",
};

/// The POS terminal (PROTOCOL section 13), built with Trunk by
/// `scripts/build-pos.sh`: a clerk's billing terminal at `/pos/`, relative
/// URLs like the wallet's.
pub const POS: BrowserApp = BrowserApp {
    id: "pos",
    title: "POS terminal",
    url_prefix: "/pos",
    build_folder: "pos",
    in_workspace: false,
    build_dir_env: "KESSAI_POS_BUILD_DIR",
    build_command: "./scripts/build-pos.sh",
    override_option: "--pos-dir",
    entry: "index.html",
    not_built_code: "pos_not_built",
    file_not_found_code: "pos_file_not_found",
};

/// The device pages (PROTOCOL 13, "Devices"): a vending machine, a gate
/// and a ticket machine and entrance, plain HTML, CSS and JavaScript kept
/// in `static/devices/` and embedded as they are (no build step).
pub const DEVICES: BrowserApp = BrowserApp {
    id: "devices",
    title: "device pages",
    url_prefix: "/devices",
    build_folder: "static/devices",
    in_workspace: true,
    build_dir_env: "KESSAI_DEVICES_BUILD_DIR",
    build_command: "nothing (static/devices/ is in the repository; rebuild kessai)",
    override_option: "--devices-dir",
    entry: "index.html",
    not_built_code: "devices_not_built",
    file_not_found_code: "devices_file_not_found",
};

/// Every browser app, in the order they are embedded and routed.
pub const APPS: &[&BrowserApp] = &[&WIDGET, &WALLET, &POS, &DEVICES];

/// The Content-Type of a file, from its extension. Browsers refuse module
/// scripts without a JavaScript type and compile wasm in a streaming way
/// only when it is `application/wasm`.
pub fn content_type(path: &str) -> &'static str {
    let extension = path.rsplit_once('.').map(|(_, ext)| ext).unwrap_or("");
    match extension.to_ascii_lowercase().as_str() {
        "js" | "mjs" => "text/javascript",
        "wasm" => "application/wasm",
        "html" => "text/html; charset=utf-8",
        "css" => "text/css",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// A strong ETag for a file's bytes: its length and 64-bit FNV-1a hash.
/// Not a security measure, only a validator; computed without a hashing
/// crate so that the build script needs no dependencies.
pub fn etag(bytes: &[u8]) -> String {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let hash = bytes
        .iter()
        .fold(OFFSET_BASIS, |hash, &byte| (hash ^ u64::from(byte)).wrapping_mul(PRIME));
    format!("\"{:x}-{hash:016x}\"", bytes.len())
}
