//! Tells the tests whether a PostgreSQL server can be started here: without one, the tests of
//! the store on PostgreSQL are compiled as ignored, with a reason (skipped, not passed).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(no_postgres)");
    println!("cargo::rerun-if-changed=/usr/lib/postgresql");
    let installed = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dirs| {
            dirs.flatten()
                .any(|d| d.path().join("bin/initdb").is_file() && d.path().join("bin/pg_ctl").is_file())
        })
        .unwrap_or(false);
    if !installed {
        println!("cargo::rustc-cfg=no_postgres");
    }
}
