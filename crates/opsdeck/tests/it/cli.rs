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
    crate::helpers::temp_dir(&format!("cli-{name}"))
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

/// Issue 11.11: configurations that `serve` would refuse later, or that
/// would leak a secret, are refused by `check-config` and by `serve` at
/// start, each with its line and key, and no secret printed.
#[test]
fn check_config_and_serve_refuse_what_would_break_or_leak_a_secret() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("exposure");
    let private = |name: &str, content: &str| {
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        path.display().to_string()
    };
    let two_lines = private("two-lines", "shpat_first_line\nshpat_second_line\n");
    let good = private("good", "shpat_good_token\n");
    let shared = dir.join("shared");
    std::fs::write(&shared, "shpat_shared_token\n").unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o644)).unwrap();
    let brand = |id: &str, shopify: &str| {
        format!(
            "[[brands]]\nid = \"{id}\"\nname = \"{id}\"\ntime_zone = \"UTC\"\ncurrency = \"USD\"\n\
             [brands.shopify]\n{shopify}\n"
        )
    };
    let db = format!(
        "[database]\nurl = \"sqlite://{}\"\n",
        dir.join("x.db").display()
    );
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "a secret file with two lines",
            format!("{db}{}", brand("a", &format!("shop_domain = \"a.myshopify.com\"\naccess_token_file = \"{two_lines}\""))),
            "line 10: brands[0].shopify.access_token_file: file",
        ),
        (
            "a secret file every user may read",
            format!("{db}{}", brand("a", &format!("shop_domain = \"a.myshopify.com\"\naccess_token_file = \"{}\"", shared.display()))),
            "line 10: brands[0].shopify.access_token_file: cannot read",
        ),
        (
            "/etc/passwd as a secret",
            format!("{db}{}", brand("a", "shop_domain = \"a.myshopify.com\"\naccess_token_file = \"/etc/passwd\"")),
            "brands[0].shopify.access_token_file: cannot read /etc/passwd: every user of this machine may read it",
        ),
        (
            "a secret with a space",
            format!("{db}{}", brand("a", "shop_domain = \"a.myshopify.com\"\naccess_token_env = \"SPACED\"")),
            "line 10: brands[0].shopify.access_token_env: environment variable SPACED contains spaces",
        ),
        (
            "one shop on two brands",
            format!(
                "{db}{}{}",
                brand("a", &format!("shop_domain = \"one.myshopify.com\"\naccess_token_file = \"{good}\"")),
                brand("b", &format!("shop_domain = \"ONE.myshopify.com\"\naccess_token_file = \"{good}\""))
            ),
            "line 17: brands[1].shopify.shop_domain: \"one.myshopify.com\" is already the shop of brand \"a\"",
        ),
        (
            "a Shopify base_url in clear",
            format!("{db}{}", brand("a", &format!("shop_domain = \"a.myshopify.com\"\naccess_token_file = \"{good}\"\nbase_url = \"http://proxy.example.com\""))),
            "line 11: brands[0].shopify.base_url: plain http to \"proxy.example.com\"",
        ),
        (
            "a Telegram base_url in clear",
            format!("{db}{}[notifiers.telegram]\nbot_token_env = \"TG\"\nchat_id = \"-100\"\nbase_url = \"http://tg.example.com\"\n",
                brand("a", &format!("shop_domain = \"a.myshopify.com\"\naccess_token_file = \"{good}\""))),
            "line 14: notifiers.telegram.base_url: plain http to \"tg.example.com\"",
        ),
        (
            "a Slack webhook in clear",
            format!("{db}{}[notifiers.slack]\nwebhook_url_env = \"SLACK\"\n",
                brand("a", &format!("shop_domain = \"a.myshopify.com\"\naccess_token_file = \"{good}\""))),
            "line 12: notifiers.slack.webhook_url_env: plain http to \"hooks.example.com\"",
        ),
    ];
    let envs = [
        ("SPACED", "shpat_spaced token"),
        ("TG", "123:tg_token_value"),
        (
            "SLACK",
            "http://hooks.example.com/services/T/B/slack_secret_path",
        ),
    ];
    for (what, config, expected) in &cases {
        let path = dir.join("case.toml");
        std::fs::write(&path, config).unwrap();
        let path = path.to_str().unwrap();
        for command in [vec!["check-config", path], vec!["serve", "--config", path]] {
            let out = opsdeck(&command, &envs);
            let command = command[0];
            let err = text(&out.stderr);
            assert!(!out.status.success(), "{command} accepted {what}: {err}");
            assert!(err.contains(expected), "{command}, {what}: {err}");
            for secret in ["shpat_", "slack_secret_path", "tg_token_value", "root:"] {
                assert!(!err.contains(secret), "{command} printed a secret: {err}");
            }
        }
    }
    // A loopback proxy in plain http is fine (the simulator, a local relay).
    let local = format!(
        "{db}{}",
        brand("a", &format!("shop_domain = \"a.myshopify.com\"\naccess_token_file = \"{good}\"\nbase_url = \"http://127.0.0.1:9999\""))
    );
    let path = dir.join("local.toml");
    std::fs::write(&path, local).unwrap();
    let ok = opsdeck(&["check-config", path.to_str().unwrap()], &[]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    let _ = std::fs::remove_dir_all(dir);
}
