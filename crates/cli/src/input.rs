//! Reading a scenario file, with errors an operator can act on.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, anyhow, bail};
use poolsim_scenario::{Config, FieldError, MAX_SCENARIO_BYTES, Scenario, ScenarioError};

/// The largest input file read (a scenario, a config file or an included one), in bytes.
pub const MAX_FILE_BYTES: usize = MAX_SCENARIO_BYTES;

/// The text of `path`, refused before reading if larger than [`MAX_FILE_BYTES`] (a pipe or
/// device is read at most one byte past the bound), or if it is not UTF-8.
pub fn read_text(path: &Path) -> anyhow::Result<String> {
    let name = path.display();
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {name}"))?;
    let limit = MAX_FILE_BYTES / (1024 * 1024);
    if let Ok(meta) = file.metadata()
        && meta.is_file()
        && meta.len() > MAX_FILE_BYTES as u64
    {
        let mib = meta.len() as f64 / (1024.0 * 1024.0);
        bail!("{name} is {mib:.1} MiB; the largest file read is {limit} MiB");
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {name}"))?;
    if bytes.len() > MAX_FILE_BYTES {
        bail!("{name} goes on past {limit} MiB, the largest file read");
    }
    text(&name.to_string(), bytes)
}

/// `bytes` as UTF-8 text, or a message saying what the file holds instead.
fn text(name: &str, bytes: Vec<u8>) -> anyhow::Result<String> {
    if utf16(&bytes) {
        bail!(
            "{name} is UTF-16 text; poolsim reads UTF-8 (convert it with \
             `iconv -f UTF-16 -t UTF-8 {name}`)"
        );
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.into_bytes();
        let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
        anyhow!(
            "{name} is not UTF-8 text: byte {} (line {line}) is not valid UTF-8",
            at + 1
        )
    })
}

/// A UTF-16 byte-order mark, or ASCII text with a zero byte beside each character.
fn utf16(bytes: &[u8]) -> bool {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return true;
    }
    let head = &bytes[..bytes.len().min(64) & !1];
    let zeros = |offset: usize| head.iter().skip(offset).step_by(2).all(|&b| b == 0);
    head.len() >= 4 && (zeros(0) || zeros(1))
}

/// Reads and parses `path` (shape only), with `seed` in place of the file's seed if given.
pub fn read(path: &Path, seed: Option<u64>) -> anyhow::Result<Scenario> {
    let text = read_text(path)?;
    let mut scenario =
        poolsim_scenario::parse(&text).map_err(|e| invalid(&path.display().to_string(), &e))?;
    if let Some(seed) = seed {
        scenario.seed = seed;
    }
    Ok(scenario)
}

/// Reads, parses and validates `path`.
pub fn load(path: &Path, seed: Option<u64>) -> anyhow::Result<Config> {
    read(path, seed)?
        .validate()
        .map_err(|errors| invalid(&path.display().to_string(), &ScenarioError::Invalid(errors)))
}

/// `error: NAME is not a valid scenario:` then one indented `path: message` line per problem
/// (a syntax error keeps its line and column).
pub fn invalid(name: &str, error: &ScenarioError) -> anyhow::Error {
    let lines = match error {
        ScenarioError::Parse { line: 0, .. } => field_lines(&error.fields()),
        _ => indent(&error.to_string()),
    };
    anyhow!("{name} is not a valid scenario:\n{lines}")
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|line| format!("  {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One indented `path: message` line per problem.
pub fn field_lines(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| {
            if e.path.is_empty() || e.path == "." {
                format!("  {}", e.message)
            } else {
                format!("  {e}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(bytes: &[u8]) -> String {
        text("f.json", bytes.to_vec()).unwrap_err().to_string()
    }

    #[test]
    fn utf16_with_or_without_a_mark_is_named_and_utf8_is_read() {
        let utf16le: Vec<u8> = "{\"seed\": 1}"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let utf16be: Vec<u8> = "\u{feff}{\"seed\": 1}"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        for bytes in [&utf16le, &utf16be] {
            assert_eq!(
                message(bytes),
                "f.json is UTF-16 text; poolsim reads UTF-8 (convert it with \
                 `iconv -f UTF-16 -t UTF-8 f.json`)"
            );
        }
        assert_eq!(
            message(b"{\n\"a\": \"\xff\"}"),
            "f.json is not UTF-8 text: byte 9 (line 2) is not valid UTF-8"
        );
        assert_eq!(text("f.json", "{\"é\": 1}".into()).unwrap(), "{\"é\": 1}");
        assert_eq!(text("f.json", b"{}".to_vec()).unwrap(), "{}");
    }

    #[test]
    fn files_past_the_bound_are_refused_before_reading_and_streams_at_the_bound() {
        let dir = std::env::temp_dir().join(format!("poolsim-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let big = dir.join("big.json");
        let file = std::fs::File::create(&big).unwrap();
        // A sparse file: its length is known without writing (or reading) its bytes.
        file.set_len(50 * 1024 * 1024).unwrap();
        assert_eq!(
            read_text(&big).unwrap_err().to_string(),
            format!(
                "{} is 50.0 MiB; the largest file read is 8 MiB",
                big.display()
            )
        );
        std::fs::remove_dir_all(&dir).unwrap();
        // /dev/zero never ends: it is read one byte past the bound and refused.
        assert_eq!(
            read_text(Path::new("/dev/zero")).unwrap_err().to_string(),
            "/dev/zero goes on past 8 MiB, the largest file read"
        );
    }
}
