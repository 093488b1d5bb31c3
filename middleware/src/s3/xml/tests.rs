use super::*;

#[test]
fn reads_what_substring_search_missed() {
    // Namespace prefixes, CDATA, entities, character references, comments splitting the
    // text, whitespace and attributes: all the same key.
    let docs: [&[u8]; 5] = [
        b"<Delete><Object><Key>a&amp;b</Key></Object></Delete>",
        b"<?xml version=\"1.0\"?>\n<s3:Delete xmlns:s3=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
          <s3:Object><s3:Key>a&amp;b</s3:Key></s3:Object></s3:Delete>",
        b"<Delete><Object><Key><![CDATA[a&b]]></Key></Object></Delete>",
        b"<Delete><Object><Key>a&#x26;<!-- note -->b</Key></Object></Delete>",
        b"<Delete>\n  <!-- <Key>x</Key> -->\n  <Object id=\"1\">\n    <Key>a&#38;b</Key>\n  </Object>\n</Delete>\n",
    ];
    for doc in docs {
        let request = parse_delete(doc).unwrap_or_else(|e| panic!("{e}: {doc:?}"));
        assert_eq!(request.objects.len(), 1, "{doc:?}");
        assert_eq!(request.objects[0].key, "a&b", "{doc:?}");
    }
}

#[test]
fn delete_requests() {
    let ok = parse_delete(
        b"<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>\
          <Object><Key>a &amp; b.zip</Key></Object>\
          <Object><Key>c</Key><VersionId>1</VersionId><ETag>\"e\"</ETag></Object></Delete>",
    )
    .expect("valid");
    assert_eq!(ok.objects.len(), 2);
    assert_eq!(ok.objects[0].key, "a & b.zip");
    assert_eq!(ok.objects[1].version_id.as_deref(), Some("1"));
    assert_eq!(ok.objects[1].etag.as_deref(), Some("\"e\""));
    assert!(ok.quiet);
    let many = format!(
        "<Delete>{}</Delete>",
        "<Object><Key>k</Key></Object>".repeat(MAX_DELETE_OBJECTS + 1)
    );
    for bad in [
        &b"<Delete><Object><Key>a</Key></Object>"[..],
        b"<Other><Object><Key>a</Key></Object></Other>",
        b"<Delete></Delete>",
        b"<Delete/>",
        b"<Delete><Object></Object></Delete>",
        b"<Delete><Object><Key></Key></Object></Delete>",
        b"<Delete><Object><Key>a</Key><Key>b</Key></Object></Delete>",
        b"<Delete><Quiet>yes</Quiet><Object><Key>a</Key></Object></Delete>",
        b"<Delete><Object><Key>a</Key></Object></Delete><Delete/>",
        b"<Delete><Object><Key>a</Key></Object></Delete>trailing",
        b"<Delete><Object><Key>a</Object></Key></Delete>",
        b"<Delete><Object><Key>a &bogus; b</Key></Object></Delete>",
        b"<!DOCTYPE d [<!ENTITY x \"y\">]><Delete><Object><Key>&x;</Key></Object></Delete>",
        b"<Delete><Object><Key>\xff</Key></Object></Delete>",
        b"<Delete><Object><Key>a\0b</Key></Object></Delete>",
        b"<Delete><Object><Key><![CDATA[a\0b]]></Key></Object></Delete>",
        b"not xml <",
        b"",
        many.as_bytes(),
    ] {
        assert!(
            parse_delete(bad).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    let deep = format!(
        "{}{}",
        "<a>".repeat(MAX_DEPTH + 1),
        "</a>".repeat(MAX_DEPTH + 1)
    );
    assert!(elements(deep.as_bytes()).is_err());
}

#[test]
fn complete_requests() {
    let parts = parse_complete(
        b"<CompleteMultipartUpload><Part><ETag>\"e1\"</ETag><PartNumber>1</PartNumber></Part>\
          <Part><PartNumber> 2 </PartNumber><ETag>&quot;e2&quot;</ETag></Part></CompleteMultipartUpload>",
    )
    .expect("valid");
    assert_eq!(
        parts,
        [
            CompletedPart {
                number: 1,
                etag: "e1".into()
            },
            CompletedPart {
                number: 2,
                etag: "e2".into()
            }
        ]
    );
    for bad in [
        &b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>"[..],
        b"<CompleteMultipartUpload><Part><ETag>e</ETag></Part></CompleteMultipartUpload>",
        b"<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>",
        b"<CompleteMultipartUpload><Part><PartNumber>10001</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>",
        b"<Complete><Part><PartNumber>1</PartNumber><ETag>e</ETag></Part></Complete>",
    ] {
        assert!(
            parse_complete(bad).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn backend_answers() {
    assert_eq!(
        parse_completion(
            b"<?xml version=\"1.0\"?><CompleteMultipartUploadResult><Location>l</Location>\
              <Bucket>b</Bucket><Key>k</Key><ETag>&#34;abc-2&#34;</ETag></CompleteMultipartUploadResult>"
        ),
        Ok(Completion::Completed {
            etag: "abc-2".into()
        })
    );
    // A key or location that mentions <ETag> or <Error> is text, not structure.
    assert_eq!(
        parse_completion(
            b"<CompleteMultipartUploadResult><Key>&lt;Error&gt;&lt;ETag&gt;x</Key>\
              <ETag>\"real\"</ETag></CompleteMultipartUploadResult>"
        ),
        Ok(Completion::Completed {
            etag: "real".into()
        })
    );
    assert_eq!(
        parse_completion(b"<Error><Code>InvalidPart</Code><Message>m</Message></Error>"),
        Ok(Completion::Failed {
            code: "InvalidPart".into()
        })
    );
    assert!(parse_completion(b"<CompleteMultipartUploadResult/>").is_err());
    assert_eq!(
        error_code(b"<Error>\n <Code><![CDATA[NoSuchKey]]></Code></Error>").as_deref(),
        Some("NoSuchKey")
    );
    assert_eq!(error_code(b"<Other><Code>x</Code></Other>"), None);
    assert_eq!(error_code(b"<Error><Code>x</Code>"), None);
}

#[test]
fn escaping_round_trips() {
    let texts = [
        "plain",
        "a & b < c > d \"e\" 'f'",
        "tab\tnew\nline\rreturn",
        "\u{1}\u{8}\u{1f}control",
        "ünïcödé ✓ \u{7f}",
    ];
    for text in texts {
        let doc = format!("<Error><Code>{}</Code></Error>", escape(text));
        assert_eq!(
            error_code(doc.as_bytes()).as_deref(),
            Some(text.trim()),
            "{doc}"
        );
        let elements = elements(doc.as_bytes()).expect("escaped text parses");
        assert_eq!(elements[0].text, text, "{doc}");
    }
    assert_eq!(escape("\r\u{1}"), "&#xD;&#x1;");
}
