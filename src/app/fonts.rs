//! The window's fonts: egui's own (Ubuntu Light for text — Latin, Cyrillic, Greek — Hack for
//! monospace, egui's icons), carried deflated in the binary (`src/build.rs`) and inflated once
//! when the window is made, each straight into a buffer of its own size.

use std::sync::Arc;

use egui::{FontData, FontDefinitions, FontFamily, FontTweak};

static UBUNTU_LIGHT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/ubuntu-light.ttf.deflate"));
static HACK: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/hack.ttf.deflate"));

/// Gives `ctx` the window's fonts (from its next pass on).
pub fn install(ctx: &egui::Context) {
    ctx.set_fonts(definitions());
}

/// Unpacks a font as `src/build.rs` packed it: its length (4 bytes, little-endian), then
/// its deflated bytes. The buffer is allocated once at the font's size, never grown.
fn inflate(packed: &[u8]) -> Result<Vec<u8>, String> {
    let (length, deflated) = packed
        .split_first_chunk::<4>()
        .ok_or("the packed font has no length")?;
    let length = usize::try_from(u32::from_le_bytes(*length)).map_err(|e| e.to_string())?;
    let mut font = vec![0_u8; length];
    let got = miniz_oxide::inflate::decompress_slice_iter_to_slice(
        &mut font,
        std::iter::once(deflated),
        false,
        true,
    )
    .map_err(|status| format!("{status:?}"))?;
    if got != length {
        return Err(format!("unpacked {got} bytes of {length}"));
    }
    Ok(font)
}

/// The fonts, as egui's defaults lay them out: text in Ubuntu Light, monospace in Hack
/// (Ubuntu Light filling in), egui's icons last in both.
pub fn definitions() -> FontDefinitions {
    let mut defs = FontDefinitions::empty();
    for (name, packed) in [("Ubuntu-Light", UBUNTU_LIGHT), ("Hack", HACK)] {
        match inflate(packed) {
            Ok(font) => {
                defs.font_data
                    .insert(name.to_owned(), Arc::new(FontData::from_owned(font)));
            }
            // Only a broken build gets here; the other font still shows the text.
            Err(e) => {
                tracing::error!(font = name, error = ?e, "a built-in font cannot be unpacked")
            }
        }
    }
    defs.font_data.insert(
        "egui-icons".to_owned(),
        Arc::new(
            FontData::from_static(epaint_default_fonts::EGUI_ICONS).tweak(FontTweak {
                scale: 0.90,
                ..Default::default()
            }),
        ),
    );
    let present = |names: &[&str]| -> Vec<String> {
        names
            .iter()
            .filter(|n| defs.font_data.contains_key(**n))
            .map(|n| (*n).to_owned())
            .collect()
    };
    let monospace = present(&["Hack", "Ubuntu-Light", "egui-icons"]);
    let proportional = present(&["Ubuntu-Light", "Hack", "egui-icons"]);
    defs.families.insert(FontFamily::Monospace, monospace);
    defs.families.insert(FontFamily::Proportional, proportional);
    defs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_packed_fonts_unpack_to_egui_s_own_and_cover_cyrillic() {
        let defs = definitions();
        let unpacked = |name: &str| (*defs.font_data[name].font).as_ref().to_vec();
        assert_eq!(unpacked("Ubuntu-Light"), epaint_default_fonts::UBUNTU_LIGHT);
        assert_eq!(unpacked("Hack"), epaint_default_fonts::HACK_REGULAR);
        assert!(UBUNTU_LIGHT.len() < epaint_default_fonts::UBUNTU_LIGHT.len() * 2 / 3);
        assert_eq!(
            defs.families[&FontFamily::Proportional],
            ["Ubuntu-Light", "Hack", "egui-icons"]
        );
        // The text of both languages lays out with glyphs from these fonts, not boxes.
        let ctx = egui::Context::default();
        ctx.set_fonts(defs);
        let mut output = ctx.run_ui(egui::RawInput::default(), |_| {});
        output.textures_delta.clear();
        ctx.fonts_mut(|fonts| {
            let font = egui::FontId::proportional(14.0);
            for c in "Звонок → Call".chars() {
                assert!(fonts.has_glyph(&font, c), "no glyph for {c:?}");
            }
        });
    }
}
