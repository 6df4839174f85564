//! The built-in policies are embedded with `include_dir!`, which does not
//! tell cargo about files added later: rebuild when `policies/` changes.
//!
//! It also records the commit being built (`kvaudit --version` names it):
//! `git rev-parse` when building from a clone, else `KVAUDIT_COMMIT` if set
//! (a release build), else "unknown commit" (a source tarball).
fn main() {
    println!("cargo:rerun-if-changed=policies");
    println!("cargo:rerun-if-changed=fixtures/demo");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs");
    println!("cargo:rerun-if-changed=.git/packed-refs");
    println!("cargo:rerun-if-env-changed=KVAUDIT_COMMIT");
    let commit = std::env::var("KVAUDIT_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| {
            let out = std::process::Command::new("git")
                .args(["rev-parse", "--short=12", "HEAD"])
                .output()
                .ok()?;
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        })
        .unwrap_or_else(|| "unknown commit".into());
    println!("cargo:rustc-env=KVAUDIT_COMMIT={commit}");
}
