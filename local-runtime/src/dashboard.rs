//! The operator's dashboard: three static files embedded in the binary and
//! served at `/dashboard/` (the same files go to the stack's dashboard
//! bucket on AWS — `docs/deploy.md`). The page is a client of the API: it
//! signs in with an operator token and calls the routes every operator
//! tool uses.

/// The files: path under `/dashboard/`, content type, body.
pub const FILES: &[(&str, &str, &str)] = &[
    (
        "",
        "text/html; charset=utf-8",
        include_str!("../dashboard/index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../dashboard/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../dashboard/app.css"),
    ),
];

/// What the page may load and call: itself, and an API elsewhere over
/// HTTPS (the dashboard bucket on AWS calls the stack's API).
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; connect-src 'self' https:; img-src 'self' data:; frame-ancestors 'none'";

/// The file at `path` (what follows `/dashboard/`).
pub fn file(path: &str) -> Option<(&'static str, &'static str)> {
    let path = if path == "index.html" { "" } else { path };
    FILES
        .iter()
        .find(|(p, _, _)| *p == path)
        .map(|(_, ty, body)| (*ty, *body))
}
