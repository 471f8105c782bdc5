import Foundation
import Hummingbird
import RegistryStore

/// Signing in to the web UI: `GET /login` shows the form, `POST /login` checks the token and sets
/// it as an HttpOnly, SameSite=Strict session cookie (which ``TokenAuthenticator`` honours for
/// reading only, so a page from elsewhere can never write with it); `POST /logout` clears it.
struct SessionRoutes {
    let registry: Registry
    static let cookie = "fusebox_session"

    func add(to router: Router<ServerContext>) {
        router.get("login") { request, _ in Self.form(next: request.query("next"), problem: nil) }
        router.post("login") { request, _ in
            let form = try await Self.formFields(request)
            let next = Self.safeNext(form["next"])
            guard let token = form["token"], try await registry.authenticate(token: token) != nil else {
                return Self.form(next: next, problem: "That token is unknown or revoked.", status: .unauthorized)
            }
            var response = Response(status: .seeOther, headers: [.location: next])
            response.setCookie(
                try .validated(name: Self.cookie, value: token, path: "/", httpOnly: true, sameSite: .strict)
            )
            return response
        }
        router.post("logout") { _, _ in
            var response = Response(status: .seeOther, headers: [.location: "/login"])
            response.setCookie(
                try .validated(name: Self.cookie, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .strict)
            )
            return response
        }
        router.get("ui.css") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=3600"],
                body: .init(byteBuffer: .init(string: EmbeddedText.files["ui.css"] ?? ""))
            )
        }
    }

    /// A local path to return to after signing in (anything else goes home).
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//") else { return "/" }
        return next
    }

    static func form(next: String?, problem: String?, status: HTTPResponse.Status = .ok) -> Response {
        HTML.page(
            "Sign in",
            """
            <div class="login"><h1>Sign in</h1>
            <p>Paste a token (<code>fusebox token create NAME --scope read</code>). Pages need only the read scope.</p>
            \(problem.map { "<p class=\"error\" id=\"login-error\">\(HTML.escape($0))</p>" } ?? "")
            <form method="post" action="/login">
            <input type="hidden" name="next" value="\(HTML.escape(safeNext(next)))">
            <input type="password" name="token" id="token" autocomplete="off" placeholder="fbx_…" aria-label="token" required>
            <input type="submit" id="sign-in" value="Sign in"></form></div>
            """,
            token: nil,
            status: status
        )
    }

    /// The fields of an `application/x-www-form-urlencoded` body (at most 16 KiB).
    static func formFields(_ request: Request) async throws -> [String: String] {
        let buffer = try await request.body.collect(upTo: 16 << 10)
        var fields: [String: String] = [:]
        for pair in String(buffer: buffer).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        return fields
    }
}
