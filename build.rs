//! Rebuilds when a migration is added or edited: `embed_migrations!` reads `migrations/` at
//! compile time, and cargo does not otherwise know it depends on that folder.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
