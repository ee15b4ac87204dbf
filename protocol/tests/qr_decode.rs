//! The QR codes `emv::svg` draws are read by a real decoder (`rqrr`, which
//! shares no code with the `qrcode` encoder): the SVG's own path is
//! rasterized and decoded, for every payload of the shared vectors.

#![cfg(feature = "qr")]
#![allow(clippy::unwrap_used)]

use kessai_protocol::emv::{self, QrModules, QUIET_ZONE, SVG_MODULE_PX};
use serde_json::Value;

/// Pixels per module of the test rasters.
const PX: usize = 4;

fn payloads() -> Vec<(String, String)> {
    let path = format!("{}/tests/vectors/emv_qr.json", env!("CARGO_MANIFEST_DIR"));
    let vectors: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = vectors["cases"].as_array().unwrap();
    assert!(cases.len() >= 4, "the vector file lost cases");
    let field = |case: &Value, name: &str| case[name].as_str().unwrap().to_owned();
    cases
        .iter()
        .map(|case| (field(case, "payload"), field(case, "number")))
        .collect()
}

/// Every code rqrr finds in a `size` × `size` greyscale picture.
fn decode(size: usize, pixel: impl FnMut(usize, usize) -> u8) -> Vec<(rqrr::MetaData, String)> {
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(size, size, pixel);
    image.detect_grids().iter().map(|grid| grid.decode().unwrap()).collect()
}

/// The value of attribute `name` of the SVG's root element.
fn attribute<'a>(svg: &'a str, name: &str) -> &'a str {
    let start = svg.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
    let length = svg[start..].find('"').unwrap();
    &svg[start..start + length]
}

/// The dark modules the SVG's path draws, read from its subpaths
/// `M{x} {y}h{n}v1H{x}z` (one run of a row each): only what the SVG says.
fn path_modules(svg: &str, size: usize) -> Vec<bool> {
    let d = attribute(svg, "d");
    let mut dark = vec![false; size * size];
    for run in d.split('M').filter(|run| !run.is_empty()) {
        let run = run.strip_suffix('z').unwrap();
        let (start, rest) = run.split_once(' ').unwrap();
        let (y, rest) = rest.split_once('h').unwrap();
        let (width, back) = rest.split_once("v1H").unwrap();
        assert_eq!(back, start, "a run goes back to where it started");
        let (x, y, width): (usize, usize, usize) = (start.parse().unwrap(), y.parse().unwrap(), width.parse().unwrap());
        for column in x..x + width {
            dark[y * size + column] = true;
        }
    }
    dark
}

#[test]
fn the_svg_of_every_vector_payload_decodes_to_it() {
    for (payload, number) in payloads() {
        let svg = emv::svg(&payload).unwrap();
        let size: usize = attribute(&svg, "viewBox")
            .strip_prefix("0 0 ")
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(attribute(&svg, "viewBox"), format!("0 0 {size} {size}"));
        assert_eq!(attribute(&svg, "width"), (size * SVG_MODULE_PX).to_string());
        assert_eq!(attribute(&svg, "height"), (size * SVG_MODULE_PX).to_string());
        assert_eq!(attribute(&svg, "shape-rendering"), "crispEdges");
        assert_eq!(svg.matches("<path").count(), 1);
        assert_eq!(
            svg.matches("<rect").count(),
            1,
            "one white background, no rect per module"
        );
        assert!(svg.len() < 16_000, "{} bytes", svg.len());
        let dark = path_modules(&svg, size);
        let decoded = decode(size * PX, |x, y| if dark[(y / PX) * size + x / PX] { 0 } else { 255 });
        assert_eq!(decoded.len(), 1, "one code found in the SVG of {payload}");
        let (meta, text) = &decoded[0];
        assert_eq!(meta.ecc_level, 0, "format bits 00: error correction level M");
        assert_eq!(text, &payload);
        assert_eq!(emv::parse(text).unwrap().number, number);
    }
}

#[test]
fn the_modules_have_a_quiet_zone_and_decode_to_the_payload() {
    for (payload, _) in payloads() {
        let modules: QrModules = emv::qr_modules(&payload).unwrap();
        let size = modules.size();
        // QR versions are 21 + 4k modules wide, plus the quiet zone.
        assert_eq!((size - 2 * QUIET_ZONE - 21) % 4, 0, "size {size}");
        for edge in 0..size {
            for depth in 0..QUIET_ZONE {
                let far = size - 1 - depth;
                assert!(![(edge, depth), (depth, edge), (edge, far), (far, edge)]
                    .iter()
                    .any(|&(x, y)| modules.is_dark(x, y)));
            }
        }
        // The finder pattern's corner sits just inside the quiet zone.
        assert!(modules.is_dark(QUIET_ZONE, QUIET_ZONE));
        let decoded = decode(size * PX, |x, y| if modules.is_dark(x / PX, y / PX) { 0 } else { 255 });
        assert_eq!(
            decoded.iter().map(|(_, text)| text.as_str()).collect::<Vec<_>>(),
            [payload.as_str()]
        );
    }
}

#[test]
fn no_code_is_drawn_for_a_payload_a_phone_would_refuse() {
    let (payload, _) = payloads().remove(0);
    let tampered = payload.replacen("48213907", "48213908", 1);
    assert_eq!(emv::svg(&tampered).unwrap_err().code, emv::CODE_CRC_MISMATCH);
    assert_eq!(emv::qr_modules("hello").unwrap_err().code, emv::CODE_MALFORMED);
}

#[test]
fn any_text_such_as_a_ticket_is_drawn_and_decodes_to_itself() {
    // A ticket's size: a compact JWS of a few hundred characters.
    let ticket = format!("eyJhbGciOiJFZERTQSJ9.{}.{}", "x".repeat(260), "s".repeat(86));
    let svg = kessai_protocol::qr::svg(&ticket).unwrap();
    let size: usize = attribute(&svg, "viewBox").rsplit(' ').next().unwrap().parse().unwrap();
    let dark = path_modules(&svg, size);
    let decoded = decode(size * PX, |x, y| if dark[(y / PX) * size + x / PX] { 0 } else { 255 });
    assert_eq!(
        decoded.iter().map(|(_, text)| text.as_str()).collect::<Vec<_>>(),
        [ticket.as_str()]
    );
    let too_long = "x".repeat(3_000);
    assert_eq!(kessai_protocol::qr::svg(&too_long).unwrap_err().code, "qr_too_long");
}
