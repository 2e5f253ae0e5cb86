//! Drawn glyphs for the few pictographs the built-in file chooser shows (folder, file,
//! floppy) that the bundled fonts lack: without them they would be empty boxes.

use egui::epaint::text::{GlyphBitmap, GlyphRasterizer, GlyphRasterizerRequest, RasterizedGlyph};
use egui::{Color32, ColorImage};

/// What a drawn glyph depicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Folder,
    File,
    Disk,
    Up,
    Again,
}

fn shape_of(cluster: &str) -> Option<Shape> {
    match cluster {
        "📁" | "📂" | "🗀" => Some(Shape::Folder),
        "🗋" => Some(Shape::File),
        "💾" => Some(Shape::Disk),
        "⬆" => Some(Shape::Up),
        "⟲" => Some(Shape::Again),
        _ => None,
    }
}

/// Installs the drawn glyphs (a fallback: fonts that have them win). Safe to call again.
pub fn install(ctx: &egui::Context) {
    ctx.add_glyph_rasterizer(GlyphRasterizer::new("pyrus_phone::ui::glyphs", rasterize));
}

fn rasterize(request: &GlyphRasterizerRequest<'_>) -> Option<RasterizedGlyph> {
    let shape = shape_of(request.cluster)?;
    Some(draw(shape, request.font_size_px))
}

/// Draws `shape` as an outline standing on the baseline, about a capital letter high.
fn draw(shape: Shape, font_size_px: f32) -> RasterizedGlyph {
    let size = (0.8 * font_size_px).round().max(6.0) as usize;
    let stroke = (font_size_px / 12.0).round().max(1.0) as usize;
    let bearing = (0.1 * font_size_px).round();
    let mut image = ColorImage::filled([size, size], Color32::TRANSPARENT);
    let mut line = |x0: usize, y0: usize, x1: usize, y1: usize| {
        for y in y0..=y1.min(size - 1) {
            for x in x0..=x1.min(size - 1) {
                image[(x, y)] = Color32::WHITE;
            }
        }
    };
    let (last, s) = (size - 1, stroke - 1);
    match shape {
        Shape::Folder => {
            let top = size / 4;
            // The tab, then the body.
            line(0, 0, size / 2, s);
            line(0, 0, s, top);
            line(size / 2, 0, size / 2 + s, top);
            line(0, top, last, top + s);
            line(0, top, s, last);
            line(last - s, top, last, last);
            line(0, last - s, last, last);
        }
        Shape::File => {
            let left = size / 6;
            let right = last - size / 6;
            let fold = size / 4;
            line(left, 0, right - fold, s);
            line(left, 0, left + s, last);
            line(right - s, fold, right, last);
            line(left, last - s, right, last);
            line(right - fold, 0, right - fold + s, fold);
            line(right - fold, fold, right, fold + s);
        }
        Shape::Up => {
            // A shaft under a head that widens row by row.
            let mid = size / 2;
            line(mid - s / 2, size / 3, mid + s / 2 + s % 2, last);
            for row in 0..=size / 2 {
                let half = row.min(mid);
                line(mid - half, row, mid + half, row);
                if row >= size / 3 {
                    break;
                }
            }
        }
        Shape::Again => {
            // An open ring with a head at its end.
            let c = last as f32 / 2.0;
            let r_out = c;
            let r_in = (c - stroke as f32).max(0.0);
            for y in 0..size {
                for x in 0..size {
                    let (dx, dy) = (x as f32 - c, y as f32 - c);
                    let d = (dx * dx + dy * dy).sqrt();
                    let gap = dx > 0.0 && dy < 0.0 && dy.abs() > dx * 0.4;
                    if d <= r_out && d >= r_in && !gap {
                        line(x, y, x, y);
                    }
                }
            }
            line(size / 2, 0, size / 2 + size / 4, s);
            line(size / 2, 0, size / 2 + s, size / 4);
        }
        Shape::Disk => {
            line(0, 0, last, s);
            line(0, 0, s, last);
            line(last - s, 0, last, last);
            line(0, last - s, last, last);
            line(size / 4, size / 2, last - size / 4, size / 2 + s);
        }
    }
    RasterizedGlyph {
        bitmap: GlyphBitmap {
            image,
            offset_px: egui::vec2(bearing, -(size as f32)),
            is_color: false,
        },
        advance_px: size as f32 + 2.0 * bearing,
    }
}

#[cfg(test)]
mod tests {
    use super::{Shape, draw, shape_of};

    #[test]
    fn the_choosers_pictographs_are_drawn_and_nothing_else() {
        assert_eq!(shape_of("🗀"), Some(Shape::Folder));
        assert_eq!(shape_of("🗋"), Some(Shape::File));
        assert_eq!(shape_of("a"), None);
        let glyph = draw(Shape::File, 16.0);
        let inked = glyph
            .bitmap
            .image
            .pixels
            .iter()
            .filter(|p| p.a() > 0)
            .count();
        assert!(inked > 10, "the outline is drawn");
        assert!(inked < glyph.bitmap.image.pixels.len(), "and is hollow");
    }
}
