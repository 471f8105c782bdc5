import Foundation
import Hummingbird
import NIOCore
import RegistryStore

/// Server-rendered pages: every stored string goes through ``escape(_:)``; charts are inline SVG
/// (their labels escaped by FuseboxCharts); one embedded style sheet, no script but the sort links.
enum HTML {
    /// `&`, `<`, `>`, `"` and `'` as entities: safe in text and in quoted attributes.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    /// A path segment or query value, percent-encoded (then escaped for the attribute).
    static func component(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// A link; `href` is built from ``component(_:)`` parts, `text` is escaped here.
    static func link(_ href: String, _ text: String) -> String {
        "<a href=\"\(escape(href))\">\(escape(text))</a>"
    }

    /// A table; `cells` are HTML already (escape stored strings first). Wide tables scroll
    /// sideways on a phone instead of widening the page.
    static func table(_ headers: [String], _ rows: [[String]], id: String? = nil) -> String {
        let head = headers.map { "<th>\($0)</th>" }.joined()
        let body = rows.map { "<tr>" + $0.map { "<td>\($0)</td>" }.joined() + "</tr>" }.joined(separator: "\n")
        let identifier = id.map { " id=\"\($0)\"" } ?? ""
        return rows.isEmpty
            ? "<p class=\"empty\">None yet.</p>"
            : "<div class=\"scroll\"><table\(identifier)><thead><tr>\(head)</tr></thead><tbody>\n\(body)\n</tbody></table></div>"
    }

    /// A whole page: the navigation, who is signed in, and `body`.
    static func page(
        _ title: String,
        _ body: String,
        token: TokenInfo?,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        let who =
            token.map {
                "<form method=\"post\" action=\"/logout\" class=\"who\">\(escape($0.name)) (\($0.scope.rawValue)) <button>Sign out</button></form>"
            } ?? ""
        let text = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title)) · Fusebox</title><link rel="stylesheet" href="/ui.css"></head>
            <body><header><nav><a class="brand" href="/">Fusebox</a> <a href="/">Models</a> <a href="/runs">Runs</a></nav>\(who)</header>
            <main>
            \(body)
            </main></body></html>
            """
        return Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }
}
