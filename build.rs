//! The built-in policies are embedded with `include_dir!`, which does not
//! tell cargo about files added later: rebuild when `policies/` changes.
fn main() {
    println!("cargo:rerun-if-changed=policies");
    println!("cargo:rerun-if-changed=fixtures/demo");
}
