//! Reading an enrolment code from a picture of its QR code. The webview decodes the picture
//! (so any format it can show will do) and sends grey pixels; this finds and decodes the code.

use zhisu_app_api::ErrorCode;

/// Pictures are scaled down in the webview to at most this many pixels a side: plenty for a
/// QR code filling part of a photo, and quick to search.
pub const MAX_SIDE: u32 = zhisu_app_api::commands::QR_MAX_SIDE;

/// What the webview sends: width and height (u32, little-endian) and then one grey byte per
/// pixel, row by row.
pub fn decode(message: &[u8]) -> Result<String, ErrorCode> {
    let header = |at: usize| -> Option<usize> {
        let bytes: [u8; 4] = message.get(at..at + 4)?.try_into().ok()?;
        usize::try_from(u32::from_le_bytes(bytes)).ok()
    };
    let (Some(width), Some(height)) = (header(0), header(4)) else {
        return Err(ErrorCode::BadPicture);
    };
    let pixels = &message[8..];
    let side = MAX_SIDE as usize;
    if width == 0 || height == 0 || width > side || height > side || pixels.len() != width * height
    {
        return Err(ErrorCode::BadPicture);
    }
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    image
        .detect_grids()
        .iter()
        .find_map(|grid| grid.decode().ok())
        .map(|(_, text)| text.trim().to_string())
        .filter(|text| !text.is_empty())
        .ok_or(ErrorCode::NoQrCode)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `text` as a QR code, `scale` pixels a module with a four-module quiet zone, in the
    /// message format above; `noise` darkens the white a little, as in a photo.
    fn picture(text: &str, scale: usize, noise: bool) -> Vec<u8> {
        let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
        let modules = code.width();
        let colors = code.to_colors();
        let side = (modules + 8) * scale;
        let mut message = Vec::with_capacity(8 + side * side);
        message.extend_from_slice(&(side as u32).to_le_bytes());
        message.extend_from_slice(&(side as u32).to_le_bytes());
        for y in 0..side {
            for x in 0..side {
                let (mx, my) = ((x / scale).wrapping_sub(4), (y / scale).wrapping_sub(4));
                let dark = mx < modules
                    && my < modules
                    && colors[my * modules + mx] == qrcode::Color::Dark;
                let white = if noise {
                    200 + ((x * 7 + y * 13) % 40) as u8
                } else {
                    255
                };
                message.push(if dark { 20 } else { white });
            }
        }
        message
    }

    #[test]
    fn an_enrolment_code_is_read_from_a_picture_of_its_qr_code() {
        assert_eq!(
            decode(&picture("K7XM-3QPA", 6, false)).unwrap(),
            "K7XM-3QPA"
        );
        assert_eq!(decode(&picture("K7XM-3QPA", 3, true)).unwrap(), "K7XM-3QPA");
    }

    #[test]
    fn pictures_without_a_code_or_malformed_say_so() {
        let blank: Vec<u8> = [100u32.to_le_bytes(), 100u32.to_le_bytes()]
            .concat()
            .into_iter()
            .chain(std::iter::repeat_n(255, 100 * 100))
            .collect();
        assert_eq!(decode(&blank), Err(ErrorCode::NoQrCode));
        assert_eq!(decode(&blank[..50]), Err(ErrorCode::BadPicture));
        assert_eq!(decode(&[1, 2, 3]), Err(ErrorCode::BadPicture));
    }
}
