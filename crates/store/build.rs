//! `sqlx::migrate!` embeds the migration files at compile time; this makes
//! Cargo rebuild the crate when one is added or edited.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
