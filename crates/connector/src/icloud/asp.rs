//! The app-specific password format (docs/icloud.md §4.2): 16 lowercase letters in four hyphenated groups.
//! Not documented by Apple, so it is normalised and warned about, never hard-blocked.

/// Normalises what a person pasted: trims, lowercases, and re-inserts hyphens into 16 bare letters.
/// Anything else is returned trimmed and otherwise unchanged.
pub fn normalize(input: &str) -> String {
    let t = input.trim();
    let lower = t.to_ascii_lowercase();
    let letters: String = lower.chars().filter(|c| *c != '-' && *c != ' ').collect();
    if letters.len() == 16 && letters.chars().all(|c| c.is_ascii_lowercase()) {
        let b = letters.as_bytes();
        // Cannot fail: 16 ASCII letters split at ASCII boundaries.
        let part = |i: usize| String::from_utf8_lossy(&b[i * 4..i * 4 + 4]).into_owned();
        return format!("{}-{}-{}-{}", part(0), part(1), part(2), part(3));
    }
    t.to_owned()
}

/// Whether `server_url` is Apple's (icloud.com, icloud.com.cn, apple.com): only there is a password
/// that lacks the app-specific shape worth a warning. Radicale, Xandikos or a company server take the
/// account's own password.
pub fn is_apple_server(server_url: &str) -> bool {
    let Ok(u) = url::Url::parse(server_url) else {
        return false;
    };
    let host = u
        .host_str()
        .unwrap_or("")
        .trim_end_matches('.')
        .to_ascii_lowercase();
    ["icloud.com", "icloud.com.cn", "apple.com"]
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
}

/// The password to send to `server_url`: tidied with [`normalize`] for Apple's servers and for a
/// server on this computer (the built-in simulator that plays iCloud in the demo and the tests);
/// anything else — a Radicale, Xandikos or company server elsewhere — gets it exactly as typed, since
/// its password may well be 16 letters with capitals or spaces.
pub fn for_server(server_url: &str, input: &str) -> String {
    let local = url::Url::parse(server_url).is_ok_and(|u| match u.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    });
    if is_apple_server(server_url) || local {
        normalize(input)
    } else {
        input.to_owned()
    }
}

/// Whether the (normalised) secret has the `abcd-efgh-ijkl-mnop` shape.
pub fn looks_like_asp(secret: &str) -> bool {
    let b = secret.as_bytes();
    b.len() == 19
        && b.iter().enumerate().all(|(i, c)| {
            if i % 5 == 4 {
                *c == b'-'
            } else {
                c.is_ascii_lowercase()
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_apple_servers_are_apple_servers() {
        assert!(is_apple_server("https://caldav.icloud.com/"));
        assert!(is_apple_server("https://p62-caldav.icloud.com:443/1/"));
        assert!(is_apple_server("https://caldav.icloud.com.cn/"));
        assert!(!is_apple_server("https://icloud.com.evil.net/"));
        // Tidied for Apple and the simulator on this computer; elsewhere exactly as typed.
        let typed = "Wxyz Abcd Efgh Ijkl";
        assert_eq!(
            for_server("https://caldav.icloud.com/", typed),
            "wxyz-abcd-efgh-ijkl"
        );
        assert_eq!(
            for_server("http://127.0.0.1:8080/", typed),
            "wxyz-abcd-efgh-ijkl"
        );
        assert_eq!(for_server("https://dav.example.org/", typed), typed);
        assert_eq!(
            for_server("https://radicale.home.arpa:5232/", " pw "),
            " pw "
        );
        assert!(!is_apple_server("http://127.0.0.1:5232/"));
        assert!(!is_apple_server("https://dav.example.org/"));
    }

    #[test]
    fn icloud_4_2_bare_letters_get_hyphens_and_lowercase() {
        assert_eq!(normalize("  ABCDefghIJKLmnop \n"), "abcd-efgh-ijkl-mnop");
        assert_eq!(normalize("abcd-efgh-ijkl-mnop"), "abcd-efgh-ijkl-mnop");
        assert_eq!(normalize("abcd efgh ijkl mnop"), "abcd-efgh-ijkl-mnop");
        assert!(looks_like_asp(&normalize("ABCD-EFGH-IJKL-MNOP")));
    }

    #[test]
    fn icloud_4_2_other_secrets_are_kept_and_flagged() {
        assert_eq!(normalize(" My-Apple-ID-Passw0rd "), "My-Apple-ID-Passw0rd");
        assert!(!looks_like_asp("My-Apple-ID-Passw0rd"));
        assert!(!looks_like_asp("abcd-efgh-ijkl-mno1"));
    }
}
