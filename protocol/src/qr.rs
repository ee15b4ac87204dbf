//! Any text as a QR code (feature `qr`): its module matrix, and an SVG that
//! a phone camera reads off a screen. [`crate::emv`] draws its payloads with
//! it after checking them; the web wallet draws the tickets it holds.

use core::fmt::Write as _;

use qrcode::{Color, EcLevel, QrCode};

use crate::FieldError;

/// Light modules around the code on each side: the quiet zone readers need.
pub const QUIET_ZONE: usize = 4;
/// Pixels per module of the SVG's `width` and `height`; the `viewBox` is in
/// modules, so the picture scales without blurring at any size.
pub const SVG_MODULE_PX: usize = 8;

/// The modules of a QR code, quiet zone included: `size` × `size`, row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrModules {
    size: usize,
    dark: Vec<bool>,
}

impl QrModules {
    /// Modules per side, quiet zone included.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Whether the module in column `x` of row `y` is dark; outside is light.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.size && y < self.size && self.dark.get(y * self.size + x).copied().unwrap_or(false)
    }
}

/// The QR code of `text`, byte mode, error correction level M (a code on a
/// screen or a sticker loses little, and M keeps the modules large).
pub fn modules(text: &str) -> Result<QrModules, FieldError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).map_err(|error| {
        FieldError::new(
            "qr_too_long",
            "qr",
            format!("The text does not fit a QR code: {error}."),
        )
    })?;
    let inner = code.width();
    let size = inner + 2 * QUIET_ZONE;
    let colors = code.to_colors();
    let mut dark = vec![false; size * size];
    for (index, color) in colors.iter().enumerate() {
        let (x, y) = (index % inner + QUIET_ZONE, index / inner + QUIET_ZONE);
        dark[y * size + x] = *color == Color::Dark;
    }
    Ok(QrModules { size, dark })
}

/// An SVG of `text`'s QR code: black on a white square, the quiet zone
/// included, one `<path>` whose each subpath is a run of dark modules of a
/// row (a few kilobytes, where a `<rect>` per module would be tens).
pub fn svg(text: &str) -> Result<String, FieldError> {
    Ok(svg_of(&modules(text)?))
}

/// The SVG of modules already made.
pub fn svg_of(modules: &QrModules) -> String {
    let size = modules.size();
    let px = size * SVG_MODULE_PX;
    let mut path = String::new();
    for y in 0..size {
        let mut x = 0;
        while x < size {
            if !modules.is_dark(x, y) {
                x += 1;
                continue;
            }
            let start = x;
            while modules.is_dark(x, y) {
                x += 1;
            }
            let _ = write!(path, "M{start} {y}h{}v1H{start}z", x - start);
        }
    }
    format!(
        concat!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{px}" height="{px}" viewBox="0 0 {size} {size}" "#,
            r##"shape-rendering="crispEdges"><rect width="{size}" height="{size}" fill="#fff"/>"##,
            r##"<path fill="#000" d="{path}"/></svg>"##
        ),
        px = px,
        size = size,
        path = path
    )
}
