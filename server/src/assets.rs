//! The built site's static files as a production site serves them: the
//! browser bundle under `/pkg/` with content-hashed names (cargo-leptos's
//! `hash-files`), precompressed once at build time (`keywatch precompress`
//! writes `.br` and `.gz` beside each file) and chosen by `Accept-Encoding`,
//! cached for a year as `immutable` when hashed (a new build has new names),
//! revalidated otherwise.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use axum::Router;
use axum::response::Response;
use http::{HeaderValue, header};
use tower_http::services::ServeDir;

/// The file cargo-leptos writes beside the binary when `hash-files` is on:
/// `js: <hash>`, `wasm: <hash>`, `css: <hash>` lines.
pub const HASH_FILE: &str = "hash.txt";

/// `Cache-Control` for hashed files: their name changes with their bytes.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` for unhashed files (a debug build): a reload sees a rebuild.
const REVALIDATE: &str = "no-cache";

/// The files `precompress` compresses: text and wasm, which shrink by
/// 3-4x; images and fonts are compressed already.
const COMPRESSIBLE: [&str; 6] = ["wasm", "js", "css", "svg", "json", "html"];

/// What the site's file names are, read from cargo-leptos's hash file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteHashes {
    pub js: Option<String>,
    pub wasm: Option<String>,
    pub css: Option<String>,
}

impl SiteHashes {
    /// The hashes beside the running binary, where cargo-leptos writes
    /// them and Leptos's `HydrationScripts` reads them; empty without.
    pub fn beside_binary() -> SiteHashes {
        hash_file_path()
            .and_then(|path| std::fs::read_to_string(path).ok())
            .map(|text| SiteHashes::parse(&text))
            .unwrap_or_default()
    }

    /// Parses `name: hash` lines; unknown names are ignored.
    pub fn parse(text: &str) -> SiteHashes {
        let mut hashes = SiteHashes::default();
        for (name, hash) in text.lines().filter_map(|line| line.split_once(':')) {
            let hash = Some(hash.trim().to_owned()).filter(|hash| !hash.is_empty());
            match name.trim() {
                "js" => hashes.js = hash,
                "wasm" => hashes.wasm = hash,
                "css" => hashes.css = hash,
                _ => {}
            }
        }
        hashes
    }

    /// Whether the bundle's names carry hashes (a `cargo leptos build`
    /// wrote the hash file); Leptos is told to use them only then.
    pub fn hashed(&self) -> bool {
        self.js.is_some() && self.wasm.is_some()
    }

    /// The stylesheet's URL, for pages rendered outside Leptos (login).
    pub fn stylesheet_href(&self, output_name: &str) -> String {
        match &self.css {
            Some(hash) => format!("/pkg/{output_name}.{hash}.css"),
            None => format!("/pkg/{output_name}.css"),
        }
    }
}

/// The console's stylesheet URL for pages rendered outside Leptos (the
/// login page), read from the hash file once.
pub fn stylesheet_href() -> &'static str {
    static HREF: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HREF.get_or_init(|| SiteHashes::beside_binary().stylesheet_href(OUTPUT_NAME))
}

/// The bundle's base name (`output-name` in cargo-leptos's terms).
pub const OUTPUT_NAME: &str = "keywatch";

/// Where the hash file is, if the binary's directory is known.
pub fn hash_file_path() -> Option<PathBuf> {
    Some(std::env::current_exe().ok()?.parent()?.join(HASH_FILE))
}

/// `/pkg/*` from `site_root/pkg`: a precompressed `.br` or `.gz` sibling
/// when the browser accepts it, with the caching the names allow.
pub fn pkg_router<S: Clone + Send + Sync + 'static>(site_root: &Path, hashed: bool) -> Router<S> {
    let files = ServeDir::new(site_root.join("pkg")).precompressed_br().precompressed_gzip();
    let cache_control = HeaderValue::from_static(if hashed { IMMUTABLE } else { REVALIDATE });
    Router::new().nest_service("/pkg", files).layer(axum::middleware::map_response(move |mut response: Response| {
        let cache_control = cache_control.clone();
        async move {
            if response.status().is_success() || response.status() == http::StatusCode::NOT_MODIFIED {
                response.headers_mut().insert(header::CACHE_CONTROL, cache_control);
            }
            response
        }
    }))
}

/// Compresses each compressible file under `site_root/pkg` into `.br`
/// (quality 11, the slowest and smallest: done once per build) and `.gz`
/// (level 9) beside it, skipping those already newer than their source.
/// Returns what was written, for the build's log.
pub fn precompress(site_root: &Path) -> std::io::Result<Vec<Compressed>> {
    let pkg = site_root.join("pkg");
    let mut written = Vec::new();
    for entry in std::fs::read_dir(&pkg)? {
        let path = entry?.path();
        let compressible = path.extension().and_then(|ext| ext.to_str()).is_some_and(|ext| COMPRESSIBLE.contains(&ext));
        if !compressible || !path.is_file() {
            continue;
        }
        let bytes = std::fs::read(&path)?;
        let br = sibling(&path, "br");
        let gz = sibling(&path, "gz");
        if !is_newer(&br, &path) {
            write_atomically(&br, &brotli_bytes(&bytes)?)?;
        }
        if !is_newer(&gz, &path) {
            write_atomically(&gz, &gzip_bytes(&bytes)?)?;
        }
        written.push(Compressed {
            file: path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default(),
            raw: bytes.len() as u64,
            brotli: std::fs::metadata(&br)?.len(),
            gzip: std::fs::metadata(&gz)?.len(),
        });
    }
    written.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(written)
}

/// One precompressed file's sizes in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compressed {
    pub file: String,
    pub raw: u64,
    pub brotli: u64,
    pub gzip: u64,
}

fn sibling(path: &Path, extension: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(extension);
    PathBuf::from(name)
}

/// Whether `derived` exists and was written after `source` changed.
fn is_newer(derived: &Path, source: &Path) -> bool {
    let modified = |path: &Path| std::fs::metadata(path).and_then(|metadata| metadata.modified()).ok();
    matches!((modified(derived), modified(source)), (Some(derived), Some(source)) if derived >= source)
}

/// Writes through a temporary file and a rename, so a server reading the
/// directory never serves half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temporary = sibling(path, "tmp");
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path)
}

fn brotli_bytes(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len() / 3);
    // Quality 11 and a 4 MiB window (lgwin 22): the smallest output.
    let mut writer = brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, 22);
    writer.write_all(bytes)?;
    writer.flush()?;
    drop(writer);
    Ok(out)
}

fn gzip_bytes(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 3), flate2::Compression::best());
    encoder.write_all(bytes)?;
    encoder.finish()
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    #[test]
    fn the_hash_file_names_the_bundle() {
        let hashes = SiteHashes::parse("js: abc123\nwasm: def456\ncss: 789fed\n");
        assert!(hashes.hashed());
        assert_eq!(hashes.stylesheet_href("keywatch"), "/pkg/keywatch.789fed.css");
        let none = SiteHashes::parse("");
        assert!(!none.hashed());
        assert_eq!(none.stylesheet_href("keywatch"), "/pkg/keywatch.css");
    }

    #[test]
    fn precompressed_files_decompress_to_their_source_and_are_not_redone() {
        let site = tempfile::tempdir().expect("site");
        std::fs::create_dir(site.path().join("pkg")).expect("pkg");
        let source = "body { color: black }\n".repeat(500);
        std::fs::write(site.path().join("pkg/keywatch.css"), &source).expect("css");
        std::fs::write(site.path().join("pkg/logo.png"), [0u8; 64]).expect("png");

        let written = precompress(site.path()).expect("precompress");
        assert_eq!(written.len(), 1, "{written:?}");
        assert!(written[0].brotli < written[0].raw / 10 && written[0].gzip < written[0].raw / 10, "{written:?}");

        let mut unbrotli = String::new();
        let br = std::fs::read(site.path().join("pkg/keywatch.css.br")).expect("br");
        brotli::Decompressor::new(br.as_slice(), 4096).read_to_string(&mut unbrotli).expect("brotli");
        assert_eq!(unbrotli, source);
        let mut ungzip = String::new();
        let gz = std::fs::read(site.path().join("pkg/keywatch.css.gz")).expect("gz");
        flate2::read::GzDecoder::new(gz.as_slice()).read_to_string(&mut ungzip).expect("gzip");
        assert_eq!(ungzip, source);
        assert!(!site.path().join("pkg/logo.png.br").exists());

        let before = std::fs::metadata(site.path().join("pkg/keywatch.css.br")).and_then(|m| m.modified()).expect("m");
        precompress(site.path()).expect("again");
        let after = std::fs::metadata(site.path().join("pkg/keywatch.css.br")).and_then(|m| m.modified()).expect("m");
        assert_eq!(before, after, "an up-to-date .br is not rewritten");
    }
}
