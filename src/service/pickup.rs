//! Recording pickup: when a call ends, find its recording in the softphone's folder (by
//! name and time), wait until it stops growing, and make one file of it — baresip's two mono
//! WAVs (our side, the far side) become one stereo WAV.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long to wait for a recording to appear and settle.
const SETTLE_LIMIT: Duration = Duration::from_secs(60);

fn mtime_ms(path: &Path) -> Option<i64> {
    let modified = std::fs::metadata(path).ok()?.modified().ok()?;
    let d = modified.duration_since(UNIX_EPOCH).ok()?;
    i64::try_from(d.as_millis()).ok()
}

/// How long after a call's end its recording may still be written to (a softphone closes
/// the file a moment after hanging up; a slow disk takes a while more).
const WRITTEN_AFTER_END_MS: i64 = 30_000;

/// The recording files for a call that started at `started_ms` (and ended at `ended_ms`,
/// when known) with `number`: a single file whose name holds the number (MicroSIP's
/// `YYYYMMDD-HHMMSS-<number>-…`), else baresip's `dump-…-enc.wav`/`-dec.wav` pair. Only files
/// last written during the call, or shortly after it ended, count; of several, the one last
/// written nearest the call's end (baresip's names carry no number: two calls in a row each
/// get their own).
pub fn find(dir: &Path, number: &str, started_ms: i64, ended_ms: Option<i64>) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let latest = ended_ms.map_or(i64::MAX, |end| end + WRITTEN_AFTER_END_MS);
    let mut fresh: Vec<(i64, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter_map(|p| Some((mtime_ms(&p)?, p)))
        .filter(|(t, _)| *t >= started_ms - 5_000 && *t <= latest)
        .collect();
    // Nearest the end first (newest first when the end is not known).
    let end = ended_ms.unwrap_or(i64::MAX);
    fresh.sort_by_key(|(t, _)| (end.saturating_sub(*t)).abs());
    let name = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    if let Some((_, single)) = fresh.iter().find(|(_, p)| {
        let n = name(p);
        crate::domain::check_recording_name(&n).is_ok()
            && n.split(['-', '_', '.'])
                .any(|part| same_number(part, &digits))
    }) {
        return vec![single.clone()];
    }
    if let Some((_, enc)) = fresh
        .iter()
        .find(|(_, p)| name(p).starts_with("dump-") && name(p).ends_with("-enc.wav"))
    {
        let dec = enc.with_file_name(name(enc).replace("-enc.wav", "-dec.wav"));
        return if dec.exists() {
            vec![enc.clone(), dec]
        } else {
            vec![enc.clone()]
        };
    }
    Vec::new()
}

/// True when a file-name part is the number: the same digits, or the same last ten digits
/// (a national and an international form of one number).
fn same_number(part: &str, digits: &str) -> bool {
    let part: String = part.chars().filter(char::is_ascii_digit).collect();
    if part.is_empty() || digits.is_empty() {
        return false;
    }
    part == digits
        || (part.len() >= 10
            && digits.len() >= 10
            && part[part.len() - 10..] == digits[digits.len() - 10..])
}

/// The files' sizes (`None` where a file cannot be read yet), read on a blocking thread.
async fn sizes(files: &[PathBuf]) -> Vec<Option<u64>> {
    let files = files.to_vec();
    tokio::task::spawn_blocking(move || {
        files
            .iter()
            .map(|f| std::fs::metadata(f).map(|m| m.len()).ok())
            .collect()
    })
    .await
    .unwrap_or_default()
}

/// Waits until the files exist and their sizes stop changing.
pub async fn settle(files: &[PathBuf]) {
    let deadline = tokio::time::Instant::now() + SETTLE_LIMIT;
    let mut last = sizes(files).await;
    while tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let now = sizes(files).await;
        if !now.is_empty() && now == last && now.iter().all(Option::is_some) {
            return;
        }
        last = now;
    }
}

/// Why a recording could not be made into one file.
#[derive(Debug, thiserror::Error)]
pub enum PickupError {
    /// A file could not be read or written.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// "read", "create" or "write".
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A side is not the WAV baresip writes.
    #[error("{path} is not a 16-bit PCM WAV ({why})")]
    NotPcm {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        why: &'static str,
    },
    /// Too many samples for a WAV's 32-bit sizes.
    #[error("the recording is too long for a WAV")]
    TooLong,
    /// The two sides' sample rates differ.
    #[error("the two sides were recorded at {0} and {1} Hz")]
    Rates(u32, u32),
}

/// The most one side of a call may hold: the two sides merged must fit Pyrus's 2 GiB.
const MAX_SIDE_BYTES: u64 = crate::domain::MAX_UPLOAD_BYTES / 2;

/// 16-bit PCM samples and their rate, from a mono WAV. A header whose data size was never
/// filled in (the writer still had it open) counts the rest of the file. Only an ordinary
/// file of at most [`MAX_SIDE_BYTES`] is read: a pipe or device in its place is refused at
/// once, never waited on.
pub fn read_mono_pcm16(path: &Path) -> Result<(u32, Vec<i16>), PickupError> {
    let bytes = crate::platform::files::read_bounded(path, MAX_SIDE_BYTES).map_err(|source| {
        PickupError::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        }
    })?;
    let bad = |why| PickupError::NotPcm {
        path: path.to_path_buf(),
        why,
    };
    if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(bad("no RIFF/WAVE header"));
    }
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
    let u32_at =
        |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let mut pos = 12;
    let mut rate = None;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let size = u32_at(pos + 4) as usize;
        let body = pos + 8;
        if id == b"fmt " {
            if body + 16 > bytes.len()
                || u16_at(body) != 1
                || u16_at(body + 2) != 1
                || u16_at(body + 14) != 16
            {
                return Err(bad("not mono 16-bit PCM"));
            }
            rate = Some(u32_at(body + 4));
        } else if id == b"data" {
            let rate = rate.ok_or_else(|| bad("data before fmt"))?;
            let end = if size == 0 || body + size > bytes.len() {
                bytes.len()
            } else {
                body + size
            };
            let samples = bytes[body..end]
                .chunks_exact(2)
                .map(|c| i16::from_le_bytes([c[0], c[1]]))
                .collect();
            return Ok((rate, samples));
        }
        pos = body + size + (size & 1);
    }
    Err(bad("no data chunk"))
}

/// Writes a stereo 16-bit WAV: `left` and `right` side by side, the shorter padded with
/// silence.
pub fn write_stereo(
    path: &Path,
    rate: u32,
    left: &[i16],
    right: &[i16],
) -> Result<(), PickupError> {
    let frames = left.len().max(right.len());
    let data_len = u32::try_from(frames * 4).map_err(|_| PickupError::TooLong)?;
    let mut out = Vec::with_capacity(44 + frames * 4);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16_u32.to_le_bytes());
    out.extend_from_slice(&1_u16.to_le_bytes());
    out.extend_from_slice(&2_u16.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 4).to_le_bytes());
    out.extend_from_slice(&4_u16.to_le_bytes());
    out.extend_from_slice(&16_u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..frames {
        out.extend_from_slice(&left.get(i).copied().unwrap_or(0).to_le_bytes());
        out.extend_from_slice(&right.get(i).copied().unwrap_or(0).to_le_bytes());
    }
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let io = |action, path: &Path| {
        let path = path.to_path_buf();
        move |source| PickupError::Io {
            action,
            path,
            source,
        }
    };
    std::fs::create_dir_all(dir).map_err(io("create", dir))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io("write in", dir))?;
    std::io::Write::write_all(&mut tmp, &out).map_err(io("write", path))?;
    tmp.persist(path).map_err(|e| io("write", path)(e.error))?;
    Ok(())
}

/// One file for the call: a single recording as it is, or baresip's pair merged into
/// `out_dir/<name>.wav` (our side left, the far side right).
pub fn one_file(
    files: &[PathBuf],
    out_dir: &Path,
    name: &str,
) -> Result<Option<PathBuf>, PickupError> {
    match files {
        [] => Ok(None),
        [single] => Ok(Some(single.clone())),
        [ours, theirs, ..] => {
            let (rate, left) = read_mono_pcm16(ours)?;
            let (rate2, right) = read_mono_pcm16(theirs)?;
            if rate != rate2 {
                return Err(PickupError::Rates(rate, rate2));
            }
            let safe: String = name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let stamp = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let path = out_dir.join(format!("call-{safe}-{stamp}.wav"));
            write_stereo(&path, rate, &left, &right)?;
            Ok(Some(path))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{find, one_file, read_mono_pcm16, write_stereo};

    fn mono(path: &std::path::Path, samples: &[i16], fill_size: bool) {
        let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        for v in [
            16_u32.to_le_bytes().to_vec(),
            1_u16.to_le_bytes().to_vec(),
            1_u16.to_le_bytes().to_vec(),
            8000_u32.to_le_bytes().to_vec(),
            16000_u32.to_le_bytes().to_vec(),
            2_u16.to_le_bytes().to_vec(),
            16_u16.to_le_bytes().to_vec(),
        ] {
            out.extend_from_slice(&v);
        }
        out.extend_from_slice(b"data");
        let size = if fill_size { data.len() as u32 } else { 0 };
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&data);
        std::io::Write::write_all(&mut std::fs::File::create(path).unwrap(), &out).unwrap();
    }

    #[test]
    fn two_sides_become_one_stereo_file() {
        let dir = tempfile::tempdir().unwrap();
        let enc = dir.path().join("dump-2026-11-28-10-00-00-enc.wav");
        let dec = dir.path().join("dump-2026-11-28-10-00-00-dec.wav");
        mono(&enc, &[1, 2, 3], true);
        mono(&dec, &[-1], false); // a header the writer never finished
        let files = find(dir.path(), "79774221338", 0, None);
        assert_eq!(files, vec![enc.clone(), dec.clone()]);
        let merged = one_file(&files, &dir.path().join("out"), "1-2@x")
            .unwrap()
            .unwrap();
        let bytes = std::fs::read(&merged).unwrap();
        assert_eq!(u16::from_le_bytes([bytes[22], bytes[23]]), 2, "stereo");
        let samples: Vec<i16> = bytes[44..]
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]))
            .collect();
        assert_eq!(samples, vec![1, -1, 2, 0, 3, 0]);
        assert!(
            read_mono_pcm16(&merged).is_err(),
            "the result is stereo, not mono"
        );
        write_stereo(&dir.path().join("x.wav"), 8000, &[], &[]).unwrap();
    }

    #[test]
    fn a_microsip_file_is_found_by_number() {
        let dir = tempfile::tempdir().unwrap();
        let other = dir
            .path()
            .join("20261128-100000-5551234-incoming-agent.wav");
        let ours = dir
            .path()
            .join("20261128-100500-79774221338-incoming-agent.mp3");
        for p in [&other, &ours] {
            std::io::Write::write_all(&mut std::fs::File::create(p).unwrap(), b"x").unwrap();
        }
        assert_eq!(find(dir.path(), "+7 977 422-13-38", 0, None), vec![ours]);
        assert!(find(dir.path(), "123", 0, None).is_empty());
        assert!(find(&dir.path().join("missing"), "123", 0, None).is_empty());
    }

    #[test]
    fn of_two_calls_in_a_row_each_gets_the_recording_written_at_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let at = |path: &std::path::Path, ms: u64| {
            let time = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
            std::fs::File::options()
                .write(true)
                .open(path)
                .unwrap()
                .set_modified(time)
                .unwrap();
        };
        let first = dir.path().join("dump-2026-11-29-10-00-00-enc.wav");
        let second = dir.path().join("dump-2026-11-29-10-05-00-enc.wav");
        for (path, ms) in [(&first, 1_000_000), (&second, 1_400_000)] {
            mono(path, &[1], true);
            at(path, ms);
        }
        // The first call: 900 s to 1000 s; the second: 1300 s to 1400 s.
        assert_eq!(
            find(dir.path(), "+79161112200", 900_000, Some(1_000_000)),
            vec![first]
        );
        assert_eq!(
            find(dir.path(), "+79161112200", 1_300_000, Some(1_400_000)),
            vec![second.clone()]
        );
        // A call whose recording never came does not take a later call's.
        assert!(find(dir.path(), "+79161112200", 1_100_000, Some(1_200_000)).is_empty());
        // Without an end (an old pickup), the newest one written since the start.
        assert_eq!(
            find(dir.path(), "+79161112200", 900_000, None),
            vec![second]
        );
    }
}
