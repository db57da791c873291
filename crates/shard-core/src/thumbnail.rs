//! JPEG thumbnails as Baileys makes them when the bot has sharp or jimp installed: scaled to a
//! width (32 px for a sent image's `jpegThumbnail`, 192 px for a link preview), JPEG quality 50,
//! with the original's size (a sent image's `width` / `height`). Here they need nothing
//! installed. Images come from senders and web pages: decoding is bounded in size and memory.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{ImageReader, Limits};

/// Baileys' `jpegThumbnail` width for a sent image.
pub const MESSAGE_THUMBNAIL_WIDTH: u32 = 32;
/// Baileys' `THUMBNAIL_WIDTH_PX` for link previews.
pub const LINK_PREVIEW_THUMBNAIL_WIDTH: u32 = 192;

/// Images larger than this are not read for a thumbnail (a message still sends).
pub const MAX_SOURCE_BYTES: usize = 32 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct Thumbnail {
    pub jpeg: Vec<u8>,
    /// The original image's size.
    pub width: u32,
    pub height: u32,
}

/// A `width`-pixel-wide JPEG of the image in `bytes` (JPEG, PNG, WebP or GIF), its height in
/// proportion, as sharp's `resize(width)` makes it.
pub fn jpeg_thumbnail(bytes: &[u8], width: u32) -> Result<Thumbnail, String> {
    if bytes.len() > MAX_SOURCE_BYTES {
        return Err(format!("the image is larger than {} MiB", MAX_SOURCE_BYTES >> 20));
    }
    let width = width.clamp(1, 4096);
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| format!("cannot read the image: {e}"))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(16_384);
    limits.max_image_height = Some(16_384);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let image = reader.decode().map_err(|e| format!("cannot decode the image: {e}"))?;
    let (w, h) = (image.width(), image.height());
    if w == 0 || h == 0 {
        return Err("the image is empty".into());
    }
    let scaled_height = ((u64::from(h) * u64::from(width) + u64::from(w) / 2) / u64::from(w)).clamp(1, 16_384) as u32;
    let small = image.resize_exact(width, scaled_height, FilterType::Triangle).to_rgb8();
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, 50).encode_image(&small).map_err(|e| format!("cannot encode the thumbnail: {e}"))?;
    Ok(Thumbnail { jpeg, width: w, height: h })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageFormat, RgbImage};

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn a_thumbnail_is_a_jpeg_of_the_width_in_proportion_with_the_original_size() {
        let thumb = jpeg_thumbnail(&png(400, 300), 32).unwrap();
        assert_eq!((thumb.width, thumb.height), (400, 300));
        let back = image::load_from_memory(&thumb.jpeg).unwrap();
        assert_eq!((back.width(), back.height()), (32, 24));
        assert_eq!(&thumb.jpeg[..2], &[0xff, 0xd8]);
    }

    #[test]
    fn what_is_not_an_image_is_an_error_not_a_panic() {
        assert!(jpeg_thumbnail(b"not an image", 32).is_err());
        assert!(jpeg_thumbnail(&[], 32).is_err());
        let mut truncated = png(50, 50);
        truncated.truncate(60);
        assert!(jpeg_thumbnail(&truncated, 32).is_err());
    }
}
