//! Lists every file under `templates/` for [`templates`](src/templates.rs)
//! to embed, so a new page or tile template is picked up by adding the file
//! alone (no registry to keep in step with the folder).

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=templates");
    // Read when the script runs, not when it was compiled: a build script
    // compiled in another checkout (a shared target directory) would
    // otherwise embed that checkout's templates.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest_dir).join("templates");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let mut out = String::from("[\n");
    for file in &files {
        let name = file
            .strip_prefix(&root)
            .expect("walked under the templates folder")
            .components()
            .map(|c| c.as_os_str().to_str().expect("template paths are UTF-8"))
            .collect::<Vec<_>>()
            .join("/");
        out.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            file.to_str().expect("template paths are UTF-8")
        ));
    }
    out.push(']');
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(dest.join("templates.rs"), out).expect("OUT_DIR is writable");
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("readable templates folder").path();
        if path.is_dir() {
            walk(&path, files);
        } else if path.extension().is_some_and(|e| e == "html") {
            files.push(path);
        }
    }
}
