//! The deployment files against the code: probe paths answer, every `MKOPO_*` variable they set is a
//! real setting (together they make a valid production configuration), ports agree, and the image's
//! entrypoint is the real binary with a real subcommand.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use mkopo::config::{load_from, ConfigSource, Environment};
use serde::Deserialize;
use serde_json::Value;

use crate::helpers::TestApp;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every YAML document of a file, as JSON values.
fn documents(path: &str) -> Vec<Value> {
    let text = read(path);
    serde_norway::Deserializer::from_str(&text)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{path}: {e}")))
        .collect()
}

fn kind<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    docs.iter().find(|d| d["kind"] == kind).unwrap_or_else(|| panic!("no {kind}"))
}

fn string_map(value: &Value) -> HashMap<String, String> {
    value
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned))).collect())
        .unwrap_or_default()
}

fn container(deployment: &Value) -> &Value {
    &deployment["spec"]["template"]["spec"]["containers"][0]
}

/// The `ENV` assignments of the Dockerfile's last stage.
fn dockerfile_env() -> HashMap<String, String> {
    let text = read("deploy/Dockerfile");
    let last = text.rsplit("\nFROM ").next().unwrap_or_default();
    let joined = last.replace("\\\n", " ");
    joined
        .lines()
        .filter_map(|l| l.trim().strip_prefix("ENV "))
        .flat_map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .filter_map(|pair| pair.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect()
}

fn source(env: HashMap<String, String>) -> ConfigSource {
    // The repository's config directory stands in for the image's /etc/mkopo/config.
    let env = env.into_iter().filter(|(k, _)| k != "MKOPO_CONFIG_DIR").collect();
    ConfigSource { dir: Some(root().join("config")), env }
}

#[test]
fn the_kubernetes_settings_and_secret_make_a_valid_production_configuration() {
    let docs = [documents("deploy/k8s/configmap.yaml"), documents("deploy/k8s/secret.yaml")].concat();
    let deployment = kind(&documents("deploy/k8s/deployment.yaml"), "Deployment").clone();
    let mut env = string_map(&kind(&docs, "ConfigMap")["data"]);
    env.extend(string_map(&kind(&docs, "Secret")["stringData"]));
    for var in container(&deployment)["env"].as_array().unwrap() {
        env.insert(var["name"].as_str().unwrap().to_owned(), var["value"].as_str().unwrap().to_owned());
    }
    env.extend(dockerfile_env());
    assert!(env.keys().all(|k| k.starts_with("MKOPO_")), "{env:?}");
    let settings = load_from(&source(env)).unwrap_or_else(|e| panic!("the deployment's settings are refused: {e}"));
    assert_eq!(settings.environment, Environment::Production);
    assert!(settings.ussd.dialects["africastalking"].enabled);
    assert_eq!(settings.ussd.menus_dir, "/etc/mkopo/menus");
    assert_eq!(deployment["spec"]["template"]["spec"]["enableServiceLinks"], false, "no service-link variables");
}

#[test]
fn the_compose_file_names_only_real_settings_and_a_durable_redis() {
    let compose = &documents("deploy/docker-compose.yml")[0];
    let env = string_map(&compose["services"]["mkopo"]["environment"]);
    let settings = load_from(&source(env)).unwrap_or_else(|e| panic!("compose's settings are refused: {e}"));
    assert_eq!(settings.redis.key_prefix, "mkopo");
    let redis = compose["services"]["redis"]["command"].to_string();
    assert!(redis.contains("--appendonly") && redis.contains("yes"), "Redis must keep an append-only file: {redis}");
    assert_eq!(
        compose["services"]["mkopo"]["ports"][0],
        format!("${{MKOPO_HOST_PORT:-{0}}}:{0}", settings.server.port)
    );
}

#[tokio::test]
async fn the_probes_ask_real_routes_on_the_served_port() {
    let deployment = kind(&documents("deploy/k8s/deployment.yaml"), "Deployment").clone();
    let c = container(&deployment);
    let port = c["ports"][0]["containerPort"].as_u64().unwrap();
    let defaults = mkopo::config::Settings::local_defaults();
    assert_eq!(port, u64::from(defaults.server.port), "containerPort is server.port");
    assert!(read("deploy/Dockerfile").contains(&format!("EXPOSE {port}")));
    let app = TestApp::spawn().await;
    for probe in ["readinessProbe", "livenessProbe"] {
        let path = c[probe]["httpGet"]["path"].as_str().unwrap_or_else(|| panic!("{probe} has no path"));
        assert_eq!(c[probe]["httpGet"]["port"], "http", "{probe} uses the named port");
        let status = reqwest::get(format!("{}{path}", app.base)).await.unwrap().status();
        assert_eq!(status, 200, "{probe} {path}");
    }
    let grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"].as_u64().unwrap();
    let production = load_from(&source(HashMap::from([("MKOPO_ENVIRONMENT".to_owned(), "production".to_owned())])));
    let shutdown = match production {
        Ok(s) => s.server.shutdown_timeout,
        Err(_) => humantime::parse_duration("25s").unwrap(),
    };
    assert!(grace > shutdown.as_secs(), "the grace period outlasts server.shutdown_timeout");
}

#[test]
fn the_image_entrypoint_is_the_real_binary_with_a_real_subcommand() {
    let dockerfile = read("deploy/Dockerfile");
    assert!(dockerfile.contains("ENTRYPOINT [\"/usr/local/bin/mkopo\"]"), "{dockerfile}");
    assert!(dockerfile.contains("COPY --from=build /src/target/release/mkopo /usr/local/bin/mkopo"));
    assert!(dockerfile.contains("cargo build --release --locked --bin mkopo"));
    assert!(dockerfile.contains("USER 10001"), "the image runs as a non-root user");
    let deployment = kind(&documents("deploy/k8s/deployment.yaml"), "Deployment").clone();
    let mut subcommands = vec!["serve".to_owned()];
    subcommands
        .extend(container(&deployment)["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_owned()));
    for sub in subcommands {
        let out =
            std::process::Command::new(env!("CARGO_BIN_EXE_mkopo")).args([sub.as_str(), "--help"]).output().unwrap();
        assert!(out.status.success(), "mkopo {sub} --help: {}", String::from_utf8_lossy(&out.stderr));
    }
    assert!(Path::new(&root().join("menus/menu.toml")).exists() && dockerfile.contains("COPY menus /etc/mkopo/menus"));
}
