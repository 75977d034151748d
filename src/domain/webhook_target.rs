//! Where a webhook may send: the operator's allow-list, checked when an endpoint is registered
//! and before every attempt, so the service cannot be made to reach an address nobody named.

/// Why a URL may not be a webhook target.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("not an absolute http or https URL")]
    Malformed,
    #[error("a URL with a user name or password is not accepted")]
    Credentials,
    #[error("host {0} is not in PERFEVAL_WEBHOOK_ALLOW (the hosts webhooks may reach{1})")]
    NotAllowed(String, &'static str),
}

/// Checks a target against the allow-list (`host` or `host:port` entries, any case), so the
/// service cannot be made to reach an address its operator did not name.
pub fn check_target(url: &str, allow: &[String]) -> Result<reqwest::Url, TargetError> {
    let parsed = reqwest::Url::parse(url).map_err(|_| TargetError::Malformed)?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(TargetError::Malformed);
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(TargetError::Credentials);
    }
    let host = parsed.host_str().ok_or(TargetError::Malformed)?.to_ascii_lowercase();
    let port = parsed.port_or_known_default().ok_or(TargetError::Malformed)?;
    let allowed = allow.iter().any(|entry| {
        let entry = entry.trim().to_ascii_lowercase();
        match entry.rsplit_once(':').filter(|(_, p)| p.parse::<u16>().is_ok()) {
            Some((entry_host, entry_port)) => entry_host == host && entry_port.parse() == Ok(port),
            None => entry == host,
        }
    });
    if allowed {
        Ok(parsed)
    } else {
        let hint = if allow.is_empty() { "; it is empty, so no webhook can be registered" } else { "" };
        Err(TargetError::NotAllowed(format!("{host}:{port}"), hint))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_must_be_on_the_allow_list() {
        let allow = vec!["127.0.0.1:9000".to_owned(), "Hooks.Example.org".to_owned()];
        assert!(check_target("http://127.0.0.1:9000/hook", &allow).is_ok());
        assert!(check_target("https://hooks.example.org/x", &allow).is_ok());
        assert!(check_target("http://hooks.example.org:8443/x", &allow).is_ok(), "a bare host allows any port");
        assert!(matches!(check_target("http://127.0.0.1:9001/hook", &allow), Err(TargetError::NotAllowed(..))));
        assert!(matches!(check_target("http://169.254.169.254/latest", &allow), Err(TargetError::NotAllowed(..))));
        assert!(matches!(check_target("http://localhost:9000/", &allow), Err(TargetError::NotAllowed(..))));
        assert_eq!(check_target("ftp://127.0.0.1:9000/", &allow), Err(TargetError::Malformed));
        assert_eq!(check_target("not a url", &allow), Err(TargetError::Malformed));
        assert_eq!(check_target("http://u:p@127.0.0.1:9000/", &allow), Err(TargetError::Credentials));
        assert!(matches!(check_target("http://127.0.0.1:9000/", &[]), Err(TargetError::NotAllowed(..))));
    }
}
