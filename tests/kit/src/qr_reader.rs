//! Reading QR codes off screenshots: what the end-to-end browser tests use
//! to check that a terminal's page shows the payload it should, the way a
//! phone camera would read it.

use anyhow::Context as _;

/// The text of every QR code found in a PNG (a Chromium screenshot, say),
/// in the order the decoder finds them; empty if there is none. Transparent
/// pixels count as white, the page background a screenshot stands for. An
/// error if the PNG does not decode, or if a code is found but none reads.
pub fn decode_qr_png(png: &[u8]) -> anyhow::Result<Vec<String>> {
    let image = image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .context("the screenshot is not a PNG")?
        .to_luma_alpha8();
    let (width, height) = (image.width() as usize, image.height() as usize);
    let grey: Vec<u8> = image.pixels().map(|pixel| over_white(pixel.0[0], pixel.0[1])).collect();
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| grey[y * width + x]);
    let grids = prepared.detect_grids();
    let mut texts = Vec::new();
    let mut failure = None;
    for grid in &grids {
        match grid.decode() {
            Ok((_, text)) => texts.push(text),
            Err(error) => failure = Some(error),
        }
    }
    match failure {
        Some(error) if texts.is_empty() => Err(anyhow::anyhow!(
            "{} QR code(s) found, none readable: {error}",
            grids.len()
        )),
        _ => Ok(texts),
    }
}

/// A grey level `luma` of opacity `alpha` laid over white.
fn over_white(luma: u8, alpha: u8) -> u8 {
    let (luma, alpha) = (u16::from(luma), u16::from(alpha));
    let blended = (luma * alpha + 255 * (255 - alpha)) / 255;
    u8::try_from(blended).unwrap_or(u8::MAX)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use kessai_protocol::emv::{self, Fields};

    fn payload() -> String {
        Fields {
            institution_id: "ins_qk7xv2mbl4hd6ncpw3jrte5fsa".into(),
            merchant_id: "mch_5xq2b7n4c3dze6f3gwhaj2k4m6".into(),
            mcc: "5999".into(),
            currency: "USD".into(),
            amount: Some(1050),
            country: "US".into(),
            merchant_name: "Corner Cafe".into(),
            city: "Portland".into(),
            number: "00731562".into(),
            terminal_label: "T2".into(),
        }
        .payload()
        .unwrap()
    }

    /// A page-like RGBA picture: a transparent margin, a grey panel, and the
    /// code at 3 px per module off the pixel grid's origin.
    fn screenshot(payload: &str) -> Vec<u8> {
        let modules = emv::qr_modules(payload).unwrap();
        let (px, offset) = (3, 37);
        let side = modules.size() * px;
        let canvas = u32::try_from(side + 2 * offset).unwrap();
        let picture = image::RgbaImage::from_fn(canvas, canvas, |x, y| {
            let (x, y) = (x as usize, y as usize);
            if x < 10 || y < 10 {
                return image::Rgba([0, 0, 0, 0]);
            }
            let inside = (offset..offset + side).contains(&x) && (offset..offset + side).contains(&y);
            if !inside {
                return image::Rgba([200, 200, 210, 255]);
            }
            let dark = modules.is_dark((x - offset) / px, (y - offset) / px);
            if dark {
                image::Rgba([20, 20, 20, 255])
            } else {
                image::Rgba([255, 255, 255, 255])
            }
        });
        let mut png = std::io::Cursor::new(Vec::new());
        picture.write_to(&mut png, image::ImageFormat::Png).unwrap();
        png.into_inner()
    }

    #[test]
    fn reads_the_code_in_a_png() {
        let payload = payload();
        let texts = decode_qr_png(&screenshot(&payload)).unwrap();
        assert_eq!(texts, [payload.as_str()]);
        assert_eq!(emv::parse(&texts[0]).unwrap().number, "00731562");
    }

    #[test]
    fn a_png_without_a_code_gives_nothing_and_garbage_an_error() {
        let blank = image::GrayImage::from_pixel(64, 64, image::Luma([255]));
        let mut png = std::io::Cursor::new(Vec::new());
        blank.write_to(&mut png, image::ImageFormat::Png).unwrap();
        assert_eq!(decode_qr_png(&png.into_inner()).unwrap(), Vec::<String>::new());
        assert!(decode_qr_png(b"not a png").is_err());
    }

    #[test]
    fn transparency_counts_as_white() {
        assert_eq!(over_white(0, 0), 255);
        assert_eq!(over_white(0, 255), 0);
        assert_eq!(over_white(100, 255), 100);
        assert_eq!(over_white(0, 128), 127);
    }
}
