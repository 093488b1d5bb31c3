//! Where the commands find the S3 endpoint and its keys: the usual AWS settings, as the
//! AWS CLI reads them — flags first, then the environment (`AWS_ENDPOINT_URL`,
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_PROFILE`, …), then the
//! profile in `~/.aws/credentials` and `~/.aws/config` (or `AWS_SHARED_CREDENTIALS_FILE`,
//! `AWS_CONFIG_FILE`).

use std::collections::HashMap;
use std::path::PathBuf;

use crate::config::Upstream;

/// The flags every command takes.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct AwsArgs {
    /// The S3 endpoint, `http(s)://host[:port]` (default: `AWS_ENDPOINT_URL_S3`,
    /// `AWS_ENDPOINT_URL`, the profile's `endpoint_url`, else AWS S3 in the region).
    #[arg(long, global = true)]
    pub(crate) endpoint_url: Option<String>,
    /// The profile of `~/.aws/credentials` and `~/.aws/config` (default: `AWS_PROFILE`,
    /// else `default`).
    #[arg(long, global = true)]
    pub(crate) profile: Option<String>,
    /// The region requests are signed for (default: `AWS_REGION`, `AWS_DEFAULT_REGION`,
    /// the profile's `region`, else us-east-1).
    #[arg(long, global = true)]
    pub(crate) region: Option<String>,
}

/// Reads the environment: the process's, or a test's.
pub(crate) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The endpoint, region and keys `args` and `env` give.
pub(crate) fn resolve(args: &AwsArgs, env: Env<'_>) -> Result<Upstream, String> {
    let profile = args
        .profile
        .clone()
        .or_else(|| env("AWS_PROFILE"))
        .unwrap_or_else(|| "default".to_owned());
    let home = env("HOME").map(PathBuf::from).unwrap_or_default();
    let credentials_file = env("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".aws/credentials"));
    let config_file = env("AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".aws/config"));
    // In `credentials` a section is the profile's name; in `config`, `profile NAME` (and
    // `default` stays `default`).
    let config_section = if profile == "default" {
        profile.clone()
    } else {
        format!("profile {profile}")
    };
    let from_credentials = read_ini(&credentials_file)
        .remove(&profile)
        .unwrap_or_default();
    let from_config = read_ini(&config_file)
        .remove(&config_section)
        .unwrap_or_default();
    let setting = |name: &str| {
        from_credentials
            .get(name)
            .or_else(|| from_config.get(name))
            .cloned()
    };
    let region = args
        .region
        .clone()
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .or_else(|| setting("region"))
        .unwrap_or_else(|| "us-east-1".to_owned());
    let url = args
        .endpoint_url
        .clone()
        .or_else(|| env("AWS_ENDPOINT_URL_S3"))
        .or_else(|| env("AWS_ENDPOINT_URL"))
        .or_else(|| setting("endpoint_url"))
        .unwrap_or_else(|| format!("https://s3.{region}.amazonaws.com"));
    // As the AWS CLI: a profile named on the command line wins over keys in the
    // environment; otherwise the environment wins over the (default or AWS_PROFILE) profile.
    let from_profile = setting("aws_access_key_id").zip(setting("aws_secret_access_key"));
    let from_env = env("AWS_ACCESS_KEY_ID").zip(env("AWS_SECRET_ACCESS_KEY"));
    let keys = if args.profile.is_some() {
        from_profile.or(from_env)
    } else {
        from_env.or(from_profile)
    };
    if env("AWS_SESSION_TOKEN").is_some() || setting("aws_session_token").is_some() {
        return Err(
            "temporary credentials (a session token) are not supported yet: give an access key \
             and secret key"
                .to_owned(),
        );
    }
    let credentials = keys.ok_or_else(|| {
        format!(
            "no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give profile \
             `{profile}` keys in {}",
            credentials_file.display()
        )
    })?;
    Ok(Upstream {
        url: url.trim_end_matches('/').to_owned(),
        region,
        credentials: Some(credentials),
    })
}

/// The sections of an INI file (the AWS CLI's format), keys as written; an unreadable or
/// missing file has none.
fn read_ini(path: &std::path::Path) -> HashMap<String, HashMap<String, String>> {
    std::fs::read_to_string(path)
        .map(|text| parse_ini(&text))
        .unwrap_or_default()
}

fn parse_ini(text: &str) -> HashMap<String, HashMap<String, String>> {
    let mut sections: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.trim().to_owned();
            sections.entry(name.clone()).or_default();
            current = Some(name);
        } else if let (Some(section), Some((key, value))) = (&current, line.split_once('=')) {
            sections
                .entry(section.clone())
                .or_default()
                .insert(key.trim().to_owned(), value.trim().to_owned());
        }
    }
    sections
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn the_environment_then_the_profile() {
        let dir = std::env::temp_dir().join(format!("dg-aws-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let credentials = dir.join("credentials");
        let config = dir.join("config");
        std::fs::write(
            &credentials,
            "[default]\naws_access_key_id = D\naws_secret_access_key = d\n\n[work]\n\
             aws_access_key_id=W\naws_secret_access_key = w # not a comment\n",
        )
        .expect("credentials");
        std::fs::write(
            &config,
            "# comment\n[profile work]\nregion = eu-west-3\nendpoint_url = http://127.0.0.1:9000/\n",
        )
        .expect("config");
        let (c, f) = (credentials.to_string_lossy(), config.to_string_lossy());
        let files = [
            ("AWS_SHARED_CREDENTIALS_FILE", &*c),
            ("AWS_CONFIG_FILE", &*f),
        ];
        let default = resolve(&AwsArgs::default(), &env_of(&files)).expect("default");
        assert_eq!(default.credentials, Some(("D".into(), "d".into())));
        assert_eq!(default.url, "https://s3.us-east-1.amazonaws.com");
        let args = AwsArgs {
            profile: Some("work".into()),
            ..AwsArgs::default()
        };
        let work = resolve(&args, &env_of(&files)).expect("work");
        assert_eq!(work.url, "http://127.0.0.1:9000");
        assert_eq!(work.region, "eu-west-3");
        assert_eq!(
            work.credentials,
            Some(("W".into(), "w # not a comment".into()))
        );
        let mut with_env = files.to_vec();
        with_env.extend([
            ("AWS_ACCESS_KEY_ID", "E"),
            ("AWS_SECRET_ACCESS_KEY", "e"),
            ("AWS_ENDPOINT_URL", "http://localhost:1"),
            ("AWS_REGION", "ap-south-1"),
        ]);
        let env = resolve(&args, &env_of(&with_env)).expect("env");
        // --profile names the keys; the environment still gives endpoint and region.
        assert_eq!(
            env.credentials,
            Some(("W".into(), "w # not a comment".into()))
        );
        let unnamed = resolve(&AwsArgs::default(), &env_of(&with_env)).expect("unnamed");
        assert_eq!(unnamed.credentials, Some(("E".into(), "e".into())));
        assert_eq!(
            (env.url.as_str(), env.region.as_str()),
            ("http://localhost:1", "ap-south-1")
        );
        let none = [
            ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"),
            ("AWS_CONFIG_FILE", "/x"),
        ];
        assert!(resolve(&AwsArgs::default(), &env_of(&none)).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
