//! Finds the protobuf schema that `waproto` was generated from, for `proto_to_baileys`.
//!
//! `waproto` 0.7.0 ships its schema as a serialized `FileDescriptorSet` (`src/whatsapp.desc`,
//! the input of its own codegen) but exposes no constant for it, and it declares no `links`
//! key, so Cargo hands us no `DEP_WAPROTO_*` metadata either. The supported way to learn where
//! a dependency's sources are is `cargo metadata`: we ask it for the `waproto` package this
//! build resolved and pass that crate's own descriptor to the compiler as
//! `WAPROTO_DESCRIPTOR_PATH`. Reading the descriptor from the very package we link against
//! keeps the schema and the generated Rust types in lock-step (a copy would drift on upgrades),
//! and it works the same from the registry, a vendored directory or a git checkout.

use std::path::PathBuf;
use std::process::Command;

/// The `waproto` version whose generated types we encode with. Must match Cargo.toml.
const WAPROTO_VERSION: &str = "0.7.0";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let descriptor = match locate_waproto_descriptor() {
        Ok(path) => path,
        Err(why) => panic!("shard-core: cannot locate waproto's whatsapp.desc: {why}"),
    };
    println!("cargo:rerun-if-changed={}", descriptor.display());
    println!("cargo:rustc-env=WAPROTO_DESCRIPTOR_PATH={}", descriptor.display());
}

fn locate_waproto_descriptor() -> Result<PathBuf, String> {
    // `--offline` first: usually the outer build has fetched everything. But `cargo metadata`
    // resolves the whole workspace, and a build of one member (`cargo test -p shard-core` on a
    // fresh machine) has not downloaded the other members' crates; then metadata is allowed to
    // fetch them (`--locked`: exactly the versions in Cargo.lock, never a lock-file change).
    metadata(&["--offline"])
        .or_else(|offline| metadata(&["--locked"]).map_err(|online| format!("{offline}\nretried online: {online}")))
        .and_then(|metadata| waproto_descriptor(&metadata))
}

fn metadata(mode: &[&str]) -> Result<serde_json::Value, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?;
    // `--filter-platform`: only this target's packages (without it, cargo wants every
    // platform's crates).
    let mut command = Command::new(cargo);
    command.args(["metadata", "--format-version", "1"]).args(mode);
    for var in ["TARGET", "HOST"] {
        if let Ok(triple) = std::env::var(var) {
            command.args(["--filter-platform", &triple]);
        }
    }
    let output = command
        .arg("--manifest-path")
        .arg(PathBuf::from(&manifest_dir).join("Cargo.toml"))
        .output()
        .map_err(|e| format!("running `cargo metadata`: {e}"))?;
    if !output.status.success() {
        return Err(format!("`cargo metadata` failed: {}", String::from_utf8_lossy(&output.stderr)));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("parsing `cargo metadata`: {e}"))
}

fn waproto_descriptor(metadata: &serde_json::Value) -> Result<PathBuf, String> {
    let packages = metadata["packages"].as_array().ok_or("`cargo metadata` lists no packages")?;
    let waproto = packages
        .iter()
        .find(|p| p["name"] == "waproto" && p["version"] == WAPROTO_VERSION)
        .ok_or_else(|| format!("waproto {WAPROTO_VERSION} is not in the dependency graph"))?;
    let manifest_path = waproto["manifest_path"].as_str().ok_or("waproto has no manifest_path")?;
    let crate_dir = PathBuf::from(manifest_path).parent().map(PathBuf::from).ok_or("waproto's manifest_path has no parent directory")?;
    let descriptor = crate_dir.join("src").join("whatsapp.desc");
    if !descriptor.is_file() {
        return Err(format!("{} does not exist", descriptor.display()));
    }
    Ok(descriptor)
}
