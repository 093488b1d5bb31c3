//! The payload pipeline of one body: the `aws-chunked` decoder (when the body is framed)
//! feeding the [`Verifier`], whether the body is read whole or streamed.

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue};
use http_body::Body;

use super::decoder::Decoder;
use super::errors::{incomplete, missing_length};
use super::plan::Plan;
use super::verify::Verifier;
use crate::body::BoxError;
use crate::s3::error::S3Error;

/// A verified trailer checksum: algorithm (`crc32`, …) and base64 value.
pub(crate) type TrailerChecksum = (&'static str, String);

/// Decodes and verifies one body, fed its frames.
#[derive(Debug)]
pub(crate) struct Engine {
    decoder: Option<Decoder>,
    /// Input of a plain body not yet handed out.
    plain: Option<Bytes>,
    verifier: Verifier,
}

impl Engine {
    pub(crate) fn new(plan: Plan) -> Self {
        Self {
            decoder: plan.chunked.map(Decoder::new),
            plain: None,
            verifier: plan.verifier,
        }
    }

    /// The payload length the request declared.
    pub(crate) fn declared(&self) -> Option<u64> {
        self.verifier.declared
    }

    /// Payload bytes handed out so far.
    pub(crate) fn received(&self) -> u64 {
        self.verifier.received()
    }

    /// Gives the engine the next data frame (once [`next`](Self::next) gave `None`).
    pub(crate) fn push(&mut self, input: Bytes) {
        match &mut self.decoder {
            Some(decoder) => decoder.push(input),
            None => self.plain = Some(input),
        }
    }

    /// The next payload slice of the input pushed, checked on the way; `None` once the
    /// input is used up.
    pub(crate) fn next(&mut self) -> Result<Option<Bytes>, S3Error> {
        let data = match &mut self.decoder {
            Some(decoder) => decoder.next_data()?,
            None => self.plain.take(),
        };
        if let Some(data) = &data {
            self.verifier.update(data)?;
        }
        Ok(data)
    }

    /// Runs the final checks once the body has ended.
    pub(crate) fn finish(&mut self) -> Result<Option<TrailerChecksum>, S3Error> {
        let trailers = match &mut self.decoder {
            Some(decoder) => decoder.finish()?,
            None => Vec::new(),
        };
        self.verifier.finish(&trailers)
    }

    /// Reads and checks the whole body, up to `limit` payload bytes when the request did
    /// not declare its length (411 `MissingContentLength` beyond).
    pub(crate) async fn read_all<B>(
        mut self,
        body: B,
        limit: u64,
    ) -> Result<(Bytes, Option<TrailerChecksum>), S3Error>
    where
        B: Body<Data = Bytes>,
        B::Error: Into<BoxError>,
    {
        use http_body_util::BodyExt;
        let mut body = std::pin::pin!(body);
        let capacity = self.declared().unwrap_or(0).min(limit);
        let mut out = BytesMut::with_capacity(usize::try_from(capacity).unwrap_or(0));
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| read_failed(e.into()))?;
            let Ok(data) = frame.into_data() else {
                // HTTP trailers are not S3's: its trailers travel inside aws-chunked.
                continue;
            };
            self.push(data);
            while let Some(data) = self.next()? {
                out.extend_from_slice(&data);
            }
            if self.declared().is_none() && self.received() > limit {
                return Err(missing_length());
            }
        }
        let checksum = self.finish()?;
        Ok((out.freeze(), checksum))
    }
}

/// 400 `IncompleteBody` for a body that could not be read to its end.
pub(crate) fn read_failed(error: BoxError) -> S3Error {
    incomplete(format!("reading the body failed: {error}"))
}

/// A verified trailer checksum as the `x-amz-checksum-<alg>` header or trailer.
pub(crate) fn checksum_headers(checksum: &TrailerChecksum) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let (algorithm, value) = checksum;
    if let (Ok(name), Ok(value)) = (
        HeaderName::from_bytes(format!("x-amz-checksum-{algorithm}").as_bytes()),
        HeaderValue::from_str(value),
    ) {
        headers.insert(name, value);
    }
    headers
}
