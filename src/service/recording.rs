//! Checks a recording on disk before anything is stored or sent: it exists, is a file, has an
//! extension Pyrus attaches and the content that goes with it, is not empty, fits the upload limit and can be read.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use crate::domain::{InputError, MAX_UPLOAD_BYTES, audio_content_matches, check_recording_name};

/// Why a file cannot be attached. Each message says what is wrong; the path comes last.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    /// No such file.
    #[error("there is no such file: {0}")]
    Missing(String),
    /// A directory was given.
    #[error("this is a directory: give the recording file itself — {0}")]
    Directory(String),
    /// Wrong extension.
    #[error(transparent)]
    Format(#[from] InputError),
    /// Named as audio, but its content is something else.
    #[error(
        "the file is named .{ext} but is not {ext} audio (its first bytes say otherwise): pick the recording itself — {path}"
    )]
    NotAudio {
        /// The extension it claims.
        ext: &'static str,
        /// The file.
        path: String,
    },
    /// Zero bytes.
    #[error("the recording is empty (0 bytes): pick the real recording — {0}")]
    Empty(String),
    /// Over the limit.
    #[error("the recording is {size_mib} MiB — Pyrus accepts at most 2 GiB: {path}")]
    TooLarge {
        /// Its size in MiB.
        size_mib: u64,
        /// The file.
        path: String,
    },
    /// Its path is not valid text, so it cannot be kept in the outbox.
    #[error(
        "the recording's path is not valid text (UTF-8), so it cannot be kept for sending: rename the file or its folder — {0}"
    )]
    NotText(String),
    /// Cannot be read.
    #[error("cannot read the recording ({reason}): {path}")]
    Unreadable {
        /// What the OS said.
        reason: String,
        /// The file.
        path: String,
    },
}

impl RecordingError {
    /// The error code the window words (see `domain::codes`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing(_) => "no_such_file",
            Self::Directory(_) => "is_directory",
            Self::Format(_) => "unsupported_record_file_format",
            Self::NotAudio { .. } => "not_audio",
            Self::Empty(_) => "empty_file",
            Self::TooLarge { .. } => "attachment_too_big",
            Self::NotText(_) => "path_not_text",
            Self::Unreadable { .. } => "file_unreadable",
        }
    }
}

/// Checks `path`; returns its absolute form and size.
pub fn check_recording(path: &Path) -> Result<(PathBuf, u64), RecordingError> {
    let shown = path.display().to_string();
    let unreadable = |e: &std::io::Error| RecordingError::Unreadable {
        reason: e.to_string(),
        path: shown.clone(),
    };
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(RecordingError::Missing(shown));
        }
        Err(e) => return Err(unreadable(&e)),
    };
    if meta.is_dir() {
        return Err(RecordingError::Directory(shown));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = check_recording_name(&name)?;
    if meta.len() == 0 {
        return Err(RecordingError::Empty(shown));
    }
    if meta.len() > MAX_UPLOAD_BYTES {
        return Err(RecordingError::TooLarge {
            size_mib: meta.len() / (1024 * 1024),
            path: shown,
        });
    }
    let mut file = std::fs::File::open(path).map_err(|e| unreadable(&e))?;
    let mut head = [0_u8; 16];
    let mut got = 0;
    while got < head.len() {
        match file.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(unreadable(&e)),
        }
    }
    if !audio_content_matches(ext, &head[..got]) {
        return Err(RecordingError::NotAudio { ext, path: shown });
    }
    let absolute = std::path::absolute(path).map_err(|e| unreadable(&e))?;
    if absolute.to_str().is_none() {
        return Err(RecordingError::NotText(shown));
    }
    Ok((absolute, meta.len()))
}

#[cfg(test)]
mod tests {
    use super::{RecordingError, check_recording};

    #[test]
    fn names_each_problem() {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n);
        assert!(matches!(
            check_recording(&p("none.wav")),
            Err(RecordingError::Missing(_))
        ));
        std::fs::create_dir(p("d.wav")).unwrap();
        assert!(matches!(
            check_recording(&p("d.wav")),
            Err(RecordingError::Directory(_))
        ));
        std::fs::File::create(p("e.wav")).unwrap();
        assert!(matches!(
            check_recording(&p("e.wav")),
            Err(RecordingError::Empty(_))
        ));
        std::fs::File::create(p("x.txt")).unwrap();
        assert!(matches!(
            check_recording(&p("x.txt")),
            Err(RecordingError::Format(_))
        ));
        std::io::Write::write_all(&mut std::fs::File::create(p("ok.mp3")).unwrap(), b"ID3")
            .unwrap();
        let (abs, size) = check_recording(&p("ok.mp3")).unwrap();
        assert!(abs.is_absolute());
        assert_eq!(size, 3);
    }
}
