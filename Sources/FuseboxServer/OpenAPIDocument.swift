/// The OpenAPI 3.1 description of the API: `openapi.json` in this folder, embedded at build time
/// (a test checks that it names every route the router serves, and nothing else).
enum OpenAPIDocument {
    static let json = EmbeddedText.files["openapi.json"] ?? "{}"
}
