//! The README's configuration table stays in step with `config/base.toml`.

fn leaf_keys(prefix: &str, table: &toml::Table, out: &mut Vec<String>) {
    for (key, value) in table {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        match value {
            // Per-number scorecards are examples of one documented map, not keys of their own.
            toml::Value::Table(_) if path == "sandbox.lms.scorecards" => out.push(path),
            toml::Value::Table(inner) => leaf_keys(&path, inner, out),
            _ => out.push(path),
        }
    }
}

#[test]
fn every_key_of_base_toml_is_in_the_readme_table() {
    let root = env!("CARGO_MANIFEST_DIR");
    let base: toml::Table = std::fs::read_to_string(format!("{root}/config/base.toml")).unwrap().parse().unwrap();
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let rows: Vec<&str> = readme.lines().filter(|l| l.starts_with("| `")).collect();
    let mut keys = Vec::new();
    leaf_keys("", &base, &mut keys);
    assert!(keys.len() > 20, "found only {keys:?}");
    let missing: Vec<&String> = keys
        .iter()
        .filter(|key| {
            let (section, leaf) = key.rsplit_once('.').unwrap();
            !rows.iter().any(|row| {
                let words: Vec<&str> = row.split(|c: char| !(c.is_alphanumeric() || c == '_')).collect();
                row.contains(key.as_str()) || (row.contains(&format!("`{section}.")) && words.contains(&leaf))
            })
        })
        .collect();
    assert!(missing.is_empty(), "README.md's configuration table lacks {missing:?}");
}
