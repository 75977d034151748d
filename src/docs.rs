//! The interactive API documentation at `/docs/`: Swagger UI, served from the binary (it works
//! with no internet), set up so the operations appear soon after the page is opened.
//!
//! `utoipa_swagger_ui` only supplies the files. The page is its own, because the stock page:
//! - asked for the OpenAPI document only once the 1.4 MB bundle had been fetched and run;
//!   this one preloads it, so both download together;
//! - loaded the standalone preset (230 kB more to compile) for a top bar with a URL box;
//! - sent no cache validators, so every visit fetched and compiled the bundle again; here every
//!   file has an `ETag`, and the page names the bundle and the style sheet by their content
//!   hash, so the browser keeps them (and V8 the compiled bundle) until the binary changes;
//! - showed a blank page until the bundle ran (a script that blocks the parser); this one says
//!   what is loading, and its scripts run deferred, in order, once the page is parsed;
//! - drew a padlock on every operation, including those anonymous callers may use (their
//!   security is optional: `[{}, {"bearer_token": []}]`); see `swagger-initializer.js` below;
//! - would show the online validator's badge when served on another host than localhost, a
//!   request to validator.swagger.io from a page meant to work offline.
use std::{collections::HashMap, sync::OnceLock};

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// The Swagger UI files the page uses, taken as they are from `utoipa_swagger_ui`.
const VENDORED: [&str; 4] = ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "favicon-16x16.png"];

/// Where the page finds the document (the same one `/api/v1/openapi.json` serves).
const DOCUMENT_URL: &str = "/api/v1/openapi.json";

/// The set-up script. Swagger UI draws its padlock on every operation whose security is not a
/// lone `{}`; operations that also accept anonymous callers (a `{}` among their requirements)
/// are drawn without one, so the padlock marks exactly the operations that need a token. A
/// token set with Authorize is still sent to them: requests follow the document's requirements.
const INITIALIZER: &str = r##"// perfeval's Swagger UI set-up (src/docs.rs).
"use strict";
const anonymousOperationsHaveNoPadlock = () => ({
  wrapComponents: {
    OperationSummary: (Original, system) => (props) => {
      const security = props.operationProps.get("security");
      const optional = security && security.some((requirement) => requirement.isEmpty());
      const operationProps = optional ? props.operationProps.set("security", security.clear()) : props.operationProps;
      return system.React.createElement(Original, Object.assign({}, props, { operationProps }));
    },
  },
});
window.ui = SwaggerUIBundle({
  url: "DOCUMENT_URL",
  dom_id: "#swagger-ui",
  deepLinking: true,
  layout: "BaseLayout",
  validatorUrl: "none",
  presets: [SwaggerUIBundle.presets.apis],
  plugins: [SwaggerUIBundle.plugins.DownloadUrl, anonymousOperationsHaveNoPadlock],
});
"##;

/// The page. Swagger UI replaces the content of `#swagger-ui` once it has rendered.
const INDEX: &str = r##"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>perfeval API</title>
<link rel="preload" href="DOCUMENT_URL" as="fetch" crossorigin="anonymous">
<link rel="stylesheet" href="swagger-ui.css?v=CSS_HASH">
<link rel="icon" type="image/png" href="favicon-32x32.png" sizes="32x32">
<link rel="icon" type="image/png" href="favicon-16x16.png" sizes="16x16">
</head>
<body>
<div id="swagger-ui"><p style="font-family: sans-serif; margin: 2em">perfeval API documentation: loading Swagger UI and <a href="DOCUMENT_URL">the OpenAPI document</a>…</p></div>
<script src="swagger-ui-bundle.js?v=BUNDLE_HASH" charset="UTF-8" defer></script>
<script src="swagger-initializer.js?v=INITIALIZER_HASH" charset="UTF-8" defer></script>
</body>
</html>
"##;

/// A file of the page, held in memory with its validator.
struct Asset {
    body: web::Bytes,
    content_type: String,
    /// Hex of the first 8 bytes of the SHA-256 of `body`: the `ETag` and the `v` the page asks for.
    hash: String,
}

impl Asset {
    fn new(body: Vec<u8>, content_type: impl Into<String>) -> Self {
        let digest = Sha256::digest(&body);
        let hash = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        Self { body: body.into(), content_type: content_type.into(), hash }
    }
}

fn assets() -> &'static HashMap<&'static str, Asset> {
    static ASSETS: OnceLock<HashMap<&'static str, Asset>> = OnceLock::new();
    ASSETS.get_or_init(|| {
        let config = std::sync::Arc::new(utoipa_swagger_ui::Config::from(DOCUMENT_URL));
        let mut assets = HashMap::new();
        for name in VENDORED {
            let file = utoipa_swagger_ui::serve(name, config.clone())
                .ok()
                .flatten()
                .unwrap_or_else(|| panic!("utoipa-swagger-ui ships {name}"));
            assets.insert(name, Asset::new(file.bytes.into_owned(), file.content_type));
        }
        let initializer = Asset::new(
            INITIALIZER.replace("DOCUMENT_URL", DOCUMENT_URL).into_bytes(),
            "text/javascript; charset=utf-8",
        );
        let index = INDEX
            .replace("DOCUMENT_URL", DOCUMENT_URL)
            .replace("CSS_HASH", &assets["swagger-ui.css"].hash)
            .replace("BUNDLE_HASH", &assets["swagger-ui-bundle.js"].hash)
            .replace("INITIALIZER_HASH", &initializer.hash);
        assets.insert("swagger-initializer.js", initializer);
        assets.insert("index.html", Asset::new(index.into_bytes(), "text/html; charset=utf-8"));
        assets
    })
}

/// Registers `/docs/…` (and `/docs`, which redirects to `/docs/`).
pub fn configure(config: &mut web::ServiceConfig) {
    // Read the files once at start, not on the first visit.
    assets();
    config
        .service(web::resource("/docs/{file:.*}").route(web::get().to(file)).route(web::head().to(file)))
        .service(web::redirect("/docs", "/docs/"));
}

/// One file of the page. Asked for with its current hash (`?v=…`, as the page does), it may be
/// kept for a year; otherwise the browser revalidates it with `If-None-Match` on every visit.
async fn file(req: HttpRequest, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let name = match path.as_str() {
        "" => "index.html",
        other => other,
    };
    let asset = assets().get(name).ok_or_else(|| ApiError::not_found(format!("no file {name} in /docs/")))?;
    let etag = format!("\"{}\"", asset.hash);
    let versioned = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .is_ok_and(|query| query.get("v") == Some(&asset.hash));
    let cache_control = if versioned { "public, max-age=31536000, immutable" } else { "no-cache" };
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|tag| tag.trim().trim_start_matches("W/") == etag));
    let mut response = if matches { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response.insert_header((header::ETAG, etag)).insert_header((header::CACHE_CONTROL, cache_control));
    if matches {
        return Ok(response.finish());
    }
    Ok(response.content_type(asset.content_type.as_str()).body(asset.body.clone()))
}
