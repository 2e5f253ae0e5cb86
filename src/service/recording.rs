//! Checks a recording on disk before anything is stored, and again when it is sent: it
//! exists, is an ordinary file (a pipe or device is refused without waiting on it), has an
//! extension Pyrus attaches and the content that goes with it, is not empty, fits the upload
//! limit and can be read — and, when sent, is still the very file that was checked (the
//! same device and inode), so a file swapped in under its name is never uploaded.

use std::fs::File;
use std::io::{Read as _, Seek as _};
use std::path::{Path, PathBuf};

use crate::domain::{InputError, MAX_UPLOAD_BYTES, audio_content_matches, check_recording_name};
use crate::platform::files::{FileIdentity, identity, open_regular};

/// Why a file cannot be attached. Each message says what is wrong; the path comes last.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    /// No such file.
    #[error("there is no such file: {0}")]
    Missing(String),
    /// A directory was given.
    #[error("this is a directory: give the recording file itself — {0}")]
    Directory(String),
    /// A pipe, device or socket: nothing is read from it.
    #[error("this is not an ordinary file ({what}): give the recording file itself — {path}")]
    NotRegular {
        /// What it is.
        what: String,
        /// The file.
        path: String,
    },
    /// Another file now goes by the checked recording's name.
    #[error(
        "the recording was replaced after it was checked (another file now has its name); nothing was sent: attach the recording again — {0}"
    )]
    Replaced(String),
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
            Self::NotRegular { .. } => "not_a_file",
            Self::Replaced(_) => "file_replaced",
            Self::Format(_) => "unsupported_record_file_format",
            Self::NotAudio { .. } => "not_audio",
            Self::Empty(_) => "empty_file",
            Self::TooLarge { .. } => "attachment_too_big",
            Self::NotText(_) => "path_not_text",
            Self::Unreadable { .. } => "file_unreadable",
        }
    }
}

/// A recording that passed [`check_recording`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedRecording {
    /// Its absolute path.
    pub path: PathBuf,
    /// Its size when checked.
    pub size: u64,
    /// Which file it was (`None` where the OS does not say).
    pub identity: Option<FileIdentity>,
}

/// Checks `path` (see the module doc); returns its absolute form, size and identity.
pub fn check_recording(path: &Path) -> Result<CheckedRecording, RecordingError> {
    let (_, size, identity) = open_and_check(path, None)?;
    let shown = path.display().to_string();
    let absolute = std::path::absolute(path).map_err(|e| RecordingError::Unreadable {
        reason: e.to_string(),
        path: shown.clone(),
    })?;
    if absolute.to_str().is_none() {
        return Err(RecordingError::NotText(shown));
    }
    Ok(CheckedRecording {
        path: absolute,
        size,
        identity,
    })
}

/// Opens a recording kept for sending, checked again: still an ordinary file with the right
/// content and, when its identity was kept, the same file as when it was checked. Returns
/// the file, at its start, and its size.
pub fn open_checked(
    path: &Path,
    checked: Option<FileIdentity>,
) -> Result<(File, u64), RecordingError> {
    let (mut file, size, _) = open_and_check(path, checked)?;
    file.rewind().map_err(|e| RecordingError::Unreadable {
        reason: e.to_string(),
        path: path.display().to_string(),
    })?;
    Ok((file, size))
}

/// Opens `path` without waiting on a pipe and runs every check on the opened file itself.
fn open_and_check(
    path: &Path,
    checked: Option<FileIdentity>,
) -> Result<(File, u64, Option<FileIdentity>), RecordingError> {
    let shown = path.display().to_string();
    let unreadable = |e: &std::io::Error| RecordingError::Unreadable {
        reason: e.to_string(),
        path: shown.clone(),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (mut file, meta) = match open_regular(path) {
        Ok(opened) => opened,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(RecordingError::Missing(shown));
        }
        Err(e) => {
            // What the path is, when it is there but cannot be used as a file.
            return Err(match std::fs::metadata(path) {
                Ok(meta) if meta.is_dir() => RecordingError::Directory(shown),
                Ok(meta) if !meta.is_file() => RecordingError::NotRegular {
                    what: e.to_string(),
                    path: shown,
                },
                _ => unreadable(&e),
            });
        }
    };
    let found = identity(&meta);
    if checked.is_some() && found != checked {
        return Err(RecordingError::Replaced(shown));
    }
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
    Ok((file, meta.len(), found))
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
        let checked = check_recording(&p("ok.mp3")).unwrap();
        assert!(checked.path.is_absolute());
        assert_eq!(checked.size, 3);
    }

    #[cfg(unix)]
    #[test]
    fn a_pipe_is_refused_and_a_file_swapped_in_is_not_the_checked_one() {
        use super::open_checked;
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n);
        let fifo = p("pipe.wav");
        rustix::fs::mkfifoat(rustix::fs::CWD, &fifo, rustix::fs::Mode::RWXU).unwrap();
        let err = check_recording(&fifo).unwrap_err();
        assert!(matches!(err, RecordingError::NotRegular { .. }), "{err}");
        assert_eq!(err.code(), "not_a_file");
        assert!(err.to_string().contains("pipe"), "{err}");
        let write = |n: &str, bytes: &[u8]| {
            std::io::Write::write_all(&mut std::fs::File::create(p(n)).unwrap(), bytes).unwrap()
        };
        write("rec.mp3", b"ID3 one");
        write("other.mp3", b"ID3 two");
        let checked = check_recording(&p("rec.mp3")).unwrap();
        let (_, size) = open_checked(&checked.path, checked.identity).unwrap();
        assert_eq!(size, 7);
        std::fs::remove_file(p("rec.mp3")).unwrap();
        std::os::unix::fs::symlink(p("other.mp3"), p("rec.mp3")).unwrap();
        let err = open_checked(&checked.path, checked.identity).unwrap_err();
        assert!(matches!(err, RecordingError::Replaced(_)), "{err}");
        assert_eq!(err.code(), "file_replaced");
    }
}
