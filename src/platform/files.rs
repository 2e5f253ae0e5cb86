//! Files other people and programs control — recordings, settings files, lock files — opened
//! so that none of them can hold a thread or fool a check: only regular files are used (a
//! pipe, device or socket is refused before it can block, the open itself never waits for a
//! writer), a read is bounded in size, and a file's identity (its device and inode) says
//! whether the file read now is the one that was checked earlier.

use std::fs::File;
use std::io::Read as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Which file this is on its file system, whatever name it goes by now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileIdentity {
    /// The device (file system) holding it.
    pub device: u64,
    /// Its inode on that device.
    pub inode: u64,
    /// When it was made (ns since the Unix epoch), where the file system says: an inode
    /// freed and given to a new file under the same name is not the same file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub born_ns: Option<u64>,
}

/// The identity of an opened file (`None` where the OS gives none this way: Windows).
pub fn identity(meta: &std::fs::Metadata) -> Option<FileIdentity> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        let born_ns = meta
            .created()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .and_then(|d| u64::try_from(d.as_nanos()).ok());
        Some(FileIdentity {
            device: meta.dev(),
            inode: meta.ino(),
            born_ns,
        })
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

/// What kind of thing a path turned out to be, when it is not a regular file ("a pipe
/// (FIFO)", "a device", "a folder", …).
pub fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    let kind = meta.file_type();
    if kind.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if kind.is_fifo() {
            return "a pipe (FIFO)";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    "not an ordinary file"
}

/// A path that is there but is not a regular file: the error says what it is.
fn not_regular(meta: &std::fs::Metadata) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!(
            "it is {}, not an ordinary file: nothing is read from it",
            kind_of(meta)
        ),
    )
}

/// Opens `path` for reading, following links, and only if it is a regular file. On Unix the
/// open does not wait for a pipe's writer (`O_NONBLOCK`), so a FIFO put in a file's place
/// is refused at once instead of holding the thread.
pub fn open_regular(path: &Path) -> std::io::Result<(File, std::fs::Metadata)> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits().cast_signed());
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    Ok((file, meta))
}

/// Opens `path` for writing (creating it when `create`), refusing a link in its place (`O_NOFOLLOW`) and
/// anything but a regular file — for lock files, which nobody should be able to redirect or
/// turn into a pipe.
pub fn open_lock_file(path: &Path, create: bool) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(create).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        let flags = rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::NOFOLLOW;
        options.custom_flags(flags.bits().cast_signed());
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    Ok(file)
}

/// Reads a regular file of at most `limit` bytes whole; a bigger one is refused, never read
/// to its end (a link to `/dev/zero` is not a file, and a huge file is not read at all).
pub fn read_bounded(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let (file, meta) = open_regular(path)?;
    let too_big = || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "it is larger than {} KiB: nothing is read from it",
                limit / 1024
            ),
        )
    };
    if meta.len() > limit {
        return Err(too_big());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    // One byte more than allowed tells a file that grew past the limit since the check.
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_big());
    }
    Ok(bytes)
}

/// Reads a regular text file of at most `limit` bytes (see [`read_bounded`]).
pub fn read_text_bounded(path: &Path, limit: u64) -> std::io::Result<String> {
    String::from_utf8(read_bounded(path, limit)?).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "it is not text (UTF-8): nothing is read from it",
        )
    })
}

/// Raises this process's soft limit on open files towards its hard limit (to at most
/// 8,192): the event hook serves as many connections as files allow, so a flood of idle
/// ones does not keep a softphone waiting. Best effort: the limit stays as it was when the
/// OS refuses.
pub fn allow_more_open_files() {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let limit = getrlimit(Resource::Nofile);
        let wanted = limit.maximum.map_or(8192, |max| max.min(8192));
        if limit.current.is_some_and(|current| current < wanted) {
            let raised = Rlimit {
                current: Some(wanted),
                maximum: limit.maximum,
            };
            if let Err(e) = setrlimit(Resource::Nofile, raised) {
                tracing::debug!(error = %e, "the open-file limit stays as it was");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_is_read_and_its_identity_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::io::Write::write_all(&mut File::create(&path).unwrap(), b"hello").unwrap();
        assert_eq!(read_text_bounded(&path, 5).unwrap(), "hello");
        let err = read_bounded(&path, 4).unwrap_err();
        assert!(err.to_string().contains("larger than"), "{err}");
        let (_, first) = open_regular(&path).unwrap();
        let (_, again) = open_regular(&path).unwrap();
        assert_eq!(identity(&first), identity(&again));
        // A file put in its place under the same name is another file.
        std::fs::remove_file(&path).unwrap();
        std::io::Write::write_all(&mut File::create(&path).unwrap(), b"other").unwrap();
        let (_, other) = open_regular(&path).unwrap();
        #[cfg(unix)]
        assert_ne!(identity(&first), identity(&other));
        #[cfg(not(unix))]
        let _ = other;
    }

    #[cfg(unix)]
    #[test]
    fn a_pipe_or_device_is_refused_without_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        rustix::fs::mkfifoat(rustix::fs::CWD, &fifo, rustix::fs::Mode::RWXU).unwrap();
        // With nobody writing, a plain open would wait for ever.
        let err = read_bounded(&fifo, 1024).unwrap_err();
        assert!(err.to_string().contains("a pipe (FIFO)"), "{err}");
        let err = open_lock_file(&fifo, false).unwrap_err();
        assert!(
            err.to_string().contains("a pipe") || err.raw_os_error().is_some(),
            "{err}"
        );
        let err = read_bounded(Path::new("/dev/zero"), 1024).unwrap_err();
        assert!(err.to_string().contains("a device"), "{err}");
        let link = dir.path().join("lock");
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), &link).unwrap();
        assert!(open_lock_file(&link, true).is_err());
        assert!(!dir.path().join("elsewhere").exists());
    }
}
