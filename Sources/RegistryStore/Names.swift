/// Rules for the names users give: models, aliases, tag and param keys, metric keys.
public enum Names {
    /// Model and alias names: 1–128 characters from letters, digits, `.`, `_`, `-`, starting with a
    /// letter or digit. Aliases `latest` and all-digit names are reserved (they read as references).
    public static func validate(_ name: String, as what: String) throws {
        let scalars = Array(name.unicodeScalars)
        let allowed = { (s: Unicode.Scalar) in
            ("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s) || s == "." || s == "_"
                || s == "-"
        }
        guard (1...128).contains(scalars.count), scalars.allSatisfy(allowed), let first = scalars.first, first != ".",
            first != "_", first != "-"
        else {
            throw RegistryError(
                .invalidInput,
                "\(what) '\(printable(name))' is not valid: use 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit."
            )
        }
    }

    /// Alias names: as ``validate(_:as:)``, and not `latest` nor a number.
    public static func validateAlias(_ name: String) throws {
        try validate(name, as: "Alias")
        guard name != "latest", Int(name) == nil else {
            throw RegistryError(
                .invalidInput,
                "Alias '\(name)' is reserved: 'latest' and numbers already mean versions."
            )
        }
    }

    /// Keys of tags, params and metrics: 1–250 characters, no NUL and no control characters.
    /// Values may hold any text except NUL.
    public static func validateKey(_ key: String, as what: String) throws {
        guard (1...250).contains(key.unicodeScalars.count), !key.unicodeScalars.contains(where: { $0.value < 0x20 })
        else {
            throw RegistryError(
                .invalidInput,
                "\(what) key '\(printable(key))' is not valid: use 1 to 250 printable characters."
            )
        }
    }

    /// Refuses a param or tag value that cannot be stored faithfully (one with a NUL character); `what` names it in the message.
    public static func validateValue(_ value: String, as what: String) throws {
        guard !value.unicodeScalars.contains("\u{0}") else {
            throw RegistryError(.invalidInput, "\(what) value '\(printable(value))' contains a NUL character.")
        }
    }

    /// The name with control characters escaped, for error messages.
    static func printable(_ s: String) -> String {
        String(
            String.UnicodeScalarView(
                s.unicodeScalars.prefix(160).flatMap {
                    $0.value < 0x20 ? Array("\\u{\(String($0.value, radix: 16))}".unicodeScalars) : [$0]
                }
            )
        )
    }
}

/// A reference to a model version: `MODEL@3`, `MODEL@production`, `MODEL@latest`, or `MODEL` (= latest).
public struct VersionReference: Sendable, Hashable, CustomStringConvertible {
    /// Which version of the model a reference means.
    public enum Selector: Sendable, Hashable {
        /// A version number, from 1 (`MODEL@3`).
        case number(Int)
        /// The version an alias points at when the reference is resolved (`MODEL@production`).
        case alias(String)
        /// The newest live version (`MODEL@latest` or `MODEL`).
        case latest
    }

    /// The model's name.
    public let model: String
    /// Which of its versions.
    public let selector: Selector

    /// Creates a reference; the names are not validated (`init(parsing:)` validates them).
    public init(model: String, selector: Selector) {
        self.model = model
        self.selector = selector
    }

    /// Parses a reference; the model and alias names are validated.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        try Names.validate(parts[0], as: "Model name")
        model = parts[0]
        guard parts.count == 2 else {
            selector = .latest
            return
        }
        let tail = parts[1]
        if tail == "latest" {
            selector = .latest
        } else if let n = Int(tail) {
            guard n >= 1 else {
                throw RegistryError(.invalidInput, "Version numbers start at 1; '\(text)' is not a version.")
            }
            selector = .number(n)
        } else {
            try Names.validate(tail, as: "Alias")
            selector = .alias(tail)
        }
    }

    /// The reference as it is written: `MODEL@3`, `MODEL@production`, `MODEL@latest`.
    public var description: String {
        switch selector {
        case .number(let n): "\(model)@\(n)"
        case .alias(let a): "\(model)@\(a)"
        case .latest: "\(model)@latest"
        }
    }
}
