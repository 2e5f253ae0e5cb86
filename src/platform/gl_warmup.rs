//! Loads the GL driver on a helper thread while the window system starts.
//!
//! Mesa's driver is one large library that pulls in LLVM; it is loaded only when the window
//! asks for a GL context, after the event loop has set up the keyboard and the input method,
//! and loading it is the largest single part of the time to the first frame. Loading the same
//! file a moment earlier on another thread, with the flags Mesa uses, lets the two overlap:
//! when the window's GL set-up asks for its driver, the dynamic loader finds it in memory.
//! The loader does one load at a time and holds back new threads while it works, so other
//! loads and thread starts wait for this one; the time won is what the window spends
//! meanwhile on work that needs neither (measured by `tests/bench/window.sh`, which pairs each
//! start with one without this).
//!
//! Mesa installs every hardware driver and the software one (`swrast_dri.so`) as links to one
//! file (or as small stubs of one shared library), so loading the software one brings in the
//! part every Mesa driver shares. The file is looked for where Mesa looks:
//! `LIBGL_DRIVERS_PATH`, then the usual driver folders. Nothing is loaded when another GL
//! vendor is chosen (`__GLX_VENDOR_LIBRARY_NAME`) or NVIDIA's is installed (the window would
//! most likely not use Mesa, and the early load would only cost memory), when no display is
//! set, or when `PYRUS_PHONE_GL_WARMUP=0`. A failure only means the window loads the driver
//! itself.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The driver file every Mesa installation has.
const SOFTWARE_DRIVER: &str = "swrast_dri.so";

/// NVIDIA's GLX library, installed with its driver.
const NVIDIA_GLX: &str = "libGLX_nvidia.so.0";

/// Starts loading the GL driver on a helper thread, where that helps; see the module doc.
pub fn start(started: std::time::Instant) {
    let var = |name: &str| std::env::var_os(name);
    if !wanted(var) {
        return;
    }
    let dirs = default_dirs();
    let is_file = |p: &Path| p.is_file();
    if other_vendor_installed(&dirs, is_file) {
        return;
    }
    let Some(file) = driver_file(var("LIBGL_DRIVERS_PATH"), &dirs, is_file) else {
        return;
    };
    let spawned = std::thread::Builder::new()
        .name("gl-warmup".into())
        .spawn(move || match load::library(&file) {
            Ok(()) => tracing::info!(ms = started.elapsed().as_millis(), "GL driver loaded"),
            Err(e) => tracing::debug!("GL driver not loaded early: {e}"),
        });
    if let Err(e) = spawned {
        tracing::debug!("GL driver not loaded early: {e}");
    }
}

/// Whether loading early helps: a display is set, Mesa is the GL vendor, and it is not off.
fn wanted(var: impl Fn(&str) -> Option<OsString>) -> bool {
    let set = |name: &str| var(name).filter(|v| !v.is_empty());
    let off = set("PYRUS_PHONE_GL_WARMUP").is_some_and(|v| v == "0");
    let display = set("DISPLAY").is_some()
        || set("WAYLAND_DISPLAY").is_some()
        || set("WAYLAND_SOCKET").is_some();
    let other_vendor = set("__GLX_VENDOR_LIBRARY_NAME").is_some_and(|v| v != "mesa");
    !off && display && !other_vendor
}

/// The folders Mesa's packages install their drivers in (multiarch, lib64, plain).
fn default_dirs() -> Vec<PathBuf> {
    let arch = std::env::consts::ARCH;
    let mut dirs = vec![PathBuf::from(format!("/usr/lib/{arch}-linux-gnu/dri"))];
    if arch.ends_with("64") {
        dirs.push(PathBuf::from("/usr/lib64/dri"));
    }
    dirs.push(PathBuf::from("/usr/lib/dri"));
    dirs
}

/// Whether NVIDIA's GL is installed beside the driver folders: then the window most likely
/// uses it, and Mesa's driver loaded early would only cost memory (about 10 MiB).
fn other_vendor_installed(driver_dirs: &[PathBuf], is_file: impl Fn(&Path) -> bool) -> bool {
    driver_dirs
        .iter()
        .filter_map(|dir| dir.parent())
        .any(|lib| is_file(&lib.join(NVIDIA_GLX)))
}

/// The software driver in the first folder that has it: `LIBGL_DRIVERS_PATH` (a `:`-separated
/// list, as Mesa reads it) when set, else `defaults`.
fn driver_file(
    search_path: Option<OsString>,
    defaults: &[PathBuf],
    is_file: impl Fn(&Path) -> bool,
) -> Option<PathBuf> {
    let listed: Vec<PathBuf> = search_path
        .filter(|p| !p.is_empty())
        .map(|p| {
            std::env::split_paths(&p)
                .filter(|d| d.is_absolute())
                .collect()
        })
        .unwrap_or_default();
    let dirs = if listed.is_empty() { defaults } else { &listed };
    dirs.iter()
        .map(|dir| dir.join(SOFTWARE_DRIVER))
        .find(|file| is_file(file))
}

#[cfg(all(unix, not(target_os = "macos")))]
#[expect(
    unsafe_code,
    reason = "loading a shared library runs its initialisers, which Rust cannot check"
)]
mod load {
    use std::path::Path;

    use libloading::os::unix::{Library, RTLD_GLOBAL, RTLD_NOW};

    /// Loads `file` for the rest of the process, as Mesa's loader does.
    pub(super) fn library(file: &Path) -> Result<(), libloading::Error> {
        // SAFETY: `file` is the Mesa driver the window's GL set-up loads into this process a
        // moment later, with the same flags; its initialisers are the ones that run then. It
        // is never unloaded (the handle is kept for the life of the process).
        let library = unsafe { Library::open(Some(file), RTLD_NOW | RTLD_GLOBAL) }?;
        let _kept = library.into_raw();
        Ok(())
    }
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
mod load {
    /// Other systems load their GL differently; nothing to do early.
    pub(super) fn library(_: &std::path::Path) -> Result<(), std::io::Error> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;
    use std::path::{Path, PathBuf};

    use super::{NVIDIA_GLX, SOFTWARE_DRIVER, driver_file, other_vendor_installed, wanted};

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let pairs: Vec<(String, OsString)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), OsString::from(v)))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn loads_early_only_with_a_display_and_mesa() {
        assert!(wanted(env(&[("DISPLAY", ":0")])));
        assert!(wanted(env(&[("WAYLAND_DISPLAY", "wayland-0")])));
        assert!(!wanted(env(&[])));
        assert!(!wanted(env(&[("DISPLAY", "")])));
        assert!(!wanted(env(&[
            ("DISPLAY", ":0"),
            ("PYRUS_PHONE_GL_WARMUP", "0")
        ])));
        assert!(wanted(env(&[
            ("DISPLAY", ":0"),
            ("PYRUS_PHONE_GL_WARMUP", "1")
        ])));
        assert!(!wanted(env(&[
            ("DISPLAY", ":0"),
            ("__GLX_VENDOR_LIBRARY_NAME", "nvidia")
        ])));
        assert!(wanted(env(&[
            ("DISPLAY", ":0"),
            ("__GLX_VENDOR_LIBRARY_NAME", "mesa")
        ])));
    }

    #[test]
    fn finds_the_driver_where_mesa_looks() {
        let root = tempfile::tempdir().expect("temp dir");
        let empty = root.path().join("empty");
        let with = root.path().join("with");
        let other = root.path().join("other");
        for dir in [&empty, &with, &other] {
            std::fs::create_dir(dir).expect("dir");
        }
        std::fs::File::create(with.join(SOFTWARE_DRIVER)).expect("driver");
        std::fs::File::create(other.join(SOFTWARE_DRIVER)).expect("driver");
        let is_file = |p: &Path| p.is_file();
        let defaults = [empty.clone(), other.clone()];

        // The first default folder that has it.
        assert_eq!(
            driver_file(None, &defaults, is_file),
            Some(other.join(SOFTWARE_DRIVER))
        );
        // LIBGL_DRIVERS_PATH replaces the defaults, in its order.
        let listed = std::env::join_paths([&empty, &with]).expect("path list");
        assert_eq!(
            driver_file(Some(listed), &defaults, is_file),
            Some(with.join(SOFTWARE_DRIVER))
        );
        let only_empty = std::env::join_paths([&empty]).expect("path list");
        assert_eq!(driver_file(Some(only_empty), &defaults, is_file), None);
        // Relative entries are ignored; an empty variable means the defaults.
        assert_eq!(
            driver_file(Some(OsString::from("with")), &defaults, is_file),
            Some(other.join(SOFTWARE_DRIVER))
        );
        assert_eq!(
            driver_file(Some(OsString::new()), &defaults, is_file),
            Some(other.join(SOFTWARE_DRIVER))
        );
        let none: [PathBuf; 0] = [];
        assert_eq!(driver_file(None, &none, is_file), None);
    }

    #[test]
    fn stays_off_where_nvidia_gl_is_installed() {
        let root = tempfile::tempdir().expect("temp dir");
        let dri = root.path().join("lib").join("dri");
        std::fs::create_dir_all(&dri).expect("dir");
        let is_file = |p: &Path| p.is_file();
        assert!(!other_vendor_installed(std::slice::from_ref(&dri), is_file));
        std::fs::File::create(root.path().join("lib").join(NVIDIA_GLX)).expect("library");
        assert!(other_vendor_installed(&[dri], is_file));
    }
}
