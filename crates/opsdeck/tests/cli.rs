//! The command line as a user meets it: help texts, `default-config`,
//! `check-config` on good and bad files, `migrate`.

use std::process::{Command, Output};

fn opsdeck(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_opsdeck"));
    cmd.args(args).env_remove("OPSDECK_DATABASE_URL");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("run opsdeck")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("opsdeck-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn every_command_explains_itself() {
    let out = opsdeck(&["--help"], &[]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for command in ["demo", "serve", "check-config", "migrate", "default-config"] {
        assert!(help.contains(command), "--help lacks {command}");
        let sub = opsdeck(&[command, "--help"], &[]);
        assert!(sub.status.success(), "{command} --help failed");
        assert!(
            text(&sub.stdout).len() > 80,
            "{command} --help says too little"
        );
    }
}

#[test]
fn default_config_passes_check_config_when_its_variables_are_set() {
    let out = opsdeck(&["default-config"], &[]);
    assert!(out.status.success());
    let dir = temp_dir("default");
    let path = dir.join("opsdeck.toml");
    std::fs::write(&path, &out.stdout).unwrap();
    let path = path.to_str().unwrap();

    let secrets = [
        ("OPSDECK_SHOPIFY_PLENTUM_TOKEN", "shpat_secret_plentum"),
        ("OPSDECK_SHOPIFY_MAVENA_TOKEN", "shpat_secret_mavena"),
        ("OPSDECK_GORGIAS_API_KEY", "gorgias_secret_key"),
    ];
    let ok = opsdeck(&["check-config", path], &secrets);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    let all = text(&ok.stdout) + &text(&ok.stderr);
    assert!(all.contains("OK"), "{all}");
    for (_, secret) in secrets {
        assert!(!all.contains(secret), "check-config printed a secret");
    }

    // Without the variables: non-zero, and each missing variable named.
    let missing = opsdeck(&["check-config", path], &[]);
    assert!(!missing.status.success());
    let err = text(&missing.stderr);
    assert!(
        err.contains("OPSDECK_SHOPIFY_PLENTUM_TOKEN is not set"),
        "{err}"
    );
    assert!(err.contains("OPSDECK_GORGIAS_API_KEY is not set"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn check_config_lists_every_problem_with_line_and_key() {
    let dir = temp_dir("bad");
    let path = dir.join("bad.toml");
    std::fs::write(
        &path,
        "[[brands]]\nid = \"a\"\nname = \"A\"\ntime_zone = \"Nowhere/City\"\ncurrency = \"USD\"\nflavour = \"x\"\n",
    )
    .unwrap();
    let out = opsdeck(&["check-config", path.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("2 problem(s)"), "{err}");
    assert!(err.contains("line 4: brands[0].time_zone"), "{err}");
    assert!(
        err.contains("line 6: brands[0].flavour: unknown key"),
        "{err}"
    );

    let missing = opsdeck(&["check-config", "/nonexistent/opsdeck.toml"], &[]);
    assert!(!missing.status.success());
    assert!(text(&missing.stderr).contains("cannot read the file"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn migrate_creates_a_sqlite_database_and_is_repeatable() {
    let dir = temp_dir("migrate");
    let url = format!("sqlite:{}", dir.join("m.db").display());
    for _ in 0..2 {
        let out = opsdeck(&["migrate", "--database-url", &url], &[]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("up to date"));
    }
    assert!(dir.join("m.db").exists());
    let bad = opsdeck(&["migrate", "--database-url", "mysql://x"], &[]);
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("unsupported database URL"),
        "{}",
        text(&bad.stderr)
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// With `--skip-invalid` and not one valid row, the import told the user to
/// pass `--skip-invalid`.
#[test]
fn import_with_skip_invalid_and_no_valid_row_says_so() {
    let dir = temp_dir("import-none-valid");
    let config = dir.join("opsdeck.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = \"sqlite:{}\"\n\n[[brands]]\nid = \"a\"\nname = \"A\"\ntime_zone = \"UTC\"\ncurrency = \"USD\"\n",
            dir.join("i.db").display()
        ),
    )
    .unwrap();
    let csv = dir.join("orders.csv");
    std::fs::write(
        &csv,
        "external_id,name,created_at,total_price,financial_status\nX1,#X1,yesterday,1.00,paid\n",
    )
    .unwrap();
    let (config, csv) = (config.to_str().unwrap(), csv.to_str().unwrap());
    let args = ["import", "orders", csv, "--brand", "a", "--config", config];
    let out = opsdeck(&[&args[..], &["--skip-invalid"]].concat(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.contains("nothing written: no row is valid"), "{said}");
    assert!(!said.contains("pass --skip-invalid"), "{said}");
    assert!(text(&out.stderr).contains("line 2, column created_at"));
    // Without the flag the advice stands.
    let out = opsdeck(&args, &[]);
    assert!(text(&out.stdout).contains("pass --skip-invalid"));
    let _ = std::fs::remove_dir_all(dir);
}
