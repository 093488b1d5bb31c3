//! Dashboard sessions: a cookie the proxy signs with the secret key of the access key that
//! signed in, so any instance with the same credentials accepts it (no session store).
//!
//! `dg_session=<access key, hex>.<expiry, Unix seconds>.<HMAC-SHA256, hex>`, HttpOnly,
//! SameSite=Strict, path `/_deltaglider/`.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The cookie's name.
pub(crate) const COOKIE: &str = "dg_session";
/// How long a session lasts.
pub(crate) const LIFETIME_SECONDS: u64 = 12 * 3600;

/// The credentials a session may be signed with: (access key, secret key).
pub(crate) type Keys = Vec<(String, String)>;

fn mac(secret: &str, access: &str, expiry: u64) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(format!("deltaglider-dashboard\n{access}\n{expiry}").as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Checks a sign-in: the secret key must be `access`'s (compared in constant time).
pub(crate) fn sign_in(keys: &Keys, access: &str, secret: &str) -> bool {
    keys.iter()
        .any(|(a, s)| a == access && bool::from(s.as_bytes().ct_eq(secret.as_bytes())))
}

/// A new session's cookie value for `access` (which must be in `keys`).
pub(crate) fn issue(keys: &Keys, access: &str) -> Option<String> {
    let secret = &keys.iter().find(|(a, _)| a == access)?.1;
    let expiry = now() + LIFETIME_SECONDS;
    Some(format!(
        "{}.{expiry}.{}",
        hex::encode(access),
        hex::encode(mac(secret, access, expiry))
    ))
}

/// The access key of a valid, unexpired session cookie among `cookies` (a `Cookie`
/// header's value).
pub(crate) fn verify(keys: &Keys, cookies: &str) -> Option<String> {
    let value = cookies.split(';').find_map(|c| {
        let (name, value) = c.trim().split_once('=')?;
        (name == COOKIE).then_some(value)
    })?;
    let mut fields = value.split('.');
    let access = String::from_utf8(hex::decode(fields.next()?).ok()?).ok()?;
    let expiry: u64 = fields.next()?.parse().ok()?;
    let given = hex::decode(fields.next()?).ok()?;
    if fields.next().is_some() || expiry < now() {
        return None;
    }
    let secret = &keys.iter().find(|(a, _)| *a == access)?.1;
    bool::from(mac(secret, &access, expiry).ct_eq(&given)).then_some(access)
}

/// The `Set-Cookie` value for a session (`None`: the cookie cleared).
pub(crate) fn set_cookie(value: Option<&str>) -> String {
    match value {
        Some(v) => format!(
            "{COOKIE}={v}; Path=/_deltaglider/; HttpOnly; SameSite=Strict; Max-Age={LIFETIME_SECONDS}"
        ),
        None => format!("{COOKIE}=; Path=/_deltaglider/; HttpOnly; SameSite=Strict; Max-Age=0"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_verify_only_with_the_right_secret_and_unchanged() {
        let keys: Keys = vec![
            ("AK".into(), "secret".into()),
            ("other".into(), "s2".into()),
        ];
        assert!(sign_in(&keys, "AK", "secret"));
        assert!(!sign_in(&keys, "AK", "s2"));
        assert!(!sign_in(&keys, "nobody", "secret"));
        let cookie = issue(&keys, "AK").expect("issued");
        let header = format!("a=b; {COOKIE}={cookie}");
        assert_eq!(verify(&keys, &header).as_deref(), Some("AK"));
        // Another instance with other secrets refuses it; so does any edit.
        let elsewhere: Keys = vec![("AK".into(), "different".into())];
        assert_eq!(verify(&elsewhere, &header), None);
        let mut forged = cookie.clone().into_bytes();
        let last = forged.len() - 1;
        forged[last] = if forged[last] == b'0' { b'1' } else { b'0' };
        let forged = format!("{COOKIE}={}", String::from_utf8(forged).expect("ASCII"));
        assert_eq!(verify(&keys, &forged), None);
        let renamed = cookie.replacen(&hex::encode("AK"), &hex::encode("other"), 1);
        assert_eq!(verify(&keys, &format!("{COOKIE}={renamed}")), None);
        assert_eq!(verify(&keys, "dg_session=x.y.z"), None);
    }
}
