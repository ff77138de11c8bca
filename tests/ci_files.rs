//! The CI pipelines in `packaging/ci/`: they parse as YAML, every keapack command they run exists
//! with the flags they pass, the matrix they build is `keapack targets --json`, and a build job's
//! script runs to completion here for this host's own target on the bundled example, its output
//! passing the publish job's checks.

mod common;
use common::*;
use serde_norway::Value as Yaml;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn ci_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/ci")
}

fn yaml(name: &str) -> Yaml {
    let path = ci_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()))
}

fn script() -> String {
    std::fs::read_to_string(ci_dir().join("keapack-ci.sh")).unwrap()
}

/// The CI script run as a job would run it, with this build's keapack.
fn ci(dir: &Path) -> Command {
    require("jq", "jq");
    require("sha256sum", "coreutils");
    let mut c = Command::new("sh");
    c.current_dir(dir).env("KEAPACK", env!("CARGO_BIN_EXE_keapack")).env_remove("KEAPACK_MANIFEST");
    c
}

fn targets_json(args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&stdout(keapack().args(["targets", "--json"]).args(args))).unwrap()
}

/// Every `run:` of a GitHub job's steps, in order.
fn github_runs(job: &str) -> Vec<String> {
    let wf = yaml("github-workflow.yml");
    wf["jobs"][job]["steps"].as_sequence().unwrap().iter().filter_map(|s| s["run"].as_str().map(str::to_string)).collect()
}

/// Every script line of a GitLab job (template).
fn gitlab_script(file: &str, job: &str) -> Vec<String> {
    yaml(file)[job]["script"].as_sequence().unwrap_or_else(|| panic!("{file}: {job} has no script")).iter().map(|l| l.as_str().unwrap().to_string()).collect()
}

#[test]
fn the_pipelines_parse_as_yaml_and_have_their_jobs() {
    let wf = yaml("github-workflow.yml");
    let jobs = wf["jobs"].as_mapping().unwrap();
    assert_eq!(jobs.keys().map(|k| k.as_str().unwrap()).collect::<Vec<_>>(), ["plan", "build", "publish"]);
    assert_eq!(wf["jobs"]["build"]["strategy"]["matrix"]["env"].as_str(), Some("${{ fromJSON(needs.plan.outputs.environments) }}"));
    assert_eq!(wf["jobs"]["build"]["container"].as_str(), Some("${{ matrix.env['container-image'] }}"));
    assert_eq!(wf["jobs"]["publish"]["needs"].as_str(), Some("build"));
    let plan = wf["jobs"]["plan"]["steps"].as_sequence().unwrap();
    let matrix_step = plan.iter().find(|s| s["id"].as_str() == Some("matrix")).expect("the plan job's matrix step");
    assert!(matrix_step["run"].as_str().unwrap().contains("packaging/ci/keapack-ci.sh matrix"));
    // The build cache (with ccache inside) kept per environment.
    let build_steps = wf["jobs"]["build"]["steps"].as_sequence().unwrap();
    assert!(build_steps.iter().any(|s| s["with"]["path"].as_str() == Some(".cache/keapack")), "{build_steps:?}");

    let gl = yaml("gitlab-ci.yml");
    assert_eq!(gl["keapack packages"]["trigger"]["include"][0]["artifact"].as_str(), Some("keapack-pipeline.yml"));
    assert!(gitlab_script("gitlab-ci.yml", "keapack plan").iter().any(|l| l.contains("keapack-ci.sh gitlab-pipeline > keapack-pipeline.yml")));
    let jobs = yaml("gitlab-jobs.yml");
    assert_eq!(jobs[".keapack-build"]["cache"][0]["paths"][0].as_str(), Some(".cache/keapack"));
    assert_eq!(jobs[".keapack-build"]["variables"]["XDG_CACHE_HOME"].as_str(), Some("$CI_PROJECT_DIR/.cache"));
    assert!(gitlab_script("gitlab-jobs.yml", ".keapack-publish").iter().any(|l| l.contains("verify ci-out/*/")));
}

/// The keapack commands the CI script runs: (function, subcommand, flags). A command's flags are
/// those on its line (before `--`) and those its function adds with `set -- "$@" --flag`.
fn keapack_commands() -> Vec<(String, String, BTreeSet<String>)> {
    let text = script();
    let mut found = Vec::new();
    let mut func = String::new();
    let mut added: BTreeSet<String> = BTreeSet::new();
    let mut pending: Vec<(String, String, BTreeSet<String>)> = Vec::new();
    let flags = |s: &str| -> BTreeSet<String> {
        s.split(|c: char| c.is_whitespace() || c == '"').filter(|w| w.starts_with("--") && w.len() > 2 && w[2..].chars().all(|c| c.is_ascii_lowercase() || c == '-')).map(str::to_string).collect()
    };
    for line in text.lines() {
        let l = line.trim();
        if let Some(name) = l.strip_suffix("() {") {
            func = name.to_string();
            added.clear();
            continue;
        }
        if l == "}" {
            for (f, sub, mut fl) in pending.drain(..) {
                fl.extend(added.iter().cloned());
                found.push((f, sub, fl));
            }
            continue;
        }
        if l.starts_with("set -- ") {
            added.extend(flags(l));
        }
        for bin in ["\"$bin\" ", "\"$(keapack_bin)\" ", "\"$KEAPACK\" "] {
            if let Some(pos) = l.find(bin) {
                let rest = &l[pos + bin.len()..];
                let rest = rest.split(" -- ").next().unwrap();
                let sub = rest.split_whitespace().next().unwrap().to_string();
                pending.push((func.clone(), sub, flags(rest)));
            }
        }
    }
    found
}

#[test]
fn every_keapack_command_the_pipelines_run_exists_with_those_flags() {
    let commands = keapack_commands();
    let subs: BTreeSet<&str> = commands.iter().map(|(_, s, _)| s.as_str()).collect();
    assert_eq!(subs, ["--version", "build", "publish", "targets", "verify"].into_iter().collect(), "{commands:?}");
    // The publish job's check loads every package into its Kea before anything is signed.
    assert!(commands.iter().any(|(f, s, _)| f == "load_check" && s == "verify"), "{commands:?}");
    let build = commands.iter().find(|(f, s, _)| f == "build" && s == "build").unwrap();
    for f in ["--message-format", "--install-deps", "--kea", "--premium", "--out", "--work", "--target", "--manifest"] {
        assert!(build.2.contains(f), "the build job passes {f}: {build:?}");
    }
    for (func, sub, flags) in &commands {
        if sub == "--version" {
            assert!(keapack().arg("--version").output().unwrap().status.success());
            continue;
        }
        let out = keapack().args([sub.as_str(), "--help"]).output().unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "keapack {sub} --help (run by {func}):\n{}", String::from_utf8_lossy(&out.stderr));
        for f in flags {
            assert!(help.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).any(|w| w == f), "keapack {sub} has no {f} (run by the CI script's {func}):\n{help}");
        }
    }
    // Every keapack-ci.sh command the YAML files run is one the script has.
    let mut lines: Vec<String> = ["plan", "build", "publish"].iter().flat_map(|j| github_runs(j)).collect();
    lines.extend(gitlab_script("gitlab-ci.yml", "keapack plan"));
    lines.extend(gitlab_script("gitlab-jobs.yml", ".keapack-build"));
    lines.extend(gitlab_script("gitlab-jobs.yml", ".keapack-publish"));
    let known = ["setup", "matrix", "gitlab-pipeline", "build", "verify", "publish"];
    let mut used = 0;
    for l in lines.iter().flat_map(|l| l.lines()) {
        if let Some((_, rest)) = l.split_once("packaging/ci/keapack-ci.sh ") {
            let cmd = rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).next().unwrap();
            assert!(known.contains(&cmd) && script().contains(&format!("    {cmd})")), "{l}");
            used += 1;
        }
    }
    assert!(used >= 10, "{lines:?}");
}

#[test]
fn the_matrix_they_build_is_keapack_targets_json() {
    let tmp = tempfile::tempdir().unwrap();
    let all = targets_json(&[]);
    let matrix: serde_json::Value = serde_json::from_str(&stdout(ci(Path::new(env!("CARGO_MANIFEST_DIR"))).args(["packaging/ci/keapack-ci.sh", "matrix"]))).unwrap();
    assert_eq!(matrix, all["environments"]);
    assert_eq!(matrix.as_array().unwrap().len(), all["targets"].as_array().unwrap().len(), "one environment per release and machine");

    // With a manifest: its targets.
    let manifest = tmp.path().join("keapack.toml");
    std::fs::write(&manifest, "targets = [\"debian-12-amd64\", \"rhel-9-x86_64\", \"ubuntu-24.04-arm64\"]\n").unwrap();
    let out = stdout(ci(Path::new(env!("CARGO_MANIFEST_DIR"))).args(["packaging/ci/keapack-ci.sh", "matrix"]).env("KEAPACK_MANIFEST", &manifest));
    let matrix: serde_json::Value = serde_json::from_str(&out).unwrap();
    let listed = targets_json(&["--manifest", manifest.to_str().unwrap()]);
    assert_eq!(matrix, listed["environments"]);
    let names: Vec<&str> = matrix.as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["debian-12-x86_64", "rhel-9-x86_64", "ubuntu-24.04-aarch64"]);

    // GitLab's child pipeline, read as YAML as GitLab reads it: one job per environment.
    let text = stdout(ci(Path::new(env!("CARGO_MANIFEST_DIR"))).args(["packaging/ci/keapack-ci.sh", "gitlab-pipeline"]).env("KEAPACK_MANIFEST", &manifest));
    let child: Yaml = serde_norway::from_str(&text).unwrap();
    let include = child["include"][0]["local"].as_str().unwrap();
    assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join(include).is_file(), "{include}");
    let mut jobs = BTreeSet::new();
    for env in matrix.as_array().unwrap() {
        let name = format!("build {}", env["name"].as_str().unwrap());
        let job = &child[name.as_str()];
        assert_eq!(job["extends"].as_str(), Some(".keapack-build"), "{name}");
        assert_eq!(job["image"].as_str(), env["container-image"].as_str());
        assert_eq!(job["variables"]["KEAPACK_TARGETS"].as_str(), env["targets"].as_str());
        assert_eq!(job["variables"]["KEAPACK_ENV"].as_str(), env["name"].as_str());
        let arch = if env["machine"] == "aarch64" { "arm64" } else { "amd64" };
        assert_eq!(job["tags"][0].as_str(), Some(format!("saas-linux-small-{arch}").as_str()));
        jobs.insert(name);
    }
    let needs: BTreeSet<String> = child["publish"]["needs"].as_sequence().unwrap().iter().map(|n| n["job"].as_str().unwrap().to_string()).collect();
    assert_eq!(needs, jobs);
    assert_eq!(child.as_mapping().unwrap().len(), jobs.len() + 2, "include, the build jobs, publish");
}

/// This host's environment in the listing: its release and machine.
fn host_environment() -> serde_json::Value {
    let os = std::fs::read_to_string("/etc/os-release").unwrap();
    let field = |k: &str| os.lines().find_map(|l| l.strip_prefix(k)).unwrap().trim_matches('"').to_string();
    let (id, version) = (field("ID="), field("VERSION_ID="));
    let all = targets_json(&[]);
    all["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["os-id"] == id.as_str() && e["os-version-id"] == version.as_str() && e["machine"] == std::env::consts::ARCH)
        .unwrap_or_else(|| panic!("no environment for this host ({id} {version} {})", std::env::consts::ARCH))
        .clone()
}

/// Run one job's script lines in `dir` (a job's checkout: `packaging` links to this one) with
/// the job's variables, each line as the CI runs it (`sh -e -c`).
fn run_job(dir: &Path, lines: &[String], vars: &[(&str, &str)]) {
    for l in lines {
        let out = run(ci(dir).args(["-e", "-c", l]).envs(vars.iter().copied()));
        assert!(out.status.success(), "`{l}` failed:\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
#[ignore = "slow: builds the example as a CI build job"]
fn a_build_job_runs_to_completion_for_this_hosts_target_and_passes_the_publish_checks() {
    require_build_tools();
    let env = host_environment();
    let (name, targets) = (env["name"].as_str().unwrap(), env["targets"].as_str().unwrap());
    let tmp = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cache = tmp.path().join("cache");
    let (kea, premium) = (examples().join("kea-2.2.0"), examples().join("kea-premium-2.2.0"));
    let manifest = root.join("packaging/example-manifest.toml");
    for (ci_name, lines) in [("github", github_runs("build")), ("gitlab", gitlab_script("gitlab-jobs.yml", ".keapack-build"))] {
        let job = tmp.path().join(ci_name);
        std::fs::create_dir_all(&job).unwrap();
        std::os::unix::fs::symlink(root.join("packaging"), job.join("packaging")).unwrap();
        let vars = [
            ("KEAPACK_ENV", name),
            ("KEAPACK_TARGETS", targets),
            ("KEAPACK_KEA", kea.to_str().unwrap()),
            ("KEAPACK_PREMIUM", premium.to_str().unwrap()),
            ("KEAPACK_MANIFEST", manifest.to_str().unwrap()),
            ("XDG_CACHE_HOME", cache.to_str().unwrap()),
            ("SOURCE_DATE_EPOCH", "1700000000"),
        ];
        run_job(&job, &lines, &vars);
        let out = job.join("ci-out").join(name);
        // The events: the last says the run succeeded, and every output it wrote is announced.
        let events: Vec<serde_json::Value> = std::fs::read_to_string(job.join("ci-out").join(format!("{name}.events.jsonl"))).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let last = events.last().unwrap();
        assert_eq!((last["event"].as_str(), last["status"].as_str(), last["version"].as_u64()), (Some("run-finished"), Some("success"), Some(1)), "{last}");
        let mut announced: Vec<String> = events.iter().filter(|e| e["event"] == "output-written").map(|e| e["path"].as_str().unwrap().to_string()).collect();
        // Every output, not the hidden lock a run holds while it publishes (.keapack-out.lock).
        let mut files: Vec<String> =
            std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.')).map(|p| p.display().to_string()).collect();
        announced.sort();
        files.sort();
        assert_eq!(announced, files);
        assert!(files.iter().any(|f| f.ends_with("+deb12_amd64.deb")), "{files:?}");

        // The publish job's checks pass on it, and refuse it once a package is changed.
        let verify: Vec<String> = gitlab_script("gitlab-jobs.yml", ".keapack-publish").into_iter().filter(|l| l.contains(" verify ")).collect();
        run_job(&job, &verify, &[("XDG_CACHE_HOME", cache.to_str().unwrap())]);
        // ... which load the packages into the Kea they are for (keapack verify, as root here).
        let loaded: Vec<serde_json::Value> = std::fs::read_to_string(job.join("ci-out/verify.events.jsonl")).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let deb_verified = loaded.iter().find(|e| e["event"] == "load-verified" && e["target"].as_str().is_some_and(|t| t.ends_with("-amd64"))).expect("a load-verified event for the .deb");
        assert_eq!(deb_verified["verified"], true, "{deb_verified:#}");
        let deb = files.iter().find(|f| f.ends_with(".deb")).unwrap();
        let mut bytes = std::fs::read(deb).unwrap();
        bytes.push(0);
        std::fs::write(deb, bytes).unwrap();
        let refused = run(ci(&job).args(["-e", "-c", &verify[0]]));
        assert!(!refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("does not match its SHA256SUMS"), "{}", String::from_utf8_lossy(&refused.stderr));
    }
    // Both jobs shared one build cache: the second reused the first's build.
    assert!(std::fs::read_dir(cache.join("keapack/builds")).unwrap().count() >= 1);
}
