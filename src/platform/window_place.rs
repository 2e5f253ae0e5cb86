//! Where the window was left: its outer position and inner size (in points) and the size of
//! the monitor it was on, kept in `window.json` beside the settings and put back at the next
//! start. A missing or unreadable file only means the default place.

use std::io::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The window's place on the desk.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WindowPlace {
    /// The outer left edge, where the platform tells it (Wayland does not).
    pub x: Option<f32>,
    /// The outer top edge, where the platform tells it.
    pub y: Option<f32>,
    /// The inner width.
    pub width: f32,
    /// The inner height.
    pub height: f32,
    /// The size of the monitor the window was on, where known: a different one at the next
    /// start means the desk changed (a monitor unplugged), and the old position is dropped.
    pub monitor: Option<(f32, f32)>,
}

impl WindowPlace {
    /// Whether the numbers can be a window on a desk (a hand-edited or damaged file is not
    /// followed).
    pub fn is_sane(&self) -> bool {
        let coordinate = |v: Option<f32>| v.is_none_or(|v| v.is_finite() && v.abs() < 100_000.0);
        let side = |v: f32| v.is_finite() && (100.0..=20_000.0).contains(&v);
        coordinate(self.x)
            && coordinate(self.y)
            && side(self.width)
            && side(self.height)
            && self.monitor.is_none_or(|(w, h)| side(w) && side(h))
    }
}

/// The place saved in `path`, if there is a sane one.
pub fn load(path: &Path) -> Option<WindowPlace> {
    let text = std::fs::read_to_string(path).ok()?;
    match serde_json::from_str::<WindowPlace>(&text) {
        Ok(place) if place.is_sane() => Some(place),
        Ok(_) => {
            tracing::info!(file = %path.display(), "the saved window place is off any desk; using the default");
            None
        }
        Err(e) => {
            tracing::info!(file = %path.display(), error = %e, "the saved window place cannot be read; using the default");
            None
        }
    }
}

/// Saves `place` in `path` (written whole or not at all).
pub fn save(path: &Path, place: &WindowPlace) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    let json = serde_json::to_vec(place).map_err(std::io::Error::other)?;
    tmp.write_all(&json)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_place_comes_back_and_a_damaged_or_absurd_one_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config/window.json");
        assert_eq!(load(&file), None, "no file: the default place");
        let place = WindowPlace {
            x: Some(1500.0),
            y: Some(40.0),
            width: 360.0,
            height: 900.0,
            monitor: Some((1920.0, 1080.0)),
        };
        save(&file, &place).unwrap();
        assert_eq!(load(&file), Some(place));
        let wayland = WindowPlace {
            x: None,
            y: None,
            ..place
        };
        save(&file, &wayland).unwrap();
        assert_eq!(load(&file), Some(wayland));

        save(
            &file,
            &WindowPlace {
                width: 5.0,
                ..place
            },
        )
        .unwrap();
        assert_eq!(load(&file), None, "a window 5 points wide is not followed");
        save(
            &file,
            &WindowPlace {
                x: Some(1.0e9),
                ..place
            },
        )
        .unwrap();
        assert_eq!(load(&file), None);
        let mut f = std::fs::File::create(&file).unwrap();
        f.write_all(b"(x: 1)").unwrap();
        assert_eq!(load(&file), None, "an old or damaged file");
    }
}
