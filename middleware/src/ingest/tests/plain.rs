//! Unsigned bodies: the head checks as a table, bodies decoded and verified through the
//! service in both modes (read whole, streamed with the end held back).

use super::support::*;

#[test]
fn every_trailer_algorithm_is_checked_and_passed_on() {
    let payload = b"hello world";
    for limit in LIMITS {
        for algorithm in ALGORITHMS {
            let name = format!("x-amz-checksum-{algorithm}");
            let good = compute(algorithm, payload).expect("known");
            let body = framed(&[b"hello", b" world"], &[(&name, &good)]);
            let r = sdk_cpp_put(11, Some(&name))
                .body(pieces(&body, &[3, 9]))
                .expect("request");
            let outcome = send(limit, r);
            let seen = outcome.assert_passed(payload);
            assert_eq!(seen.headers["content-length"], "11");
            for gone in [
                "transfer-encoding",
                "x-amz-trailer",
                "x-amz-decoded-content-length",
            ] {
                assert!(!seen.headers.contains_key(gone), "{gone}");
            }
            assert!(!seen.headers.contains_key("content-encoding"));
            // Read whole: a header; streamed: a trailers frame.
            let passed_on = match limit {
                0 => seen.trailers.as_ref().expect("trailers frame")[&name].clone(),
                _ => seen.headers[&name].clone(),
            };
            assert_eq!(passed_on, good.as_str());

            let bad = compute(algorithm, b"hello worle").expect("known");
            let body = framed(&[b"hello", b" world"], &[(&name, &bad)]);
            let r = sdk_cpp_put(11, Some(&name))
                .body(pieces(&body, &[]))
                .expect("request");
            let outcome = send(limit, r);
            if limit == 0 {
                // Streamed: the inner service read an error in place of the last bytes.
                assert_eq!(outcome.code.as_deref(), Some("BadDigest"), "{outcome:?}");
                let seen = outcome.seen.as_ref().expect("inner called");
                assert!(
                    seen.data.len() < payload.len(),
                    "{algorithm}: all data was sent"
                );
                assert!(
                    seen.end
                        .as_deref()
                        .is_some_and(|e| e.starts_with("BadDigest"))
                );
            } else {
                outcome.assert_refused("BadDigest", 400);
            }
        }
    }
}

#[test]
fn a_trailer_announced_but_missing_or_unannounced_is_refused() {
    let body = framed(&[b"hello"], &[]);
    let r = sdk_cpp_put(5, Some("x-amz-checksum-crc64nvme"))
        .body(pieces(&body, &[]))
        .expect("request");
    send(1 << 20, r).assert_refused("IncompleteBody", 400);
    let crc = compute("crc32", b"hello").expect("known");
    let body = framed(&[b"hello"], &[("x-amz-checksum-crc32", &crc)]);
    let r = sdk_cpp_put(5, None)
        .body(pieces(&body, &[]))
        .expect("request");
    send(1 << 20, r).assert_refused("IncompleteBody", 400);
}

#[test]
fn plain_bodies_are_checked_against_every_header() {
    let md5 = |data: &[u8]| {
        let mut hasher = deltaglider_codec::Md5::new();
        hasher.update(data);
        crate::s3::content_md5::base64_encode(hasher.finish().as_bytes())
    };
    let sha = |data: &[u8]| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(data));
    let xml = b"<Delete><Object><Key>a</Key></Object></Delete>";
    let cases: Vec<(&str, &str, String, &str)> = vec![
        ("content-md5", "POST", md5(b"other"), "BadDigest"),
        ("content-md5", "PUT", md5(b"other"), "BadDigest"),
        ("content-md5", "PUT", "not-an-md5".into(), "InvalidDigest"),
        (
            "x-amz-content-sha256",
            "POST",
            sha(b"other"),
            "XAmzContentSHA256Mismatch",
        ),
        (
            "x-amz-checksum-crc32c",
            "PUT",
            compute("crc32c", b"x").expect("known"),
            "BadDigest",
        ),
    ];
    for limit in LIMITS {
        for (name, method, value, code) in &cases {
            let r = Request::builder()
                .method(*method)
                .uri("/bucket?delete")
                .header("content-length", xml.len())
                .header(*name, value)
                .body(pieces(xml, &[10]))
                .expect("request");
            let outcome = send(limit, r);
            assert_eq!(
                outcome.code.as_deref(),
                Some(*code),
                "{name} {limit}: {outcome:?}"
            );
            if let Some(seen) = &outcome.seen {
                assert!(
                    seen.data.len() < xml.len() && seen.end.is_some(),
                    "{seen:?}"
                );
            }
        }
        let r = Request::post("/bucket?delete")
            .header("content-length", xml.len())
            .header("content-md5", md5(xml))
            .header("x-amz-content-sha256", sha(xml))
            .body(pieces(xml, &[10]))
            .expect("request");
        let outcome = send(limit, r);
        assert_eq!(
            outcome.assert_passed(xml).headers["x-amz-content-sha256"],
            sha(xml)
        );
    }
}

#[test]
fn bodies_longer_or_shorter_than_declared_are_incomplete() {
    for limit in LIMITS {
        for (declared, body) in [(4, &b"hello"[..]), (6, b"hello")] {
            let r = Request::put("/bucket/key")
                .header("content-length", declared)
                .body(pieces(body, &[2]))
                .expect("request");
            let outcome = send(limit, r);
            assert_eq!(
                outcome.code.as_deref(),
                Some("IncompleteBody"),
                "{outcome:?}"
            );
            if let Some(seen) = &outcome.seen {
                assert!((seen.data.len() as u64) < declared, "{seen:?}");
            }
        }
    }
}

#[test]
fn bad_heads_are_refused_before_the_body() {
    let put = || Request::put("/bucket/key.txt");
    let checksum = compute("crc32", b"hello").expect("known");
    let cases = [
        (
            put()
                .header("content-length", "5")
                .header("transfer-encoding", "chunked"),
            "InvalidRequest",
            400,
        ),
        (
            put()
                .header("content-length", "5")
                .header("x-amz-checksum-crc32", checksum.as_str())
                .header("x-amz-checksum-sha1", "AAAA"),
            "InvalidRequest",
            400,
        ),
        (
            put()
                .header("content-length", "5")
                .header("x-amz-checksum-crc32", checksum.as_str())
                .header("x-amz-checksum-crc32", checksum.as_str()),
            "InvalidRequest",
            400,
        ),
        (
            put()
                .header("content-length", "5")
                .header("x-amz-trailer", "x-amz-checksum-crc32"),
            "InvalidRequest",
            400,
        ),
        (
            sdk_cpp_put(5, Some("x-amz-checksum-crc32")).header("x-amz-checksum-sha256", "AAAA"),
            "InvalidRequest",
            400,
        ),
        (
            sdk_cpp_put(5, Some("x-amz-checksum-md5")),
            "InvalidArgument",
            400,
        ),
        (
            put()
                .header("content-length", "5")
                .header("x-amz-meta-big", "m".repeat(3000)),
            "MetadataTooLarge",
            400,
        ),
        (
            put().header("content-encoding", "aws-chunked"),
            "MissingContentLength",
            411,
        ),
        (put(), "MissingContentLength", 411),
        (
            put()
                .header("content-length", "5")
                .header("x-amz-content-sha256", "nope"),
            "InvalidArgument",
            400,
        ),
    ];
    for (builder, code, status) in cases {
        // A body of unknown length, as over HTTP chunked transfer.
        let r = builder.body(pieces(b"hello", &[1])).expect("request");
        send(1 << 20, r).assert_refused(code, status);
    }
}

#[test]
fn the_streamed_end_is_held_back_until_verified() {
    // A backend that has read Content-Length bytes considers the upload complete: it must
    // never get there before the checks passed.
    let payload = vec![7u8; 100_000];
    let good = compute("sha256", &payload).expect("known");
    let chunks: Vec<&[u8]> = payload.chunks(8192).collect();
    let name = "x-amz-checksum-sha256";
    let body = framed(&chunks, &[(name, "AAAA")]);
    let r = sdk_cpp_put(payload.len(), Some(name))
        .body(pieces(&body, &[100, 5000, 50_000]))
        .expect("request");
    let outcome = send(0, r);
    assert_eq!(outcome.code.as_deref(), Some("BadDigest"));
    let seen = outcome.seen.expect("inner called");
    assert!(seen.data.len() < payload.len() && seen.end.is_some());
    let body = framed(&chunks, &[(name, &good)]);
    let r = sdk_cpp_put(payload.len(), Some(name))
        .body(pieces(&body, &[100, 5000, 50_000]))
        .expect("request");
    send(0, r).assert_passed(&payload);
}
