//! Phone links: `tel:`, `callto:` and `sip:` URIs as browsers and desktops hand them over.

/// The number in a `tel:`, `callto:` or `sip:` URI (the user part of a SIP URI), or `None`
/// when the text is not such a link.
pub fn number_from_uri(uri: &str) -> Option<String> {
    let uri = uri.trim();
    let (scheme, rest) = uri.split_once(':')?;
    let rest = match scheme.to_ascii_lowercase().as_str() {
        "tel" | "callto" => rest.trim_start_matches("//"),
        "sip" | "sips" => rest.split_once('@').map_or(rest, |(user, _)| user),
        _ => return None,
    };
    let number = rest.split([';', '?']).next().unwrap_or_default();
    let decoded = percent_decode(number);
    let decoded = decoded.trim();
    (!decoded.is_empty()).then(|| decoded.to_owned())
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::number_from_uri;

    #[test]
    fn reads_phone_links() {
        assert_eq!(
            number_from_uri("tel:+7-977-422-13-38").as_deref(),
            Some("+7-977-422-13-38")
        );
        assert_eq!(
            number_from_uri("tel:%2B79774221338;ext=200").as_deref(),
            Some("+79774221338")
        );
        assert_eq!(
            number_from_uri("callto://+74953009080").as_deref(),
            Some("+74953009080")
        );
        assert_eq!(number_from_uri("CALLTO:200").as_deref(), Some("200"));
        assert_eq!(
            number_from_uri("sip:+79774221338@pbx.example;user=phone").as_deref(),
            Some("+79774221338")
        );
        assert_eq!(number_from_uri("https://example.org"), None);
        assert_eq!(number_from_uri("tel:"), None);
        assert_eq!(number_from_uri("+79774221338"), None);
        assert_eq!(number_from_uri("tel:%2").as_deref(), Some("%2"));
    }
}
